"""Reading the journal (or writing an export) off the GUI thread for a panel of the alarm window: one worker
thread of its own, answers delivered on the GUI thread through the bridge, and only the answer to the latest
read shown (the operator may have chosen another period meanwhile)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hmi.bridge import Bridge

Done = Callable[[Any, Exception | None], None]


class JournalWorker:
    def __init__(self, bridge: Bridge, name: str) -> None:
        self.bridge = bridge
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._generation = 0
        self.closed = False

    def read(self, work: Callable[[], Any], on_done: Done) -> None:
        """Run `work`; `on_done(result, error)` only if no later read was asked for and the panel is open."""
        self._generation += 1
        generation = self._generation

        def latest(result: Any, error: Exception | None) -> None:
            if not self.closed and generation == self._generation:
                on_done(result, error)

        self.run(work, latest)

    def run(self, work: Callable[[], Any], on_done: Done) -> None:
        """Run `work` (an export: every answer counts); `on_done` on the GUI thread."""
        if not self.closed:
            self.bridge.deliver(self._executor.submit(work), on_done)

    def close(self) -> None:
        self.closed = True
        self._executor.shutdown(wait=False)  # a read or an export under way finishes; its answer is dropped
