"""OK: a small signed httpx client against /fb.do, as the product's own OK client works."""

import hashlib
import json

import httpx
from sandbox_test_clients import OK_ADMIN_TOKEN, OK_APP_KEY, OK_GROUP, OK_OUTSIDER_TOKEN, OkClient

PHOTO = b"\xff\xd8\xff" + b"ok-photo" * 20


def upload_photo(sandbox, client: OkClient) -> str:
    reserved = client.call("photosV2.getUploadUrl", gid=OK_GROUP, count=1)
    uploaded = httpx.post(reserved["upload_url"], files={"pic1": ("p.jpg", PHOTO, "image/jpeg")}).json()
    return uploaded["photos"][reserved["photo_ids"][0]]["token"]


def test_signed_topic_with_text_photo_and_link_is_posted_and_read_back(sandbox):
    client = OkClient(sandbox.base_url, OK_ADMIN_TOKEN)
    token = upload_photo(sandbox, client)
    attachment = {
        "media": [
            {"type": "text", "text": "Library open day"},
            {"type": "photo", "list": [{"id": token}]},
            {"type": "link", "url": "https://example.org/open-day"},
        ],
        "onBehalfOfGroup": "true",
    }
    topic_id = client.call(
        "mediatopic.post", type="GROUP_THEME", gid=OK_GROUP, attachment=json.dumps(attachment)
    )
    assert isinstance(topic_id, str)
    topics = client.call("mediatopic.getTopics", gid=OK_GROUP, count=10)
    [topic] = topics["media_topics"]
    assert topic["id"] == topic_id
    assert topic["author_ref"] == f"group:{OK_GROUP}"
    assert [m["type"] for m in topic["media"]] == ["text", "photo", "link"]
    [entry] = sandbox.control.ledger(network="ok", channel=OK_GROUP)
    assert entry["media"] == [hashlib.sha256(PHOTO).hexdigest()]
    assert entry["text"] == "Library open day"


def test_wrong_signature_is_refused_with_104(sandbox):
    client = OkClient(sandbox.base_url, OK_ADMIN_TOKEN)
    params = client.params(
        "mediatopic.post",
        type="GROUP_THEME",
        gid=OK_GROUP,
        attachment=json.dumps({"media": [{"type": "text", "text": "x"}]}),
    )
    params["sig"] = "0" * 32
    reply = httpx.post(client.url, data=params).json()
    assert reply["error_code"] == 104
    assert reply["error_msg"].startswith("PARAM_SIGNATURE")
    assert reply["error_data"] is None
    wrong_secret = OkClient(sandbox.base_url, OK_ADMIN_TOKEN, secret="not-the-secret")
    assert wrong_secret.call("mediatopic.getTopics", gid=OK_GROUP)["error_code"] == 104
    assert sandbox.control.ledger(network="ok") == []


def test_signature_covers_every_parameter(sandbox):
    client = OkClient(sandbox.base_url, OK_ADMIN_TOKEN)
    params = client.params("mediatopic.getTopics", gid=OK_GROUP, count=5)
    params["count"] = "6"
    assert httpx.post(client.url, data=params).json()["error_code"] == 104


def test_unknown_application_and_revoked_session_are_refused(sandbox):
    assert (
        OkClient(sandbox.base_url, OK_ADMIN_TOKEN, app_key="CNOPE").call("users.getCurrentUser")["error_code"]
        == 101
    )
    sandbox.control.revoke("ok", OK_ADMIN_TOKEN)
    assert OkClient(sandbox.base_url, OK_ADMIN_TOKEN).call("users.getCurrentUser")["error_code"] == 102


def test_user_who_is_not_a_group_admin_gets_permission_denied(sandbox):
    client = OkClient(sandbox.base_url, OK_OUTSIDER_TOKEN)
    reply = client.call(
        "mediatopic.post",
        type="GROUP_THEME",
        gid=OK_GROUP,
        attachment=json.dumps({"media": [{"type": "text", "text": "x"}]}),
    )
    assert reply["error_code"] == 10


def test_topic_is_deleted_and_ledgered(sandbox):
    client = OkClient(sandbox.base_url, OK_ADMIN_TOKEN)
    topic_id = client.call(
        "mediatopic.post",
        type="GROUP_THEME",
        gid=OK_GROUP,
        attachment=json.dumps({"media": [{"type": "text", "text": "gone soon"}]}),
    )
    assert client.call("mediatopic.deleteTopic", gid=OK_GROUP, topic_id=topic_id) == {"success": True}
    assert client.call("mediatopic.getTopics", gid=OK_GROUP)["media_topics"] == []
    assert [e["action"] for e in sandbox.control.ledger(network="ok")] == ["post", "delete"]


def test_topics_page_with_an_anchor(sandbox):
    client = OkClient(sandbox.base_url, OK_ADMIN_TOKEN)
    for number in range(5):
        client.call(
            "mediatopic.post",
            type="GROUP_THEME",
            gid=OK_GROUP,
            attachment=json.dumps({"media": [{"type": "text", "text": f"t{number}"}]}),
        )
    first = client.call("mediatopic.getTopics", gid=OK_GROUP, count=3)
    rest = client.call("mediatopic.getTopics", gid=OK_GROUP, count=3, anchor=first["anchor"])
    texts = [t["media"][0]["text"] for t in first["media_topics"] + rest["media_topics"]]
    assert texts == ["t4", "t3", "t2", "t1", "t0"]
    assert (first["has_more"], rest["has_more"]) == (True, False)


def test_flood_limit_gives_error_8(sandbox):
    sandbox.control.set_faults("ok", OK_ADMIN_TOKEN, flood_limit={"limit": 1, "per_seconds": 3600})
    client = OkClient(sandbox.base_url, OK_ADMIN_TOKEN)
    attachment = json.dumps({"media": [{"type": "text", "text": "x"}]})
    assert isinstance(
        client.call("mediatopic.post", type="GROUP_THEME", gid=OK_GROUP, attachment=attachment), str
    )
    assert (
        client.call("mediatopic.post", type="GROUP_THEME", gid=OK_GROUP, attachment=attachment)["error_code"]
        == 8
    )
    assert OK_APP_KEY
