"""The alarm engine: every alarm of the site evaluated on every sample, on the io loop.

It is a tag listener (`submit` gets each batch the registry fans out). A sample costs one dict lookup
for a tag without alarms and one small check per alarm of the tag; work beyond that happens only on a
transition: the transition is journaled, first-out and flood are updated, and the changed alarms go
to the listeners (the bridge) once per batch. A tick (4 Hz) runs out on/off delays and shelves.

Operator commands (acknowledge, shelve, ...) are also called on the io loop (the runtime schedules
them); each is journaled with the user, the old and new state and the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.model import Quality, TagUpdate
from hmi.alarms.checks import make_check
from hmi.alarms.model import AlarmCommandError, AlarmSnapshot, AlarmState
from hmi.alarms.persistence import load_alarm_states, save_alarm_states
from hmi.alarms.point import AlarmPoint
from hmi.site import Site
from hmi.site.alarm_schema import AlarmSettings
from hmi.site.expressions import Expression, Unknown, parse_expression
from hmi.storage.journal import Category, Journal, JournalEntry

log = logging.getLogger(__name__)

AlarmListener = Callable[[Sequence[AlarmSnapshot], "FloodStatus"], None]
TICK_S = 0.25
SAVE_EVERY_S = 2.0  # alarm states are written at most this often (a flood changes hundreds a second)


@dataclass(slots=True)
class _Route:
    """What one tag's samples drive: its own alarms, deviation alarms that use it as their setpoint, and
    suppression expressions that read it."""

    points: list[AlarmPoint] = field(default_factory=list)
    setpoint_of: list[AlarmPoint] = field(default_factory=list)
    expressions: list[int] = field(default_factory=list)  # indexes into AlarmEngine._suppressions
    keep_last: bool = False  # others read this tag's value or last sample


@dataclass(frozen=True, slots=True)
class FloodStatus:
    active: bool
    count: int  # annunciated activations in the window
    window_s: float
    since: float | None


class AlarmEngine:
    def __init__(self, site: Site, journal: Journal | None = None, *, state_file: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings: AlarmSettings = site.project.alarms
        self.journal = journal
        self.clock = clock
        self.state_file = state_file  # where alarm states are kept across restarts (None: not kept)
        self._dirty = False
        self._saved_at = 0.0
        self._saver: ThreadPoolExecutor | None = None  # writes the state file off the io loop, in order
        self.values: dict[str, Any] = {}  # latest values of tags that deviation alarms or expressions read
        self._last: dict[str, tuple[Any, Quality, float]] = {}  # latest sample of tags with deviation alarms
        self._timers: set[AlarmPoint] = set()
        self._routes: dict[str, _Route] = {}
        self.points: dict[str, AlarmPoint] = {}
        self.external: dict[str, AlarmSnapshot] = {}  # OPC UA conditions, as their servers report them
        self._suppressions: list[tuple[Expression, list[AlarmPoint]]] = []
        self._groups: dict[str, list[AlarmPoint]] = {}
        self._changed: dict[str, AlarmPoint] = {}
        self._listeners: list[AlarmListener] = []
        self._activations: deque[float] = deque()
        self._flood_since: float | None = None
        self._flood_changed = False
        self._task: asyncio.Task[None] | None = None
        self._build(site)

    def _build(self, site: Site) -> None:
        expressions: dict[str, int] = {}
        for tag in site.project.tags:
            for spec in tag.alarms:
                point = AlarmPoint(tag, spec, make_check(spec, self.values), self._emit, self._timers, self.values)
                self.points[point.id] = point
                self._route(tag.name).points.append(point)
                if spec.setpoint is not None:
                    self._route(spec.setpoint).setpoint_of.append(point)
                    self._route(spec.setpoint).keep_last = self._route(tag.name).keep_last = True
                if spec.group:
                    self._groups.setdefault(spec.group, []).append(point)
                if spec.suppress_when:
                    index = expressions.get(spec.suppress_when)
                    if index is None:
                        index = expressions[spec.suppress_when] = len(self._suppressions)
                        expression = parse_expression(spec.suppress_when, known_tags=site.tags)
                        self._suppressions.append((expression, []))
                        for name in expression.tags:
                            self._route(name).expressions.append(index)
                            self._route(name).keep_last = True
                    self._suppressions[index][1].append(point)

    def _route(self, tag: str) -> _Route:
        return self._routes.setdefault(tag, _Route())

    # -- lifecycle (io loop) ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Restore what was kept from the last run, then run delays and shelves."""
        self.restore()
        self._task = asyncio.create_task(self._tick_forever(), name="alarm-engine")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.save()
        if self._saver is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._saver.shutdown)  # the last write done
            self._saver = None

    def restore(self) -> None:
        """Take the alarm states kept by the last run (before any sample)."""
        if self.state_file is None:
            return
        now = self.clock()
        for alarm_id, saved in load_alarm_states(self.state_file).items():
            point = self.points.get(alarm_id)
            if point is not None:  # an alarm the site no longer defines is forgotten
                point.restore(saved, now)

    def save(self) -> None:
        """Write the states a restart must keep, if anything changed since the last write: taken here (io loop),
        written and synced on a thread of its own so that a slow disk never holds up the alarms."""
        if self.state_file is None or not self._dirty:
            return
        self._dirty = False
        self._saved_at = time.monotonic()
        states = {alarm_id: saved for alarm_id, point in self.points.items() if (saved := point.saved()) is not None}
        if self._saver is None:
            self._saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alarm-state")
        self._saver.submit(self._write_states, self.state_file, states)

    def _write_states(self, path: Path, states: dict) -> None:  # the saver thread
        try:
            save_alarm_states(path, states)
        except OSError as exc:
            self._dirty = True  # tried again at the next tick (a flag write is safe across threads)
            log.error("alarm states could not be saved to %s: %s", path, exc)

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self.tick()
            except Exception:  # a bug in one alarm must not stop the others' delays and shelves
                log.exception("alarm engine tick failed")

    # -- listeners -------------------------------------------------------------------------------------

    def add_listener(self, listener: AlarmListener) -> None:
        """Called on the io loop with the alarms that changed and the flood status, once per batch of samples,
        command or tick that changed something."""
        self._listeners.append(listener)

    def remove_listener(self, listener: AlarmListener) -> None:
        self._listeners.remove(listener)

    def snapshot(self) -> list[AlarmSnapshot]:
        now = self.clock()
        return [p.snapshot(now) for p in self.points.values()] + list(self.external.values())

    def external_changed(self, snapshot: AlarmSnapshot, newly_active: bool) -> None:
        """A PLC's own alarm (OPC UA condition) changed: it joins the list, first-out aside, and counts
        towards a flood like the local ones."""
        if snapshot.state is AlarmState.NORMAL:
            self.external.pop(snapshot.id, None)
        else:
            self.external[snapshot.id] = snapshot
        if newly_active:
            self._activations.append(snapshot.changed_at)
            self._update_flood(self.clock())
        for listener in self._listeners:
            try:
                listener([snapshot], self.flood)
            except Exception:
                log.exception("alarm listener %r failed", listener)

    # -- samples (io loop) -------------------------------------------------------------------------------

    def submit(self, updates: Sequence[TagUpdate]) -> None:
        """A batch from the tag registry."""
        routes = self._routes
        now = self.clock()
        for update in updates:
            route = routes.get(update.tag)
            if route is None:
                continue
            value, quality = update.value, update.quality
            if route.keep_last:
                self.values[update.tag] = value if quality < Quality.BAD else None
                self._last[update.tag] = (value, quality, update.source_ts)
            for point in route.points:
                point.feed(value, quality, update.source_ts, now)
            for point in route.setpoint_of:  # the setpoint moved: the deviation changes without a new value
                last = self._last.get(point.tag)
                if last is not None:
                    point.feed(last[0], last[1], last[2], now)
            for index in route.expressions:
                self._evaluate_suppression(index, now)
        self._publish()

    def _evaluate_suppression(self, index: int, now: float) -> None:
        expression, points = self._suppressions[index]
        try:
            suppressed = bool(expression.evaluate(self.values))
        except Unknown:
            suppressed = False  # fail safe: an alarm is never hidden by a condition nobody can see
        for point in points:
            point.set_suppressed(suppressed, now)

    def tick(self) -> None:
        """Delays that ran out, shelves that expired, the flood window (io loop, 4 Hz)."""
        now = self.clock()
        for point in list(self._timers):
            if point.expire(now):
                self._timers.discard(point)
        for point in self.points.values():
            if point.shelved_until is not None and point.shelved_until <= now:
                point.unshelve("", "shelf expired", now)
        self._update_flood(now)
        self._publish()
        if time.monotonic() - self._saved_at >= SAVE_EVERY_S:
            self.save()

    # -- commands (io loop) ------------------------------------------------------------------------------

    def acknowledge(self, ids: Iterable[str], user: str, comment: str = "") -> list[str]:
        """Acknowledge alarms; returns the ids that were acknowledged (the others had nothing to acknowledge,
        which is normal when acknowledging a page)."""
        done = []
        now = self.clock()
        for point in self._points(ids):
            try:
                point.acknowledge(user, comment, now)
            except AlarmCommandError:
                continue
            done.append(point.id)
        self._publish()
        return done

    def reset(self, ids: Iterable[str], user: str, comment: str = "") -> None:
        self._each(ids, lambda p, now: p.reset(user, comment, now))

    def shelve(self, ids: Iterable[str], user: str, reason: str, duration_s: float) -> None:
        limit = self.settings.max_shelve_h * 3600
        if not 0 < duration_s <= limit:
            raise AlarmCommandError(f"a shelf lasts more than 0 s and at most {self.settings.max_shelve_h:g} h "
                                    f"(alarms.max_shelve_h); {duration_s:g} s asked")
        self._each(ids, lambda p, now: p.shelve(user, reason, now + duration_s, now))

    def unshelve(self, ids: Iterable[str], user: str, reason: str = "") -> None:
        self._each(ids, lambda p, now: p.unshelve(user, reason, now))

    def remove_from_service(self, ids: Iterable[str], user: str, reason: str) -> None:
        self._each(ids, lambda p, now: p.remove_from_service(user, reason, now))

    def return_to_service(self, ids: Iterable[str], user: str, reason: str = "") -> None:
        self._each(ids, lambda p, now: p.return_to_service(user, reason, now))

    def comment(self, ids: Iterable[str], user: str, text: str) -> None:
        self._each(ids, lambda p, now: p.add_comment(user, text, now))

    def _points(self, ids: Iterable[str]) -> list[AlarmPoint]:
        points = []
        for alarm_id in ids:
            point = self.points.get(alarm_id)
            if point is None:
                raise AlarmCommandError(f"no alarm {alarm_id!r} in this site")
            points.append(point)
        return points

    def _each(self, ids: Iterable[str], command: Callable[[AlarmPoint, float], None]) -> None:
        """All or nothing is not possible (each alarm's state differs), so each is tried and the refusals
        are reported together after the others were done."""
        now = self.clock()
        refusals = []
        for point in self._points(ids):
            try:
                command(point, now)
            except AlarmCommandError as exc:
                refusals.append(str(exc))
        self._publish()
        if refusals:
            raise AlarmCommandError("; ".join(refusals))

    # -- transitions -------------------------------------------------------------------------------------

    def _emit(self, point: AlarmPoint, event: str, user: str, old: AlarmState, reason: str) -> None:
        now = self.clock()
        new = point.state
        self._changed[point.id] = point
        self._dirty = True
        if new is AlarmState.UNACKNOWLEDGED and old is not AlarmState.UNACKNOWLEDGED:  # shown to the operator
            self._activated(point, now)
        if point.spec.group and new is AlarmState.NORMAL:
            self._release_first_out(point.spec.group)
        if self.journal is not None:
            category = Category.OPERATOR if user else Category.ALARM  # a shelf that expired is the system's
            self.journal.record(JournalEntry(
                ts=now, category=category, event=event, source=point.id, user=user, old_value=old.value,
                new_value=new.value, reason=reason, message=point.message or point.render(point.value)))

    def _activated(self, point: AlarmPoint, now: float) -> None:
        group = point.spec.group
        if group and not any(p.first_out for p in self._groups[group]):
            point.first_out = True
        self._activations.append(now)
        self._update_flood(now)

    def _release_first_out(self, group: str) -> None:
        members = self._groups[group]
        if all(p.state is AlarmState.NORMAL for p in members):
            for member in members:
                if member.first_out:
                    member.first_out = False
                    member._snapshot = None
                    self._changed[member.id] = member

    def _update_flood(self, now: float) -> None:
        window = self.settings.flood_window_s
        while self._activations and self._activations[0] <= now - window:
            self._activations.popleft()
        flooding = len(self._activations) > self.settings.flood_alarms
        if flooding != (self._flood_since is not None):
            self._flood_changed = True
        if flooding and self._flood_since is None:
            self._flood_since = now
            self._system_event("flood_start", f"{len(self._activations)} alarms in {window / 60:g} min", now)
        elif not flooding and self._flood_since is not None:
            self._flood_since = None
            self._system_event("flood_end", f"{len(self._activations)} alarms in {window / 60:g} min", now)

    @property
    def flood(self) -> FloodStatus:
        return FloodStatus(self._flood_since is not None, len(self._activations), self.settings.flood_window_s,
                           self._flood_since)

    def _system_event(self, event: str, message: str, now: float) -> None:
        log.warning("alarms: %s (%s)", event.replace("_", " "), message)
        if self.journal is not None:
            self.journal.record(JournalEntry(ts=now, category=Category.ALARM, event=event, message=message))

    def _publish(self) -> None:
        if not self._changed and not self._flood_changed:
            return
        now = self.clock()
        changed = [p.snapshot(now) for p in self._changed.values()]
        self._changed.clear()
        self._flood_changed = False
        flood = self.flood
        for listener in self._listeners:
            try:
                listener(changed, flood)
            except Exception:
                log.exception("alarm listener %r failed", listener)
