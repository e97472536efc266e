"""The VK adapter against the sandbox: vk-api's own client, pointed at it by ``HUB_VK_API_URL``."""

from pathlib import Path

import pytest

from sandbox.testing import RunningSandbox, free_port
from shared.adapters.base import AdapterError, ErrorKind
from shared.adapters.registry import get_adapter
from shared.adapters.vk import VkAdapter
from shared.settings import Settings
from tests.adapters.support import (
    VK_ADMIN,
    VK_GROUP,
    VK_GROUP_TOKEN,
    VK_OUTSIDER_TOKEN,
    VK_TOKEN,
    content,
    media_file,
    quick_timeout,
    vk_target,
)

EXPECTED_TEXT = "Новости города\n\nОткрыт новый парк.\n\nhttps://region.example/news/1\n\n#Обнинск #парки"


@pytest.fixture
def vk(sandbox: RunningSandbox) -> VkAdapter:
    adapter = get_adapter("vk")
    assert isinstance(adapter, VkAdapter)
    return adapter


async def vk_posts(sandbox: RunningSandbox) -> list[dict[str, object]]:
    return await sandbox.acontrol.ledger(network="vk", action="post")


async def test_text_post_lands_on_the_community_wall_with_title_body_link_and_hashtags(
    sandbox: RunningSandbox, vk: VkAdapter
) -> None:
    published = await vk.publish(vk_target(), content())

    [entry] = await vk_posts(sandbox)
    assert entry["channel"] == str(-VK_GROUP)
    assert entry["text"] == EXPECTED_TEXT
    assert entry["media"] == []
    assert entry["guid"] == "delivery-1"
    assert entry["token"] == VK_TOKEN
    assert published.external_post_id == entry["post_id"]
    assert published.url == f"https://vk.com/wall-{VK_GROUP}_{entry['post_id']}"
    assert published.part_ids == (entry["post_id"],)


async def test_post_comes_from_the_community_with_the_link_as_attachment(
    sandbox: RunningSandbox, vk: VkAdapter
) -> None:
    await vk.publish(vk_target(), content())

    [post] = [p for p in (await sandbox.acontrol.world())["vk"]["posts"] if p["owner_id"] == -VK_GROUP]
    assert post["from_id"] == -VK_GROUP
    assert post["created_by"] == VK_ADMIN
    assert [a["type"] for a in post["attachments"]] == ["link"]


async def test_photo_and_video_are_uploaded_and_attached_with_their_exact_bytes(
    sandbox: RunningSandbox, vk: VkAdapter, tmp_path: Path
) -> None:
    photo, video = media_file(tmp_path, "photo", "p1"), media_file(tmp_path, "video", "v1")

    published = await vk.publish(vk_target(), content(media=(photo, video)))

    [entry] = await vk_posts(sandbox)
    assert entry["media"] == [photo.sha256, video.sha256]
    assert (published.has_photo, published.has_video) == (True, True)


async def test_publishing_the_same_delivery_twice_gives_one_post(
    sandbox: RunningSandbox, vk: VkAdapter
) -> None:
    first = await vk.publish(vk_target(), content(guid="delivery-42"))
    second = await vk.publish(vk_target(), content(guid="delivery-42"))

    assert first.external_post_id == second.external_post_id
    assert len(await vk_posts(sandbox)) == 1


async def test_retract_deletes_the_post_and_a_post_already_gone_counts_as_deleted(
    sandbox: RunningSandbox, vk: VkAdapter
) -> None:
    published = await vk.publish(vk_target(), content())

    assert (
        await vk.retract(vk_target(), published.external_post_id, published.part_ids, "withdrawn")
        == "deleted"
    )
    assert (
        await vk.retract(vk_target(), published.external_post_id, published.part_ids, "withdrawn")
        == "deleted"
    )

    deletions = await sandbox.acontrol.ledger(network="vk", action="delete")
    assert [d["post_id"] for d in deletions] == [published.external_post_id]


async def test_find_published_is_none_because_guid_makes_retry_safe(
    sandbox: RunningSandbox, vk: VkAdapter
) -> None:
    from datetime import UTC, datetime

    await vk.publish(vk_target(), content())
    assert await vk.find_published(vk_target(), content(), datetime.now(UTC)) is None


async def test_verify_access_accepts_an_admin_user_token(sandbox: RunningSandbox, vk: VkAdapter) -> None:
    await vk.verify_access(vk_target())


async def test_revoked_token_is_a_credentials_error_that_never_shows_the_token(
    sandbox: RunningSandbox, vk: VkAdapter
) -> None:
    await sandbox.acontrol.revoke("vk", VK_TOKEN)

    with pytest.raises(AdapterError) as caught:
        await vk.publish(vk_target(), content())

    assert (caught.value.kind, caught.value.code) == (ErrorKind.credentials, 5)
    assert VK_TOKEN not in str(caught.value)
    assert await vk_posts(sandbox) == []


async def test_removed_admin_right_is_a_credentials_error_for_posting_and_verification(
    sandbox: RunningSandbox, vk: VkAdapter
) -> None:
    await sandbox.acontrol.create("vk/admins", {"group_id": VK_GROUP, "user_id": VK_ADMIN, "role": None})

    with pytest.raises(AdapterError) as posting:
        await vk.publish(vk_target(), content())
    with pytest.raises(AdapterError) as verifying:
        await vk.verify_access(vk_target())

    assert (posting.value.kind, posting.value.code) == (ErrorKind.credentials, 214)
    assert verifying.value.kind is ErrorKind.credentials


async def test_user_who_never_was_admin_fails_verification(sandbox: RunningSandbox, vk: VkAdapter) -> None:
    with pytest.raises(AdapterError) as caught:
        await vk.verify_access(vk_target(VK_OUTSIDER_TOKEN))
    assert caught.value.kind is ErrorKind.credentials


async def test_community_token_instead_of_user_token_is_a_credentials_error(
    sandbox: RunningSandbox, vk: VkAdapter
) -> None:
    with pytest.raises(AdapterError) as caught:
        await vk.publish(vk_target(VK_GROUP_TOKEN), content())
    assert (caught.value.kind, caught.value.code) == (ErrorKind.credentials, 27)


async def test_rate_limit_is_raised_as_retry_instead_of_sleeping_inside_vk_api(
    sandbox: RunningSandbox, vk: VkAdapter
) -> None:
    # The window stays shut for a minute: a vk-api that slept and retried by itself would hang here.
    await sandbox.acontrol.set_faults("vk", VK_TOKEN, rate_limit={"limit": 0, "per_seconds": 60})

    with pytest.raises(AdapterError) as caught:
        await vk.publish(vk_target(), content())

    assert (caught.value.kind, caught.value.code) == (ErrorKind.retry, 6)
    assert (caught.value.retry_after or 0) > 0


async def test_flood_control_on_posting_is_retry_later(sandbox: RunningSandbox, vk: VkAdapter) -> None:
    await sandbox.acontrol.set_faults("vk", VK_TOKEN, flood_limit={"limit": 0, "per_seconds": 3600})

    with pytest.raises(AdapterError) as caught:
        await vk.publish(vk_target(), content())

    assert (caught.value.kind, caught.value.code) == (ErrorKind.retry, 9)
    assert (caught.value.retry_after or 0) >= 60


async def test_server_error_is_retry(sandbox: RunningSandbox, vk: VkAdapter) -> None:
    await sandbox.acontrol.set_faults("vk", VK_TOKEN, error_5xx_fraction=1.0, error_5xx_status=503)

    with pytest.raises(AdapterError) as caught:
        await vk.publish(vk_target(), content())

    assert (caught.value.kind, caught.value.code) == (ErrorKind.retry, "http_503")
    assert await vk_posts(sandbox) == []


async def test_connection_dropped_during_wall_post_is_outcome_unknown(
    sandbox: RunningSandbox, vk: VkAdapter
) -> None:
    await sandbox.acontrol.set_faults("vk", VK_TOKEN, drop_fraction=1.0)

    with pytest.raises(AdapterError) as caught:
        await vk.publish(vk_target(), content())

    assert caught.value.kind is ErrorKind.unknown


async def test_connection_dropped_during_upload_preparation_is_plain_retry(
    sandbox: RunningSandbox, vk: VkAdapter, tmp_path: Path
) -> None:
    await sandbox.acontrol.set_faults("vk", VK_TOKEN, drop_fraction=1.0)

    with pytest.raises(AdapterError) as caught:
        await vk.publish(vk_target(), content(media=(media_file(tmp_path, "photo", "p"),)))

    assert caught.value.kind is ErrorKind.retry


async def test_timeout_after_the_post_was_made_is_unknown_and_the_retry_finds_the_same_post(
    sandbox: RunningSandbox, settings: Settings
) -> None:
    impatient = VkAdapter(quick_timeout(settings))
    await sandbox.acontrol.set_faults("vk", VK_TOKEN, timeout_after_record_fraction=1.0, hang_seconds=30)
    try:
        with pytest.raises(AdapterError) as caught:
            await impatient.publish(vk_target(), content(guid="delivery-7"))
        assert caught.value.kind is ErrorKind.unknown

        await sandbox.acontrol.clear_faults()
        retried = await impatient.publish(vk_target(), content(guid="delivery-7"))
    finally:
        impatient.close()

    [entry] = await vk_posts(sandbox)
    assert retried.external_post_id == entry["post_id"]


async def test_unreachable_network_is_retry(settings: Settings) -> None:
    unreachable = VkAdapter(
        settings.model_copy(update={"vk_api_url": f"http://127.0.0.1:{free_port()}/method/"})
    )
    try:
        with pytest.raises(AdapterError) as caught:
            await unreachable.publish(vk_target(), content())
    finally:
        unreachable.close()
    assert (caught.value.kind, caught.value.code) == (ErrorKind.retry, "connect")


async def test_empty_post_is_a_content_error(sandbox: RunningSandbox, vk: VkAdapter) -> None:
    with pytest.raises(AdapterError) as caught:
        await vk.publish(vk_target(), content(title="", body="", hashtags=(), link=None))
    assert (caught.value.kind, caught.value.code) == (ErrorKind.content, 100)
