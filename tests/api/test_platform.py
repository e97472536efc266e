import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.models.enums import Role
from tests.factories import make_key


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "postgres": "ok", "redis": "ok"}


async def test_metrics_count_requests_by_route_template(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    monitor = await make_key(session, Role.monitor)
    await client.get("/api/v1/organisations/999999", headers=monitor)
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert 'route="/api/v1/organisations/{organisation_id}",status="404"' in metrics.text


async def test_every_response_has_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert response.headers["x-request-id"] == "trace-123"


async def test_openapi_documents_every_operation_with_an_example(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]

    def has_example(ref_or_schema: dict[str, object]) -> bool:
        ref = ref_or_schema.get("$ref")
        if isinstance(ref, str):
            target = schemas[ref.rsplit("/", 1)[-1]]
            if "examples" in target or "example" in target:
                return True
            items = target.get("properties", {}).get("items", {}).get("items")  # pages of X
            return bool(items) and has_example(items)
        if ref_or_schema.get("type") == "array" and isinstance(ref_or_schema.get("items"), dict):
            return has_example(ref_or_schema["items"])  # type: ignore[arg-type]
        return "example" in ref_or_schema or "examples" in ref_or_schema

    missing = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not operation.get("description"):
                missing.append(f"{method.upper()} {path}: description")
            body = operation.get("requestBody", {}).get("content", {})
            for media_type, media in body.items():
                if media_type != "application/json":
                    continue  # uploads and files: described in prose
                if not (has_example(media.get("schema", {})) or "example" in media or "examples" in media):
                    missing.append(f"{method.upper()} {path}: request example")
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2") or status == "204":
                    continue
                content = response.get("content", {})
                json_media = [
                    media for media_type, media in content.items() if media_type == "application/json"
                ]
                if json_media and not any(
                    has_example(media.get("schema", {})) or "example" in media or "examples" in media
                    for media in json_media
                ):
                    missing.append(f"{method.upper()} {path}: {status} example")
    assert not missing, "\n".join(missing)


async def test_unknown_path_uses_the_error_format(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
