"""VK: the real vk_api client against the sandbox, and the protocol rules it must keep."""

import hashlib
import io

import httpx
import pytest
import vk_api
from sandbox_test_clients import (
    VK_ADMIN,
    VK_GROUP,
    VK_GROUP_TOKEN,
    VK_OTHER_GROUP,
    VK_OUTSIDER_TOKEN,
    VK_SERVICE_TOKEN,
    VK_USER_TOKEN,
    vk_raw,
    vk_session,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"sandbox-photo" * 10


def test_vk_api_uploads_a_photo_posts_it_to_the_community_wall_and_reads_it_back(sandbox):
    vk = vk_session(sandbox.base_url, VK_USER_TOKEN)
    api = vk.get_api()
    photos = vk_api.VkUpload(vk).photo_wall(io.BytesIO(PNG), group_id=VK_GROUP)
    attachment = f"photo{photos[0]['owner_id']}_{photos[0]['id']}"

    posted = api.wall.post(
        owner_id=-VK_GROUP, from_group=1, message="Road works", attachments=attachment, guid="d-1"
    )
    wall = api.wall.get(owner_id=-VK_GROUP, count=10)

    assert wall["count"] == 1
    post = wall["items"][0]
    assert (post["id"], post["from_id"], post["text"]) == (posted["post_id"], -VK_GROUP, "Road works")
    assert post["attachments"][0]["photo"]["id"] == photos[0]["id"]
    [entry] = sandbox.control.ledger(network="vk", channel=str(-VK_GROUP))
    assert entry["media"] == [hashlib.sha256(PNG).hexdigest()]
    assert entry["token"] == VK_USER_TOKEN


def test_upload_server_accepts_the_documented_photo_field(sandbox):
    server = vk_raw(sandbox.base_url, "photos.getWallUploadServer", VK_USER_TOKEN, group_id=VK_GROUP)[
        "response"
    ]
    uploaded = httpx.post(
        server["upload_url"], files={"photo": ("a.jpg", b"jpeg-bytes", "image/jpeg")}
    ).json()
    saved = vk_raw(sandbox.base_url, "photos.saveWallPhoto", VK_USER_TOKEN, group_id=VK_GROUP, **uploaded)
    assert saved["response"][0]["owner_id"] == -VK_GROUP


def test_guid_makes_a_repeated_wall_post_idempotent(sandbox):
    api = vk_session(sandbox.base_url, VK_USER_TOKEN).get_api()
    first = api.wall.post(owner_id=-VK_GROUP, from_group=1, message="Once", guid="delivery-42")
    second = api.wall.post(owner_id=-VK_GROUP, from_group=1, message="Once", guid="delivery-42")
    third = api.wall.post(owner_id=-VK_GROUP, from_group=1, message="Once", guid="delivery-43")
    assert first == second != third
    assert len(sandbox.control.ledger(network="vk", action="post")) == 2


@pytest.mark.parametrize("method", ["wall.post", "photos.getWallUploadServer", "wall.get"])
def test_community_token_gets_error_27_on_user_only_methods(sandbox, method):
    api = vk_session(sandbox.base_url, VK_GROUP_TOKEN)
    with pytest.raises(vk_api.ApiError) as raised:
        api.method(method, {"owner_id": -VK_GROUP, "group_id": VK_GROUP, "message": "x"})
    assert raised.value.code == 27
    assert sandbox.control.ledger(network="vk") == []


def test_service_token_reads_walls_but_cannot_post(sandbox):
    service = vk_session(sandbox.base_url, VK_SERVICE_TOKEN).get_api()
    assert service.wall.get(owner_id=-VK_GROUP)["count"] == 0
    with pytest.raises(vk_api.ApiError) as raised:
        service.wall.post(owner_id=-VK_GROUP, from_group=1, message="x")
    assert raised.value.code == 28


def test_user_without_admin_rights_is_refused_with_214(sandbox):
    outsider = vk_session(sandbox.base_url, VK_OUTSIDER_TOKEN).get_api()
    with pytest.raises(vk_api.ApiError) as raised:
        outsider.wall.post(owner_id=-VK_GROUP, from_group=1, message="x")
    assert raised.value.code == 214


def test_removed_admin_rights_stop_posting(sandbox):
    api = vk_session(sandbox.base_url, VK_USER_TOKEN).get_api()
    api.wall.post(owner_id=-VK_GROUP, from_group=1, message="before")
    sandbox.control.create("vk/admins", {"group_id": VK_GROUP, "user_id": VK_ADMIN, "role": None})
    with pytest.raises(vk_api.ApiError) as raised:
        api.wall.post(owner_id=-VK_GROUP, from_group=1, message="after")
    assert raised.value.code == 214


def test_revoked_token_gets_error_5(sandbox):
    api = vk_session(sandbox.base_url, VK_USER_TOKEN).get_api()
    sandbox.control.revoke("vk", VK_USER_TOKEN)
    with pytest.raises(vk_api.ApiError) as raised:
        api.wall.get(owner_id=-VK_GROUP)
    assert raised.value.code == 5


def test_error_envelope_carries_request_params_without_the_token(sandbox):
    reply = vk_raw(sandbox.base_url, "wall.post", VK_GROUP_TOKEN, owner_id=-VK_GROUP, message="x")
    error = reply["error"]
    assert error["error_code"] == 27
    assert {"key": "method", "value": "wall.post"} in error["request_params"]
    assert VK_GROUP_TOKEN not in str(reply)


def test_a_request_without_version_gets_error_8(sandbox):
    reply = httpx.post(f"{sandbox.base_url}/method/wall.get", data={"access_token": VK_USER_TOKEN}).json()
    assert reply["error"]["error_code"] == 8


def test_wall_get_pages_newest_first(sandbox):
    api = vk_session(sandbox.base_url, VK_USER_TOKEN).get_api()
    for number in range(1, 8):
        api.wall.post(owner_id=-VK_GROUP, from_group=1, message=f"post {number}")
    first = api.wall.get(owner_id=-VK_GROUP, count=3)
    second = api.wall.get(owner_id=-VK_GROUP, count=3, offset=3)
    last = api.wall.get(owner_id=-VK_GROUP, count=3, offset=6)
    assert first["count"] == 7
    assert [p["text"] for p in first["items"]] == ["post 7", "post 6", "post 5"]
    assert [p["text"] for p in second["items"]] == ["post 4", "post 3", "post 2"]
    assert [p["text"] for p in last["items"]] == ["post 1"]


def test_wall_get_caps_count_at_100(sandbox):
    api = vk_session(sandbox.base_url, VK_USER_TOKEN).get_api()
    for number in range(105):
        api.wall.post(owner_id=-VK_GROUP, from_group=1, message=f"p{number}")
    assert len(api.wall.get(owner_id=-VK_GROUP, count=500)["items"]) == 100


def test_execute_batches_wall_get_calls_and_reports_partial_errors(sandbox):
    api = vk_session(sandbox.base_url, VK_USER_TOKEN).get_api()
    api.wall.post(owner_id=-VK_GROUP, from_group=1, message="city news")
    code = (
        f'var city = API.wall.get({{"owner_id": -{VK_GROUP}, "count": 5}});'
        f'return [city, API.wall.get({{"owner_id": -{VK_OTHER_GROUP}, "count": 5}}),'
        ' API.wall.get({"owner_id": -999999})];'
    )
    vk = vk_session(sandbox.base_url, VK_USER_TOKEN)
    reply = vk.method("execute", {"code": code}, raw=True)
    city, school, missing = reply["response"]
    assert city["items"][0]["text"] == "city news"
    assert school == {"count": 0, "items": []}
    assert missing is False
    assert reply["execute_errors"] == [
        {"method": "wall.get", "error_code": 100, "error_msg": reply["execute_errors"][0]["error_msg"]}
    ]


def test_execute_refuses_more_than_25_calls(sandbox):
    calls = ",".join(f'API.wall.get({{"owner_id": -{VK_GROUP}}})' for _ in range(26))
    vk = vk_session(sandbox.base_url, VK_USER_TOKEN)
    with pytest.raises(vk_api.ApiError) as raised:
        vk.method("execute", {"code": f"return [{calls}];"})
    assert raised.value.code == 13


def test_repost_by_hand_carries_copy_history(sandbox):
    original = sandbox.control.create(
        "vk/posts", {"owner_id": -VK_OTHER_GROUP, "user_id": 100002, "text": "School concert"}
    )
    sandbox.control.create(
        "vk/posts",
        {
            "owner_id": -VK_GROUP,
            "user_id": VK_ADMIN,
            "text": "Come along",
            "copy_history": {"owner_id": -VK_OTHER_GROUP, "post_id": original["id"]},
        },
    )
    api = vk_session(sandbox.base_url, VK_USER_TOKEN).get_api()
    [repost] = api.wall.get(owner_id=-VK_GROUP)["items"]
    assert repost["copy_history"][0]["text"] == "School concert"
    assert repost["copy_history"][0]["owner_id"] == -VK_OTHER_GROUP
    assert sandbox.control.ledger(source="manual", channel=str(-VK_GROUP))[0]["token"] is None


def test_edit_and_delete_are_ledgered_and_delete_hides_the_post(sandbox):
    api = vk_session(sandbox.base_url, VK_USER_TOKEN).get_api()
    post_id = api.wall.post(owner_id=-VK_GROUP, from_group=1, message="draft")["post_id"]
    api.wall.edit(owner_id=-VK_GROUP, post_id=post_id, message="final")
    assert api.wall.get(owner_id=-VK_GROUP)["items"][0]["text"] == "final"
    assert api.wall.delete(owner_id=-VK_GROUP, post_id=post_id) == 1
    assert api.wall.get(owner_id=-VK_GROUP)["count"] == 0
    actions = [(e["action"], e["text"]) for e in sandbox.control.ledger(network="vk")]
    assert actions == [("post", "draft"), ("edit", "final"), ("delete", "final")]


def test_video_is_saved_uploaded_and_attached(sandbox):
    api = vk_session(sandbox.base_url, VK_USER_TOKEN).get_api()
    video = api.video.save(name="Parade", description="", group_id=VK_GROUP, wallpost=0)
    uploaded = httpx.post(
        video["upload_url"], files={"video_file": ("v.mp4", b"mp4-bytes", "video/mp4")}
    ).json()
    assert uploaded["video_id"] == video["video_id"]
    api.wall.post(
        owner_id=-VK_GROUP, from_group=1, attachments=f"video{video['owner_id']}_{video['video_id']}"
    )
    assert sandbox.control.ledger(network="vk")[0]["media"] == [hashlib.sha256(b"mp4-bytes").hexdigest()]


def test_more_than_ten_attachments_are_refused(sandbox):
    links = ",".join(f"https://example.org/{n}" for n in range(11))
    reply = vk_raw(
        sandbox.base_url, "wall.post", VK_USER_TOKEN, owner_id=-VK_GROUP, from_group=1, attachments=links
    )
    assert reply["error"]["error_code"] == 100


def test_groups_get_by_id_reports_admin_rights(sandbox):
    api = vk_session(sandbox.base_url, VK_USER_TOKEN).get_api()
    [group] = api.groups.getById(group_id="city")["groups"]
    assert (group["id"], group["is_admin"]) == (VK_GROUP, 1)


def test_rate_limit_gives_error_6_and_flood_limit_error_9(sandbox):
    sandbox.control.set_faults("vk", VK_USER_TOKEN, rate_limit={"limit": 2, "per_seconds": 60})
    codes = [
        vk_raw(sandbox.base_url, "wall.get", VK_USER_TOKEN, owner_id=-VK_GROUP)
        .get("error", {})
        .get("error_code")
        for _ in range(3)
    ]
    assert codes == [None, None, 6]
    sandbox.control.set_faults("vk", VK_USER_TOKEN, flood_limit={"limit": 1, "per_seconds": 3600})
    posts = [
        vk_raw(sandbox.base_url, "wall.post", VK_USER_TOKEN, owner_id=-VK_GROUP, from_group=1, message="m")
        for _ in range(2)
    ]
    assert "response" in posts[0]
    assert posts[1]["error"]["error_code"] == 9
