"""Alarm states that must survive a restart of Linewise (ISA-18.2: a restart is not a reset).

A latched trip stays latched, an acknowledged alarm that is still active is not annunciated again, a shelf
runs to its expiry and an alarm taken out of service stays out. Only alarms away from normal are kept, in
one small JSON file in the data directory, replaced atomically (written aside, then renamed), so a crash
leaves the previous file or the new one, never half of one. A file that cannot be read is set aside and
reported: the alarms then start from the process values, which is safe (everything active is shown anew).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from hmi.files import write_atomically

log = logging.getLogger(__name__)

FORMAT = 1


@dataclass(frozen=True, slots=True)
class SavedAlarm:
    active: bool
    acknowledged: bool
    latched: bool
    activated_at: float | None
    acknowledged_at: float | None
    acknowledged_by: str
    message: str
    shelved_until: float | None
    shelved_by: str
    shelve_reason: str
    out_of_service_reason: str
    comment: str


def save_alarm_states(path: Path, states: dict[str, SavedAlarm]) -> None:
    """Replace the file with these states (blocking; small)."""
    write_atomically(path, json.dumps({"format": FORMAT, "saved_at": time.time(),
                                       "alarms": {alarm_id: asdict(state) for alarm_id, state in states.items()}}))


def load_alarm_states(path: Path) -> dict[str, SavedAlarm]:
    """The saved states; {} when there is no file or it cannot be used (then set aside and logged)."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        return {alarm_id: SavedAlarm(**state) for alarm_id, state in data["alarms"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            path.rename(aside)
        except OSError:
            aside = path
        log.error("alarm states in %s could not be read (%s); alarms start from the process values and every "
                  "active alarm is shown anew. The file is kept as %s.", path, exc, aside)
        return {}
