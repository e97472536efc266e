"""The OK adapter against the sandbox, which checks OK's request signature on every call."""

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox.testing import RunningSandbox, free_port
from shared.adapters.base import AdapterError, ErrorKind
from shared.adapters.ok import OkAdapter, sign
from shared.adapters.registry import get_adapter
from shared.settings import Settings
from tests.adapters.support import (
    OK_ADMIN,
    OK_GROUP,
    OK_OUTSIDER_TOKEN,
    OK_TOKEN,
    content,
    media_file,
    ok_target,
    quick_timeout,
)

EXPECTED_TEXT = "Новости города\n\nОткрыт новый парк.\n\n#Обнинск #парки"


@pytest.fixture
def ok(sandbox: RunningSandbox) -> OkAdapter:
    adapter = get_adapter("ok")
    assert isinstance(adapter, OkAdapter)
    return adapter


async def ok_posts(sandbox: RunningSandbox) -> list[dict[str, object]]:
    return await sandbox.acontrol.ledger(network="ok", action="post")


async def topics(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    return [t for t in (await sandbox.acontrol.world())["ok"]["topics"] if not t["_deleted"]]


def test_signature_is_md5_of_sorted_pairs_without_the_token_plus_the_session_secret() -> None:
    params = {
        "method": "users.getCurrentUser",
        "application_key": "K",
        "format": "json",
        "access_token": "tok",
    }
    session_secret = hashlib.md5(b"tokSECRET").hexdigest()
    expected = hashlib.md5(
        f"application_key=Kformat=jsonmethod=users.getCurrentUser{session_secret}".encode()
    )
    assert sign(params, "tok", "SECRET") == expected.hexdigest()


async def test_text_post_goes_to_the_group_with_the_link_as_a_link_item(
    sandbox: RunningSandbox, ok: OkAdapter
) -> None:
    published = await ok.publish(ok_target(), content())

    [entry] = await ok_posts(sandbox)
    assert entry["channel"] == OK_GROUP
    assert entry["text"] == EXPECTED_TEXT
    assert entry["media"] == []
    assert entry["uid"] == OK_ADMIN
    [topic] = await topics(sandbox)
    assert topic["author_ref"] == f"group:{OK_GROUP}"
    assert topic["media"][-1] == {"type": "link", "url": "https://region.example/news/1"}
    assert published.external_post_id == entry["post_id"]
    assert published.url == f"https://ok.ru/group/{OK_GROUP}/topic/{entry['post_id']}"


async def test_photos_are_uploaded_and_attached_with_their_exact_bytes(
    sandbox: RunningSandbox, ok: OkAdapter, tmp_path: Path
) -> None:
    first, second = media_file(tmp_path, "photo", "p1"), media_file(tmp_path, "photo", "p2")

    published = await ok.publish(ok_target(), content(media=(first, second)))

    [entry] = await ok_posts(sandbox)
    assert entry["media"] == [first.sha256, second.sha256]
    assert published.has_photo


async def test_video_material_goes_out_as_text_photos_and_link(
    sandbox: RunningSandbox, ok: OkAdapter, tmp_path: Path
) -> None:
    photo, video = media_file(tmp_path, "photo", "p1"), media_file(tmp_path, "video", "v1")

    published = await ok.publish(ok_target(), content(media=(photo, video)))

    [entry] = await ok_posts(sandbox)
    assert entry["media"] == [photo.sha256]
    assert (published.has_photo, published.has_video) == (True, False)


async def test_find_published_finds_the_earlier_post_of_this_content_only(
    sandbox: RunningSandbox, ok: OkAdapter
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    await ok.publish(ok_target(), content(guid="other", title="Другая новость"))
    published = await ok.publish(ok_target(), content())
    await ok.publish(ok_target(), content(guid="later", title="Ещё новость"))

    found = await ok.find_published(ok_target(), content(), before)

    assert found is not None
    assert found.external_post_id == published.external_post_id
    assert found.text == EXPECTED_TEXT
    assert await ok.find_published(ok_target(), content(title="Не публиковалось"), before) is None
    assert await ok.find_published(ok_target(), content(), datetime.now(UTC) + timedelta(minutes=1)) is None


async def test_retract_deletes_the_topic_and_a_topic_already_gone_counts_as_deleted(
    sandbox: RunningSandbox, ok: OkAdapter
) -> None:
    published = await ok.publish(ok_target(), content())

    assert await ok.retract(ok_target(), published.external_post_id, published.part_ids, "Снято") == "deleted"
    assert await ok.retract(ok_target(), published.external_post_id, published.part_ids, "Снято") == "deleted"

    deletions = await sandbox.acontrol.ledger(network="ok", action="delete")
    assert [d["post_id"] for d in deletions] == [published.external_post_id]
    assert await topics(sandbox) == []


async def test_verify_access_accepts_a_group_moderator(sandbox: RunningSandbox, ok: OkAdapter) -> None:
    await ok.verify_access(ok_target())


async def test_revoked_token_is_a_credentials_error_that_never_shows_the_token(
    sandbox: RunningSandbox, ok: OkAdapter
) -> None:
    await sandbox.acontrol.revoke("ok", OK_TOKEN)

    with pytest.raises(AdapterError) as caught:
        await ok.publish(ok_target(), content())

    assert (caught.value.kind, caught.value.code) == (ErrorKind.credentials, 102)
    assert OK_TOKEN not in str(caught.value)


async def test_removed_admin_right_is_a_credentials_error_for_posting_and_verification(
    sandbox: RunningSandbox, ok: OkAdapter
) -> None:
    await sandbox.acontrol.create("ok/admins", {"gid": OK_GROUP, "uid": OK_ADMIN, "admin": False})

    with pytest.raises(AdapterError) as posting:
        await ok.publish(ok_target(), content())
    with pytest.raises(AdapterError) as verifying:
        await ok.verify_access(ok_target())

    assert (posting.value.kind, posting.value.code) == (ErrorKind.credentials, 10)
    assert (verifying.value.kind, verifying.value.code) == (ErrorKind.credentials, 10)


async def test_user_who_is_not_a_moderator_fails_verification(sandbox: RunningSandbox, ok: OkAdapter) -> None:
    with pytest.raises(AdapterError) as caught:
        await ok.verify_access(ok_target(OK_OUTSIDER_TOKEN))
    assert caught.value.kind is ErrorKind.credentials


async def test_unknown_group_is_a_credentials_error(sandbox: RunningSandbox, ok: OkAdapter) -> None:
    with pytest.raises(AdapterError) as caught:
        await ok.publish(ok_target(gid="79999999999999"), content())
    assert (caught.value.kind, caught.value.code) == (ErrorKind.credentials, 300)


async def test_wrong_secret_key_is_refused_as_a_bad_signature(sandbox: RunningSandbox, ok: OkAdapter) -> None:
    wrong = ok_target(secret="NOT-THE-SECRET")

    with pytest.raises(AdapterError) as posting:
        await ok.publish(wrong, content())
    with pytest.raises(AdapterError) as verifying:
        await ok.verify_access(wrong)

    # Posting: a loud content failure (our bug, or bad data); verification: the secret does not fit.
    assert (posting.value.kind, posting.value.code) == (ErrorKind.content, 104)
    assert (verifying.value.kind, verifying.value.code) == (ErrorKind.credentials, 104)
    assert "NOT-THE-SECRET" not in str(posting.value)
    assert await ok_posts(sandbox) == []


async def test_flood_control_is_retry_later(sandbox: RunningSandbox, ok: OkAdapter) -> None:
    await sandbox.acontrol.set_faults("ok", OK_TOKEN, flood_limit={"limit": 0, "per_seconds": 60})

    with pytest.raises(AdapterError) as caught:
        await ok.publish(ok_target(), content())

    assert (caught.value.kind, caught.value.code) == (ErrorKind.retry, 8)
    assert (caught.value.retry_after or 0) >= 60


async def test_server_error_is_retry(sandbox: RunningSandbox, ok: OkAdapter) -> None:
    await sandbox.acontrol.set_faults("ok", OK_TOKEN, error_5xx_fraction=1.0)

    with pytest.raises(AdapterError) as caught:
        await ok.publish(ok_target(), content())

    assert (caught.value.kind, caught.value.code) == (ErrorKind.retry, "http_502")


async def test_timeout_after_the_post_was_made_is_unknown_and_find_published_finds_it(
    sandbox: RunningSandbox, settings: Settings
) -> None:
    impatient = OkAdapter(quick_timeout(settings))
    since = datetime.now(UTC) - timedelta(seconds=5)
    await sandbox.acontrol.set_faults("ok", OK_TOKEN, timeout_after_record_fraction=1.0, hang_seconds=30)
    try:
        with pytest.raises(AdapterError) as caught:
            await impatient.publish(ok_target(), content())
        await sandbox.acontrol.clear_faults()
        found = await impatient.find_published(ok_target(), content(), since)
    finally:
        await impatient.aclose()

    assert caught.value.kind is ErrorKind.unknown
    [entry] = await ok_posts(sandbox)
    assert found is not None
    assert found.external_post_id == entry["post_id"]


async def test_unreachable_network_is_retry(settings: Settings) -> None:
    unreachable = OkAdapter(
        settings.model_copy(update={"ok_api_url": f"http://127.0.0.1:{free_port()}/fb.do"})
    )
    try:
        with pytest.raises(AdapterError) as caught:
            await unreachable.publish(ok_target(), content())
    finally:
        await unreachable.aclose()
    assert (caught.value.kind, caught.value.code) == (ErrorKind.retry, "connect")


async def test_post_without_link_has_only_the_text_item(sandbox: RunningSandbox, ok: OkAdapter) -> None:
    await ok.publish(ok_target(), content(link=None))
    [topic] = await topics(sandbox)
    assert topic["media"] == [{"type": "text", "text": EXPECTED_TEXT}]
