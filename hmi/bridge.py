"""The only crossing between the io loop and Qt.

Updates arriving on the io loop are coalesced to the latest value per tag and handed to
the GUI thread at a bounded rate (default 20 Hz: the budget from a PLC change to the screen is
100 ms at p99, and a 100 ms period alone would spend it) through ONE queued signal. On the GUI
side the bridge dispatches each batch only to the bindings of the tags in it, so no
widget reacts to every update of the plant.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from drivers.model import ConnectionState, TagUpdate
from hmi.alarms.engine import FloodStatus
from hmi.alarms.model import AlarmSnapshot
from hmi.runtime import Runtime
from hmi.site import TagSpec
from hmi.storage.history_query import HistorySlice
from hmi.tags import WriteRejected

log = logging.getLogger(__name__)

UpdateCallback = Callable[[TagUpdate], None]


class Bridge(QObject):
    """Lives in the GUI thread. Signals are delivered there; names are past tense."""

    updates_delivered = Signal(list)  # list[TagUpdate], coalesced, GUI thread
    connection_changed = Signal(str, str, str)  # connection, ConnectionState.value, detail
    write_finished = Signal(str, bool, str)  # tag, succeeded, message
    diagnostics_ready = Signal(dict)  # connection -> snapshot of state and counters
    historian_status_ready = Signal(dict)  # the historian's health, counters and disk usage (health.py)
    certificate_trusted = Signal(str, bool, str)  # connection, succeeded, message
    alarms_changed = Signal(list, object)  # list[AlarmSnapshot] (latest per alarm), FloodStatus; GUI thread
    _alarms_ready = Signal(list, object)
    _result_ready = Signal(object, object, object)  # callback, result, error: queued to the GUI thread
    _batch_ready = Signal(list)  # emitted on the io thread, queued to the GUI thread
    _write_done = Signal(str, bool, str)

    def __init__(self, runtime: Runtime, rate_hz: float = 20.0, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runtime = runtime
        self._interval = 1.0 / rate_hz
        self._pending: dict[str, TagUpdate] = {}
        self._lock = threading.Lock()
        self._flush_scheduled = False
        self._last_emit = 0.0
        self._callbacks: dict[str, list[UpdateCallback]] = defaultdict(list)
        self._pending_alarms: dict[str, AlarmSnapshot] = {}
        self._flood: FloodStatus | None = None
        self._alarm_flush_scheduled = False
        self._alarms_ready.connect(self.alarms_changed)
        self._batch_ready.connect(self._deliver)
        self._result_ready.connect(self._call_back)
        self._write_done.connect(self.write_finished)
        runtime.add_listener(self._on_updates)
        runtime.add_state_listener(self._on_state)
        runtime.add_alarm_listener(self._on_alarms)

    # -- GUI thread API ----------------------------------------------------------------------

    def close(self) -> None:
        """Stop receiving from the runtime (before the GUI goes away; the runtime may outlive it)."""
        self.runtime.remove_listener(self._on_updates)
        self.runtime.remove_state_listener(self._on_state)
        self.runtime.remove_alarm_listener(self._on_alarms)
        self._callbacks.clear()

    def spec(self, tag: str) -> TagSpec:
        return self.runtime.registry.specs[tag]

    def subscribe(self, tag: str, callback: UpdateCallback) -> TagUpdate | None:
        """Call `callback(update)` on the GUI thread for each delivered update of `tag`.
        Returns the last known update (or None) so a new widget can show it at once."""
        if tag not in self.runtime.registry.specs:
            raise KeyError(f"unknown tag {tag!r}")
        self._callbacks[tag].append(callback)
        return self.runtime.registry.last(tag)

    def unsubscribe(self, tag: str, callback: UpdateCallback) -> None:
        callbacks = self._callbacks.get(tag, [])
        if callback in callbacks:
            callbacks.remove(callback)

    def connection_states(self) -> dict[str, tuple[ConnectionState, str]]:
        return dict(self.runtime.states)

    def write(self, tag: str, value: Any) -> bool:
        """Send an operator write. Returns False (and emits write_finished) if it was
        refused before leaving the HMI; otherwise the result arrives as write_finished."""
        try:
            future = self.runtime.write(tag, value)
        except WriteRejected as exc:
            self.write_finished.emit(tag, False, str(exc))
            return False
        future.add_done_callback(lambda f: self._on_write_done(tag, f))
        return True

    def deliver(self, future: concurrent.futures.Future[Any], on_done: Callable[[Any, Exception | None], None]) -> None:
        """Call `on_done(result, error)` on the GUI thread when an io-loop future finishes."""
        future.add_done_callback(
            lambda f: self._result_ready.emit(on_done, None if f.exception() else f.result(), f.exception())
        )

    def browse(
        self, connection: str, action: str, *args: Any, on_done: Callable[[Any, Exception | None], None]
    ) -> None:
        self.deliver(self.runtime.browse(connection, action, *args), on_done)

    def scan_registers(
        self,
        connection: str,
        unit: int,
        table: str,
        start: int,
        count: int,
        on_done: Callable[[Any, Exception | None], None],
    ) -> None:
        self.deliver(self.runtime.scan_registers(connection, unit, table, start, count), on_done)

    def query_history(
        self,
        tag: str,
        start: float,
        end: float,
        n_bins: int | None,
        on_done: Callable[[HistorySlice | None, Exception | None], None],
    ) -> None:
        """Read `tag`'s history over [start, end] decimated to `n_bins` columns (None: every sample) off the GUI thread;
        `on_done(slice, error)` is called on the GUI thread."""
        self.deliver(self.runtime.query_history(tag, start, end, n_bins), on_done)

    def request_diagnostics(self) -> None:
        """Ask for a snapshot of every connection; it arrives as diagnostics_ready."""
        self.runtime.request_diagnostics().add_done_callback(self._on_diagnostics)

    def request_historian_status(self) -> None:
        """Ask for the historian's status; it arrives as historian_status_ready."""
        self.runtime.request_historian_status().add_done_callback(self._on_historian_status)

    def request_alarms(self, on_done: Callable[[tuple[list[AlarmSnapshot], FloodStatus] | None,
                                                   Exception | None], None]) -> None:
        """Every alarm and the flood status as they are now (a new alarm view starts from this and then follows
        alarms_changed); `on_done((alarms, flood), error)` on the GUI thread."""
        self.deliver(self.runtime.io.submit(self._alarm_snapshot()), on_done)

    def alarm_command(self, command: str, ids: list[str],
                      on_done: Callable[[Any, Exception | None], None] | None = None, **arguments: Any) -> None:
        """acknowledge / reset / shelve (reason, duration_s) / unshelve / remove_from_service (reason) /
        return_to_service / comment (text) on the io loop; `on_done(result, error)` on the GUI thread, where
        an AlarmCommandError says why a command did not apply."""
        self.deliver(self.runtime.alarm_command(command, ids, **arguments), on_done or (lambda _r, _e: None))

    async def _alarm_snapshot(self) -> tuple[list[AlarmSnapshot], FloodStatus]:
        return self.runtime.alarms.snapshot(), self.runtime.alarms.flood

    def trust_certificate(self, connection: str, thumbprint: str) -> None:
        future = self.runtime.trust_certificate(connection, thumbprint)
        future.add_done_callback(lambda f: self._on_trusted(connection, f))

    # -- io thread ---------------------------------------------------------------------------

    def _on_diagnostics(self, future: concurrent.futures.Future[dict]) -> None:
        if future.exception() is None:
            self.diagnostics_ready.emit(future.result())

    def _on_historian_status(self, future: concurrent.futures.Future[dict]) -> None:
        if future.exception() is None:
            self.historian_status_ready.emit(future.result())
        else:  # the indicator shows that its status is stale
            log.warning("historian status failed: %r", future.exception())

    def _on_trusted(self, connection: str, future: concurrent.futures.Future[str]) -> None:
        exc = future.exception()
        if exc is None:
            self.certificate_trusted.emit(connection, True, f"trusted {future.result()}; reconnecting")
        else:
            self.certificate_trusted.emit(connection, False, str(exc.args[0] if exc.args else exc))

    def _on_updates(self, updates: Sequence[TagUpdate]) -> None:
        with self._lock:
            for update in updates:
                self._pending[update.tag] = update
            if self._flush_scheduled or not self._pending:
                return
            self._flush_scheduled = True
        delay = max(0.0, self._last_emit + self._interval - time.monotonic())
        self.runtime.io.loop.call_later(delay, self._flush)

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = list(self._pending.values()), {}
            self._flush_scheduled = False
        self._last_emit = time.monotonic()
        if batch:
            self._batch_ready.emit(batch)

    def _on_alarms(self, changed: Sequence[AlarmSnapshot], flood: FloodStatus) -> None:
        """io loop: keep the latest snapshot per alarm and hand them over at the bridge's rate (an alarm flood
        of a thousand a second reaches the GUI as a few batches)."""
        for snapshot in changed:
            self._pending_alarms[snapshot.id] = snapshot
        self._flood = flood
        if not self._alarm_flush_scheduled:
            self._alarm_flush_scheduled = True
            self.runtime.io.loop.call_later(self._interval, self._flush_alarms)

    def _flush_alarms(self) -> None:
        batch, self._pending_alarms = list(self._pending_alarms.values()), {}
        self._alarm_flush_scheduled = False
        self._alarms_ready.emit(batch, self._flood)

    def _on_state(self, name: str, state: ConnectionState, detail: str) -> None:
        self.connection_changed.emit(name, state.value, detail)

    def _on_write_done(self, tag: str, future: concurrent.futures.Future[None]) -> None:
        exc = future.exception()
        if exc is None:
            self._write_done.emit(tag, True, "written")
        else:
            log.warning("write %s failed: %s", tag, exc)
            self._write_done.emit(tag, False, str(exc))

    # -- GUI thread ----------------------------------------------------------------------------

    @Slot(object, object, object)
    def _call_back(self, on_done: Callable[[Any, Exception | None], None], result: Any, error: Any) -> None:
        on_done(result, error)

    @Slot(list)
    def _deliver(self, batch: list[TagUpdate]) -> None:
        for update in batch:
            for callback in list(self._callbacks.get(update.tag, ())):
                try:
                    callback(update)
                except Exception:  # a broken widget must not stop the others updating
                    log.exception("update callback for %s failed", update.tag)
        self.updates_delivered.emit(batch)
