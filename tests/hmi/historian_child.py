"""A historian in a process of its own, for what a test cannot do to itself: be killed with SIGKILL, hit a
file size limit, lose write permission. Prints one JSON object per line on stdout for the test to read.

    python -m tests.hmi.historian_child crash DB      write 10 tags continuously; print {"written": n} per flush
    python -m tests.hmi.historian_child full DB       hit RLIMIT_FSIZE mid-run, report, lift the limit, report
    python -m tests.hmi.historian_child readonly DB   as user nobody (DB owned by root, not writable)
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import sys

from drivers.model import Quality, TagUpdate
from hmi.site.schema import HistorySpec
from hmi.storage.compression import ANALOG
from hmi.storage.historian import Historian, HistoryTag
from tests.support import async_wait_until

TAGS = [HistoryTag(f"t{i}", HistorySpec(mode="all"), ANALOG) for i in range(10)]


def say(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def batch(start: int, n: int) -> list[TagUpdate]:
    return [TagUpdate(f"t{i % 10}", float(i), Quality.GOOD, 1e9 + i / 10, 1e9 + i / 10)
            for i in range(start, start + n)]


def largest_file(path: str) -> int:
    return max(os.path.getsize(path), os.path.getsize(path + "-wal"))


async def crash(path: str) -> None:
    historian = Historian(path, flush_interval_s=0.1)
    await historian.start(TAGS)
    sent = 0
    reported = -1
    while True:  # until killed
        historian.submit(batch(sent, 200))
        sent += 200
        await asyncio.sleep(0.01)
        if historian.rows_written != reported:
            reported = historian.rows_written
            say(written=reported, sent=sent)


async def full(path: str) -> None:
    historian = Historian(path, flush_interval_s=0.05)
    await historian.start(TAGS)
    historian.submit(batch(0, 1000))
    await async_wait_until(lambda: historian.rows_written >= 1000, message="the first rows")
    size = largest_file(path)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 4096, hard))  # the disk is (nearly) full
    historian.submit(batch(1000, 50_000))
    await asyncio.sleep(0.5)
    say(phase="full", written=historian.rows_written, backlog=historian.backlog, error=historian.last_error,
        received=historian.samples_received)
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space freed
    await async_wait_until(lambda: historian.backlog == 0, timeout=20, message="the backlog to be written")
    await historian.close()
    say(phase="freed", written=historian.rows_written, backlog=historian.backlog, error=historian.last_error,
        dropped=historian.rows_dropped)


async def readonly(path: str) -> None:
    os.setgid(65534)
    os.setuid(65534)  # nobody: the root-owned file and folder are read-only now
    historian = Historian(path, flush_interval_s=0.05)
    await historian.start(TAGS)
    historian.submit(batch(0, 100))
    await asyncio.sleep(0.3)
    say(written=historian.rows_written, backlog=historian.backlog, error=historian.last_error,
        received=historian.samples_received)
    await historian.close()


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing us
    asyncio.run({"crash": crash, "full": full, "readonly": readonly}[mode](path))


if __name__ == "__main__":
    main()
