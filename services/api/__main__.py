"""``python -m services.api``: serve the API with uvicorn (host and port from settings)."""

import uvicorn

from shared.logs import configure_logging
from shared.settings import get_settings

if __name__ == "__main__":
    settings = get_settings()
    configure_logging("api", settings.log_level)
    uvicorn.run(
        # The feed's lean path answers well-formed feed polls itself and hands everything else to the
        # FastAPI app unchanged (see services/api/feed/asgi.py).
        "services.api.feed.asgi:app",
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        proxy_headers=True,
        server_header=False,
    )
