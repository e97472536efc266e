"""The control API under ``/_control/``: build the world, post by hand, read the ledger, set faults."""

import json
from collections.abc import Callable
from typing import Any

from sandbox.http import Request
from sandbox.ok import OkError
from sandbox.telegram import TgError
from sandbox.vk import VkError
from sandbox.world import World


class ControlError(Exception):
    def __init__(self, detail: str, status: int = 400) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


def _body(request: Request) -> dict[str, Any]:
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except ValueError:
        raise ControlError("the body must be JSON") from None
    if not isinstance(data, dict):
        raise ControlError("the body must be a JSON object")
    return data


class Control:
    def __init__(self, world_factory: Callable[[], World], state: dict[str, Any]) -> None:
        self.world_factory = world_factory
        self.state = state  # {"world": World, "dirty": bool}
        self.routes: dict[tuple[str, str], Callable[[World, dict[str, Any], Request], Any]] = {
            ("GET", "health"): lambda w, b, r: {"ok": True},
            ("GET", "world"): lambda w, b, r: w.dump(),
            ("POST", "world"): self.load_world,
            ("POST", "reset"): self.reset,
            ("GET", "ledger"): lambda w, b, r: {"entries": w.ledger.query(r.query)},
            ("GET", "faults"): lambda w, b, r: w.faults.describe(),
            ("POST", "faults"): self.set_faults,
            ("DELETE", "faults"): self.clear_faults,
            ("POST", "revoke"): self.revoke,
            ("POST", "vk/users"): lambda w, b, r: w.vk.add_user(b),
            ("POST", "vk/groups"): lambda w, b, r: w.vk.add_group(b),
            ("POST", "vk/tokens"): lambda w, b, r: w.vk.add_token(b),
            ("POST", "vk/admins"): lambda w, b, r: w.vk.set_admin(
                abs(int(b["group_id"])), int(b["user_id"]), b.get("role", "administrator")
            ),
            ("POST", "vk/posts"): self.vk_post,
            ("POST", "vk/posts/edit"): lambda w, b, r: w.vk._public(
                w.vk.edit(
                    int(b["owner_id"]),
                    int(b["post_id"]),
                    b.get("text", ""),
                    b.get("attachments", ""),
                    None,
                    "manual",
                )
            ),
            ("POST", "vk/posts/delete"): lambda w, b, r: (
                w.vk.delete(int(b["owner_id"]), int(b["post_id"]), None, "manual") or {"ok": True}
            ),
            ("GET", "telegram/polls"): lambda w, b, r: {str(k): v for k, v in w.telegram.polling.items()},
            ("POST", "telegram/bots"): lambda w, b, r: w.telegram.add_bot(b),
            ("POST", "telegram/users"): lambda w, b, r: w.telegram.add_user(b),
            ("POST", "telegram/channels"): lambda w, b, r: w.telegram.add_channel(b),
            ("POST", "telegram/admins"): self.telegram_admin,
            ("POST", "telegram/posts"): lambda w, b, r: w.telegram.publish_by_hand(b),
            ("POST", "telegram/posts/edit"): lambda w, b, r: w.telegram.edit_by_hand(b),
            ("POST", "telegram/posts/delete"): self.telegram_delete,
            ("POST", "ok/apps"): lambda w, b, r: w.ok.add_app(b),
            ("POST", "ok/users"): lambda w, b, r: w.ok.add_user(b),
            ("POST", "ok/tokens"): lambda w, b, r: w.ok.add_token(b),
            ("POST", "ok/groups"): lambda w, b, r: w.ok.add_group(b),
            ("POST", "ok/admins"): lambda w, b, r: w.ok.set_admin(
                str(b["gid"]), str(b["uid"]), bool(b.get("admin", True))
            ),
            ("POST", "ok/topics"): self.ok_topic,
            ("POST", "ok/topics/delete"): lambda w, b, r: (
                w.ok.delete(str(b["gid"]), str(b["topic_id"]), None, "manual") or {"ok": True}
            ),
        }

    def handle(self, method: str, route: str, request: Request) -> tuple[int, Any]:
        handler = self.routes.get((method, route.strip("/")))
        if handler is None:
            return 404, {"error": "not_found", "detail": f"no control route {method} /_control/{route}"}
        world: World = self.state["world"]
        try:
            result = handler(world, _body(request), request)
        except ControlError as error:
            return error.status, {"error": "bad_request", "detail": error.detail}
        except (KeyError, ValueError, TypeError) as error:
            return 400, {"error": "bad_request", "detail": str(error)}
        except VkError as error:
            return 400, {"error": "vk_error", "detail": error.message, "error_code": error.code}
        except TgError as error:
            return 400, {"error": "telegram_error", "detail": error.description}
        except OkError as error:
            return 400, {"error": "ok_error", "detail": error.message, "error_code": error.code}
        if method != "GET":
            self.state["dirty"] = True
        return 200, result

    def load_world(self, world: World, body: dict[str, Any], request: Request) -> Any:
        world.load(body)
        return {"ok": True}

    def reset(self, world: World, body: dict[str, Any], request: Request) -> Any:
        fresh = self.world_factory()
        if body.get("world"):
            fresh.load(body["world"])
        self.state["world"] = fresh
        return {"ok": True}

    def set_faults(self, world: World, body: dict[str, Any], request: Request) -> Any:
        network = body.pop("network", None)
        if network not in ("vk", "telegram", "ok"):
            raise ControlError("network must be vk, telegram or ok")
        token = body.pop("token", None)
        return world.faults.set(network, token, body)

    def clear_faults(self, world: World, body: dict[str, Any], request: Request) -> Any:
        world.faults.clear()
        return world.faults.describe()

    def revoke(self, world: World, body: dict[str, Any], request: Request) -> Any:
        network, token = body.get("network"), str(body.get("token", ""))
        revoked = not body.get("restore", False)
        if network == "vk" and token in world.vk.tokens:
            world.vk.tokens[token]["revoked"] = revoked
        elif network == "telegram" and token in world.telegram.bots:
            world.telegram.bots[token]["revoked"] = revoked
        elif network == "ok" and token in world.ok.tokens:
            world.ok.tokens[token]["revoked"] = revoked
        else:
            raise ControlError(f"no {network} token {token!r}", 404)
        return {"ok": True, "revoked": revoked}

    def vk_post(self, world: World, body: dict[str, Any], request: Request) -> Any:
        owner_id, user_id = int(body["owner_id"]), int(body["user_id"])
        world.vk._check_wall_rights(user_id, owner_id)
        copy_history = None
        if body.get("copy_history"):
            source = body["copy_history"]
            original = world.vk._post(int(source["owner_id"]), int(source["post_id"]))
            copy_history = [world.vk._public({k: v for k, v in original.items() if k != "copy_history"})]
        post = world.vk.publish(
            owner_id=owner_id,
            user_id=user_id,
            from_group=bool(body.get("from_group", True)),
            text=str(body.get("text", "")),
            attachments=str(body.get("attachments", "")),
            token=None,
            copy_history=copy_history,
            source="manual",
        )
        return world.vk._public(post)

    def telegram_admin(self, world: World, body: dict[str, Any], request: Request) -> Any:
        chat_id = int(body["chat_id"])
        admin = bool(body.get("admin", True))
        if body.get("bot"):
            return world.telegram.set_bot_admin(chat_id, body["bot"], admin)
        return world.telegram.set_user_admin(chat_id, int(body["user_id"]), admin)

    def telegram_delete(self, world: World, body: dict[str, Any], request: Request) -> Any:
        channel = world.telegram._channel(body.get("chat_id"))
        message = world.telegram._message(channel, body.get("message_id"), "delete")
        world.telegram.delete(channel, message, None, "manual")
        return {"ok": True}

    def ok_topic(self, world: World, body: dict[str, Any], request: Request) -> Any:
        group = world.ok.groups[str(body["gid"])]
        user = world.ok.users[str(body["uid"])]
        world.ok._require_admin(user, group)
        attachment = body.get("attachment") or {"media": [{"type": "text", "text": body.get("text", "")}]}
        return world.ok._public(world.ok.publish(group, user, attachment, None, "manual"))
