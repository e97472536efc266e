"""``python -m services.scheduler``."""

import asyncio

from services.scheduler.main import main
from shared.logs import configure_logging
from shared.settings import get_settings

if __name__ == "__main__":
    configure_logging("scheduler", get_settings().log_level)
    asyncio.run(main())
