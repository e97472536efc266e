"""Faults and state: 5xx, dropped connections, outcome-unknown timeouts, per-token rules, restarts."""

import time

import httpx
import pytest
from sandbox_test_clients import BOT_TOKEN, CHANNEL, VK_GROUP, VK_USER_TOKEN, vk_raw

from sandbox.testing import running_sandbox


def send(sandbox, text: str, timeout: float = 10) -> httpx.Response:
    return httpx.post(
        f"{sandbox.telegram_url}{BOT_TOKEN}/sendMessage",
        data={"chat_id": CHANNEL, "text": text},
        timeout=timeout,
    )


def test_5xx_fraction_fails_exactly_that_share_and_records_nothing_for_them(sandbox):
    sandbox.control.set_faults("telegram", error_5xx_fraction=0.5)
    statuses = [send(sandbox, f"m{n}").status_code for n in range(4)]
    assert sorted(statuses) == [200, 200, 502, 502]
    assert len(sandbox.control.ledger(network="telegram")) == 2


def test_dropped_connection_reaches_the_client_as_a_network_error(sandbox):
    sandbox.control.set_faults("vk", drop_fraction=1.0)
    with pytest.raises(httpx.TransportError):
        vk_raw(sandbox.base_url, "wall.post", VK_USER_TOKEN, owner_id=-VK_GROUP, from_group=1, message="lost")
    assert sandbox.control.ledger(network="vk") == []


def test_timeout_after_record_leaves_the_post_in_the_ledger(sandbox):
    sandbox.control.set_faults("telegram", BOT_TOKEN, timeout_after_record_fraction=1.0, hang_seconds=30)
    with pytest.raises(httpx.ReadTimeout):
        send(sandbox, "did it go out?", timeout=0.5)
    [entry] = sandbox.control.ledger(network="telegram")
    assert entry["text"] == "did it go out?"


def test_token_rule_spares_other_tokens(sandbox):
    sandbox.control.set_faults("vk", "some-other-token", error_5xx_fraction=1.0)
    reply = vk_raw(
        sandbox.base_url, "wall.post", VK_USER_TOKEN, owner_id=-VK_GROUP, from_group=1, message="fine"
    )
    assert "response" in reply


def test_added_latency_delays_replies(sandbox):
    sandbox.control.set_faults("telegram", latency_ms=300)
    started = time.monotonic()
    assert send(sandbox, "slow").status_code == 200
    assert time.monotonic() - started >= 0.3
    sandbox.control.clear_faults()
    assert sandbox.control._call("GET", "faults") == {"rules": []}


def test_unknown_fault_keys_are_refused(sandbox):
    with pytest.raises(RuntimeError, match="unknown fault keys"):
        sandbox.control.set_faults("vk", error_rate=0.5)


def test_ledger_filters_by_network_channel_token_and_action(sandbox):
    send(sandbox, "tg")
    vk_raw(sandbox.base_url, "wall.post", VK_USER_TOKEN, owner_id=-VK_GROUP, from_group=1, message="vk")
    assert [e["text"] for e in sandbox.control.ledger(token=BOT_TOKEN)] == ["tg"]
    assert [e["text"] for e in sandbox.control.ledger(channel=str(-VK_GROUP), action="post")] == ["vk"]
    first = sandbox.control.ledger()[0]
    assert {"seq", "time", "network", "channel", "post_id", "text", "media", "token", "action"} <= set(first)
    assert [e["text"] for e in sandbox.control.ledger(after_seq=first["seq"])] == ["vk"]


def test_state_file_survives_a_restart(tmp_path):
    state = tmp_path / "state.json"
    with running_sandbox(world="sandbox/worlds/demo.json", state_file=state) as first:
        reply = vk_raw(
            first.base_url, "wall.post", "vk-user-irina", owner_id=-200001, from_group=1, message="kept"
        )
        assert "response" in reply
    with running_sandbox(state_file=state) as second:
        wall = vk_raw(second.base_url, "wall.get", "vk-service-demo", owner_id=-200001)["response"]
        assert [p["text"] for p in wall["items"]] == ["kept"]
        assert len(second.control.ledger(network="vk")) == 1
