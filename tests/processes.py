"""Start a hub process as a subprocess and wait for a line in its log (no sleeps)."""

import collections
import os
import selectors
import subprocess
import sys
import threading
import time


def start(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )


def wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float = 30.0) -> list[str]:
    """Read the process's output until a line contains ``needle``; fail with the output otherwise."""
    assert process.stdout is not None
    seen: list[str] = []
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
            break
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} not seen; output so far:\n{''.join(seen)}")


def drain(process: subprocess.Popen[str], keep: int = 2000) -> collections.deque[str]:
    """Keep reading the process's output in a thread, so a full pipe never blocks its logging.
    Returns the last ``keep`` lines (for failure messages)."""
    lines: collections.deque[str] = collections.deque(maxlen=keep)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines
