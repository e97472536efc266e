"""``python -m services.distributor``: run one distributor worker (SIGTERM/SIGINT stop it cleanly)."""

from arq.worker import run_worker

from services.distributor.worker import WorkerSettings
from shared.logs import configure_logging
from shared.settings import get_settings

if __name__ == "__main__":
    configure_logging("distributor", get_settings().log_level)
    run_worker(WorkerSettings)  # type: ignore[arg-type]
