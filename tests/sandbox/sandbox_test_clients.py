"""Clients pointed at the sandbox, as the product points its adapters: by base URL only."""

import hashlib
from typing import Any

import httpx
import requests
import vk_api
from requests.adapters import HTTPAdapter

VK_ADMIN, VK_EDITOR, VK_OUTSIDER = 100001, 100002, 100003
VK_GROUP, VK_OTHER_GROUP = 200001, 200002
VK_USER_TOKEN, VK_OUTSIDER_TOKEN = "vk-user-admin", "vk-user-outsider"
VK_GROUP_TOKEN, VK_SERVICE_TOKEN = "vk-group-token", "vk-service-token"

BOT_TOKEN = "7000000001:AAregional-bot-test-token-00000001"
OTHER_BOT_TOKEN = "7000000002:AAcollector-bot-test-token-0000002"
OUTSIDER_BOT_TOKEN = "7000000003:AAoutsider-bot-test-token-00000003"
CHANNEL, OTHER_CHANNEL = -1001000000001, -1001000000002
TG_EDITOR = 500001

OK_APP_KEY, OK_SECRET = "CTESTAPPKEY", "TESTSECRET00000000000000000000"
OK_ADMIN, OK_OUTSIDER = "570000000001", "570000000002"
OK_ADMIN_TOKEN, OK_OUTSIDER_TOKEN = "ok-token-admin", "ok-token-outsider"
OK_GROUP = "70000000000001"

WORLD: dict[str, Any] = {
    "vk": {
        "users": [{"id": VK_ADMIN}, {"id": VK_EDITOR}, {"id": VK_OUTSIDER}],
        "groups": [
            {"id": VK_GROUP, "name": "City", "screen_name": "city", "admins": [VK_ADMIN]},
            {"id": VK_OTHER_GROUP, "name": "School", "admins": [{"user_id": VK_EDITOR, "role": "editor"}]},
        ],
        "tokens": [
            {"token": VK_USER_TOKEN, "type": "user", "user_id": VK_ADMIN},
            {"token": VK_OUTSIDER_TOKEN, "type": "user", "user_id": VK_OUTSIDER},
            {"token": VK_GROUP_TOKEN, "type": "group", "group_id": VK_GROUP},
            {"token": VK_SERVICE_TOKEN, "type": "service", "app_id": 51000001},
        ],
    },
    "telegram": {
        "bots": [{"token": BOT_TOKEN}, {"token": OTHER_BOT_TOKEN}, {"token": OUTSIDER_BOT_TOKEN}],
        "users": [{"id": TG_EDITOR, "first_name": "Irina"}],
        "channels": [
            {
                "id": CHANNEL,
                "title": "City",
                "username": "city",
                "admin_bots": [BOT_TOKEN, OTHER_BOT_TOKEN],
                "admin_users": [TG_EDITOR],
            },
            {"id": OTHER_CHANNEL, "title": "School", "admin_bots": [OTHER_BOT_TOKEN]},
        ],
    },
    "ok": {
        "apps": [{"application_key": OK_APP_KEY, "secret_key": OK_SECRET}],
        "users": [
            {"uid": OK_ADMIN, "name": "Irina Volkova", "access_token": OK_ADMIN_TOKEN},
            {"uid": OK_OUTSIDER, "name": "Pavel Sokolov", "access_token": OK_OUTSIDER_TOKEN},
        ],
        "groups": [{"gid": OK_GROUP, "name": "City", "admins": [OK_ADMIN]}],
    },
}


class RedirectAdapter(HTTPAdapter):
    """vk_api hard-codes https://api.vk.ru/method/; send those requests to the sandbox instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        request.url = self.base_url + request.url.split("api.vk.ru", 1)[1]  # type: ignore[union-attr]
        return super().send(request, **kwargs)


def vk_session(base_url: str, token: str) -> vk_api.VkApi:
    session = requests.Session()
    session.mount("https://api.vk.ru/", RedirectAdapter(base_url))
    vk = vk_api.VkApi(token=token, session=session, api_version="5.199")
    vk.RPS_DELAY = 0  # the sandbox has no default rate limit; keep the suite fast
    return vk


def vk_raw(base_url: str, method: str, token: str, **params: Any) -> dict[str, Any]:
    reply = httpx.post(
        f"{base_url}/method/{method}",
        data={"v": "5.199", **params},
        headers={"Authorization": f"Bearer {token}"},
    )
    return reply.json()  # type: ignore[no-any-return]


def ok_sign(params: dict[str, str], access_token: str, secret_key: str = OK_SECRET) -> str:
    """OK's documented signature, computed independently of the sandbox's own code."""
    secret = hashlib.md5((access_token + secret_key).encode()).hexdigest()
    pairs = "".join(
        f"{k}={params[k]}" for k in sorted(params) if k not in ("sig", "access_token", "session_key")
    )
    return hashlib.md5((pairs + secret).encode()).hexdigest()


class OkClient:
    """The kind of small httpx OK client the product carries."""

    def __init__(
        self, base_url: str, access_token: str, app_key: str = OK_APP_KEY, secret: str = OK_SECRET
    ) -> None:
        self.url = f"{base_url}/fb.do"
        self.access_token, self.app_key, self.secret = access_token, app_key, secret

    def params(self, method: str, **params: Any) -> dict[str, str]:
        signed = {
            "method": method,
            "application_key": self.app_key,
            "format": "json",
            **{k: str(v) for k, v in params.items()},
        }
        signed["sig"] = ok_sign(signed, self.access_token, self.secret)
        signed["access_token"] = self.access_token
        return signed

    def call(self, method: str, **params: Any) -> Any:
        return httpx.post(self.url, data=self.params(method, **params)).json()
