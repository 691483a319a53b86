"""The runtime: builds the drivers of a site, feeds the tag registry and the historian.

Public methods are called from the GUI or main thread; everything they touch on the io
loop is scheduled there. `stop()` closes drivers first, then flushes the historian, so
nothing acquired is lost on a clean shutdown.
"""

from __future__ import annotations

import concurrent.futures
import getpass
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import platformdirs

from drivers.model import ConnectionState, Driver, TagUpdate
from drivers.plugins import plugin_for_url
from hmi.alarms.commands import AlarmCommands
from hmi.alarms.engine import AlarmEngine, AlarmListener
from hmi.runtime.io_thread import IoThread
from hmi.site import Site
from hmi.storage.historian import Historian
from hmi.storage.history_query import HistoryReader, HistorySlice
from hmi.storage.journal import Category, Journal, JournalEntry, default_anchor
from hmi.tags import Listener, TagRegistry, WriteRejected

log = logging.getLogger(__name__)

StateListener = Callable[[str, ConnectionState, str], None]
HISTORY_FILE = "history.sqlite"
ALARM_STATE_FILE = "alarm-state.json"  # what a restart keeps: latched, acknowledged, shelved, out of service


def default_data_dir(site: Site) -> Path:
    return Path(platformdirs.user_data_dir("linewise", "Linewise")) / _safe(site.project.name)


def history_target(database: str | None, data_dir: Path) -> Path | str:
    """The historian's database: a URL as it is, a path relative to the data directory."""
    if database is None:
        return data_dir / HISTORY_FILE
    if "://" in database:
        return database
    return data_dir / Path(database).expanduser()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "site"


class Runtime:
    def __init__(self, site: Site, data_dir: Path | None = None) -> None:
        self.site = site
        self.data_dir = data_dir or default_data_dir(site)
        self.registry = TagRegistry(site)
        config = site.project.historian
        self.historian = Historian(history_target(config.database, self.data_dir),
                                   flush_interval_s=config.flush_interval_s, backlog_rows=config.backlog_rows,
                                   retention=config.retention)
        self.history = HistoryReader(self.historian.target)
        # The event journal shares the historian's database; its chain anchor is kept in the data directory
        # (next to a SQLite file, or there for a server database) so that cut-off tails are detected.
        self.journal = Journal(self.historian.target, anchor_file=default_anchor(self.historian.target, self.data_dir))
        self.alarms = AlarmEngine(site, self.journal, state_file=self.data_dir / ALARM_STATE_FILE)
        self.user = getpass.getuser()  # who acts, until users and roles sign in (the journal names them)
        self.io = IoThread()
        self.drivers: dict[str, Driver] = {}
        self.alarm_commands = AlarmCommands(self.alarms, self.journal, self.drivers)
        self.states: dict[str, tuple[ConnectionState, str]] = {
            c.name: (ConnectionState.CONNECTING, "") for c in site.project.connections
        }
        self._state_listeners: list[StateListener] = []
        self._lock = threading.Lock()
        self._started = False

    # -- lifecycle (caller thread) ------------------------------------------------------------

    def start(self) -> None:
        self.io.start()
        try:
            self.io.run(self._start(), timeout=30)
        except BaseException:
            self.io.stop()
            raise
        self._started = True

    def stop(self) -> None:
        self.history.close()
        if not self._started:
            return
        self._started = False
        try:
            self.io.run(self._stop(), timeout=30)
        finally:
            self.io.stop()

    # -- subscriptions (any thread; listeners are called on the io loop) -------------------------

    def add_listener(self, listener: Listener) -> None:
        """Receive every batch of updates (in engineering units) on the io loop."""
        self.registry.add_listener(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop calling `listener`; the registry's list is changed on the io loop that iterates it."""
        if self.io.running:
            self.io.call_soon(self.registry.remove_listener, listener)
        else:
            self.registry.remove_listener(listener)

    def add_state_listener(self, listener: StateListener) -> None:
        with self._lock:
            self._state_listeners.append(listener)

    def remove_state_listener(self, listener: StateListener) -> None:
        with self._lock:
            self._state_listeners.remove(listener)

    # -- operator actions ---------------------------------------------------------------------

    def write(self, tag: str, value: Any) -> concurrent.futures.Future[None]:
        """Check and send a write. WriteRejected is raised at once for a bad value;
        the returned future fails with the driver's WriteError if the PLC refuses.
        Every attempt is journaled with the old and new value and the result."""
        last = self.registry.last(tag)
        old = "" if last is None else repr(last.value)
        asked = time.time()  # the entry is written with the result, stamped when the operator asked
        try:
            raw = self.registry.prepare_write(tag, value)
            address = self.site.addresses[tag]
            driver = self.drivers.get(address.connection)
            if driver is None:
                raise WriteRejected(f"{tag}: connection {address.connection!r} is not running")
        except WriteRejected as exc:
            self._journal_write(asked, tag, old, value, "refused", str(exc))
            raise
        log.info("write %s = %r (raw %r)", tag, value, raw)
        future = self.io.submit(driver.write(self.registry.point(tag), raw))
        future.add_done_callback(lambda f: self._journal_write(
            asked, tag, old, value, "ok" if f.exception() is None else "failed", str(f.exception() or "")))
        return future

    def _journal_write(self, asked: float, tag: str, old: str, value: Any, result: str, message: str) -> None:
        self.journal.record(JournalEntry(ts=asked, category=Category.OPERATOR, event="write", source=tag,
                                         user=self.user, old_value=old, new_value=repr(value), result=result,
                                         message=message))

    def record_config_change(self, event: str, new_value: str, result: str, message: str) -> None:
        """A change to the site's configuration made from this station (any thread)."""
        self.journal.record(JournalEntry(ts=time.time(), category=Category.CONFIG, event=event, user=self.user,
                                         new_value=new_value, result=result, message=message))

    # -- alarms (any thread; listeners are called on the io loop) ----------------------------------------

    def add_alarm_listener(self, listener: AlarmListener) -> None:
        """Receive the alarms that changed, and the flood status, on the io loop."""
        self.alarms.add_listener(listener)

    def remove_alarm_listener(self, listener: AlarmListener) -> None:
        if self.io.running:
            self.io.call_soon(self.alarms.remove_listener, listener)
        else:
            self.alarms.remove_listener(listener)

    def alarm_command(self, command: str, ids: list[str], **arguments: Any) -> concurrent.futures.Future[Any]:
        """An operator's alarm command (acknowledge, reset, shelve, unshelve, remove_from_service,
        return_to_service, comment) run on the io loop in the runtime user's name; the future fails with
        AlarmCommandError when it does not apply, saying why."""
        return self.io.submit(self.alarm_commands.run(command, ids, self.user, **arguments))

    def query_history(self, tag: str, start: float, end: float,
                      n_bins: int | None) -> concurrent.futures.Future[HistorySlice]:
        """History of one tag decimated to `n_bins` columns, read on the history reader's threads."""
        if tag not in self.registry.specs:
            raise KeyError(f"unknown tag {tag!r}")
        return self.history.submit(tag, start, end, n_bins)

    def request_diagnostics(self) -> concurrent.futures.Future[dict[str, dict[str, Any]]]:
        """A snapshot of every connection, taken on the io loop (never blocks the caller)."""
        return self.io.submit(self._diagnostics())

    def request_historian_status(self) -> concurrent.futures.Future[dict[str, Any]]:
        """The historian's health, counters, disk usage and retention, taken on the io loop (never blocks the
        caller; the sizes are measured on the historian's own thread, at most every few seconds)."""
        return self.io.submit(self._historian_status())

    def trust_certificate(self, connection: str, thumbprint: str) -> concurrent.futures.Future[str]:
        """Trust the server certificate a connection was refused for, and reconnect at once."""
        return self.io.submit(self._trust(connection, thumbprint))

    def browse(self, connection: str, action: str, *args: Any) -> concurrent.futures.Future[Any]:
        """Browse a connection's address space: action is children, details or search."""
        if action not in ("children", "details", "search"):
            raise ValueError(f"unknown browse action {action!r}")
        return self.io.submit(self._browse(connection, action, *args))

    def scan_registers(self, connection: str, unit: int, table: str, start: int,
                       count: int) -> concurrent.futures.Future[list[int]]:
        """Raw registers from a Modbus connection's device, for the register scanner."""
        return self.io.submit(self._scan_registers(connection, unit, table, start, count))

    # -- io loop ------------------------------------------------------------------------------

    async def _scan_registers(self, connection: str, unit: int, table: str, start: int, count: int) -> list[int]:
        scan = getattr(self.drivers.get(connection), "scan_registers", None)
        if scan is None:
            raise ValueError(f"connection {connection!r} has no registers to scan (not Modbus)")
        return await scan(unit, table, start, count)

    async def _browse(self, connection: str, action: str, *args: Any) -> Any:
        driver = self.drivers.get(connection)
        address_space = getattr(driver, "address_space", None)
        if address_space is None:
            raise ValueError(f"connection {connection!r} has no address space to browse")
        return await getattr(address_space(), action)(*args)

    async def _diagnostics(self) -> dict[str, dict[str, Any]]:
        snapshot: dict[str, dict[str, Any]] = {}
        for conn in self.site.project.connections:
            driver = self.drivers.get(conn.name)
            state, detail = self.states.get(conn.name, (ConnectionState.DOWN, "not running"))
            base = {"url": conn.url, "description": conn.description, "state": state.value, "detail": detail}
            snapshot[conn.name] = {**base, **(driver.diagnostics() if driver is not None else {})}
        return snapshot

    async def _historian_status(self) -> dict[str, Any]:
        return {**await self.historian.health.snapshot(), "data_dir": str(self.data_dir)}

    async def _trust(self, connection: str, thumbprint: str) -> str:
        driver = self.drivers.get(connection)
        trust = getattr(driver, "trust_certificate", None)
        if trust is None:
            raise ValueError(f"connection {connection!r} has no certificates to trust")
        try:
            subject = trust(thumbprint)
        except Exception as exc:
            self._journal_security("certificate_trusted", connection, thumbprint, "failed", str(exc))
            raise
        log.warning("certificate %s (%s) trusted for connection %s", subject, thumbprint, connection)
        self._journal_security("certificate_trusted", connection, thumbprint, "ok", subject)
        return subject

    def _journal_security(self, event: str, source: str, new_value: str, result: str, message: str) -> None:
        self.journal.record(JournalEntry(ts=time.time(), category=Category.SECURITY, event=event, source=source,
                                         user=self.user, new_value=new_value, result=result, message=message))


    async def _start(self) -> None:
        await self.journal.start()
        self._journal_system("app_start", f"Linewise started on site {self.site.project.name!r}")
        await self.historian.start(self.registry.specs.values())
        self.registry.add_listener(self.historian.submit)
        await self.alarms.start()
        self.registry.add_listener(self.alarms.submit)
        by_connection: dict[str, list[str]] = {}
        for tag, address in self.site.addresses.items():
            by_connection.setdefault(address.connection, []).append(tag)
        for conn in self.site.project.connections:
            try:
                plugin = plugin_for_url(conn.url)
                driver = plugin.create(conn.name, self.site.connection_settings[conn.name])
            except Exception as exc:  # a broken plugin must not take the other connections down
                log.exception("connection %s: driver could not be created", conn.name)
                self._state_changed(conn.name, ConnectionState.DOWN, f"driver failed to load: {exc}")
                continue
            self.drivers[conn.name] = driver
            if hasattr(driver, "on_conditions"):  # OPC UA Alarms & Conditions join the alarm list
                driver.on_conditions = self.alarm_commands.conditions_received
            points = self.registry.points_for(by_connection.get(conn.name, []))
            await driver.start(points, self._ingest, self._state_changed)

    async def _stop(self) -> None:
        for name, driver in self.drivers.items():
            try:
                await driver.close()
            except Exception:
                log.exception("connection %s: close failed", name)
        self.drivers.clear()
        await self.alarms.close()
        await self.historian.close()
        self._journal_system("app_stop", "Linewise stopped")
        await self.journal.close()

    def _journal_system(self, event: str, message: str, source: str = "", result: str = "ok") -> None:
        self.journal.record(JournalEntry(ts=time.time(), category=Category.SYSTEM, event=event, source=source,
                                         message=message, result=result))

    def _ingest(self, updates: Sequence[TagUpdate]) -> None:
        self.registry.ingest(updates)

    def _state_changed(self, name: str, state: ConnectionState, detail: str) -> None:
        previous = self.states.get(name, (None, ""))[0]
        self.states[name] = (state, detail)
        if state is ConnectionState.DOWN and previous is not ConnectionState.DOWN:
            self._journal_system("connection_lost", detail, name, "failed")
        elif state is ConnectionState.CONNECTED and previous is not ConnectionState.CONNECTED:
            self._journal_system("connection_restored" if previous is ConnectionState.DOWN else "connected",
                                 detail, name)
        with self._lock:
            listeners = list(self._state_listeners)
        for listener in listeners:
            try:
                listener(name, state, detail)
            except Exception:
                log.exception("state listener failed")
