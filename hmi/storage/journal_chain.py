"""The event journal's records, how each row is hashed into its station's chain, and the anchor file.

Chain. Each station (workstation; the host name by default) numbers its rows 1, 2, 3 ... (`seq`, no gaps)
and each row carries the hash of the one before it (`prev_hash`; 64 zeros for seq 1) and its own `hash`:

    hash = lowercase hex of SHA-256( F("linewise-journal-1") F(prev_hash) F(station) F(seq) F(ts_us)
                                     F(category) F(event) F(source) F(user_name) F(old_value)
                                     F(new_value) F(reason) F(message) F(result) )

    F(text) = the length of UTF-8(text) in bytes as an 8-byte big-endian unsigned integer, then UTF-8(text)

where the integers `seq` and `ts_us` (UTC epoch microseconds) are written in decimal ASCII ("-" before a
negative one, no leading zeros) and every other field is the column's text exactly as stored (never NULL;
"" when empty). The length prefixes make the encoding unambiguous: no two different rows hash the same bytes.

A chain alone cannot show that its newest rows were deleted, so after every commit the writer rewrites the
anchor file, JSON `{"<station>": {"seq": <last seq>, "hash": "<its hash>"}, ...}`, atomically (a new file
renamed over the old one). `verify_journal` checks that the row at the anchor's seq exists with that hash
and that no row follows it.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from hmi.files import write_atomically
from hmi.storage.database import database_url

GENESIS = "0" * 64  # the prev_hash of a station's first row
DOMAIN = "linewise-journal-1"  # names this encoding: a later one changes it
ANCHOR_FILE = "journal-head.json"
TEXT_FIELDS = ("event", "source", "user", "old_value", "new_value", "reason", "message", "result")


class Category(StrEnum):
    OPERATOR = "operator"
    ALARM = "alarm"
    SYSTEM = "system"
    CONFIG = "config"
    SECURITY = "security"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    ts: float  # epoch seconds, when it happened (stored to the microsecond)
    category: Category
    event: str  # "write", "acknowledge", "shelve", "alarm_active", "connection_lost", "app_start", ...
    source: str = ""  # a tag, alarm id or connection name
    user: str = ""  # "" for system events
    old_value: str = ""
    new_value: str = ""
    reason: str = ""
    message: str = ""
    result: str = "ok"  # "ok", "refused", "failed"


@dataclass(frozen=True, slots=True)
class StoredEntry:
    station: str
    seq: int
    entry: JournalEntry
    hash: str = ""


def ts_us(ts: float) -> int:
    return round(ts * 1_000_000)


def row_hash(prev_hash: str, station: str, seq: int, ts_us: int, category: str, event: str, source: str,
             user: str, old_value: str, new_value: str, reason: str, message: str, result: str) -> str:
    """The row's hash as the module docstring defines it."""
    digest = hashlib.sha256()
    for field in (DOMAIN, prev_hash, station, str(seq), str(ts_us), category, event, source, user, old_value,
                  new_value, reason, message, result):
        data = field.encode("utf-8")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def entry_hash(prev_hash: str, station: str, seq: int, entry: JournalEntry) -> str:
    e = entry
    return row_hash(prev_hash, station, seq, ts_us(e.ts), str(e.category), e.event, e.source, e.user, e.old_value,
                    e.new_value, e.reason, e.message, e.result)


def clean(entry: JournalEntry) -> JournalEntry:
    """The entry as it can be stored and hashed everywhere: text fields as text without NUL (PostgreSQL
    refuses it) or lone surrogates (not UTF-8), a known category, a finite time (now, if it was not)."""
    changes: dict[str, object] = {}
    for name in TEXT_FIELDS:
        value = getattr(entry, name)
        text = value if type(value) is str else ("" if value is None else str(value))
        if "\x00" in text:
            text = text.replace("\x00", "\ufffd")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "replace").decode("utf-8")
        if text is not value:
            changes[name] = text
    if type(entry.category) is not Category:
        try:
            changes["category"] = Category(entry.category)
        except ValueError:
            changes["category"] = Category.SYSTEM
            changes["message"] = f"[category {entry.category!r}] {changes.get('message', entry.message)}"
    if not isinstance(entry.ts, int | float) or not math.isfinite(entry.ts):
        changes["ts"] = time.time()
    return replace(entry, **changes) if changes else entry  # type: ignore[arg-type]


def default_anchor(target: Path | str, data_dir: Path | None = None) -> Path | None:
    """Where a journal's anchor is kept: in the station's data directory when one is given (as the runtime
    does), else next to a SQLite file; None for a server without a data directory (no anchor)."""
    if data_dir is not None:
        return Path(data_dir) / ANCHOR_FILE
    url = database_url(target)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database).with_name(ANCHOR_FILE)
    return None


class AnchorError(Exception):
    """The anchor file exists but cannot be read as one."""


def read_anchor(path: Path) -> dict[str, tuple[int, str]] | None:
    """{station: (seq, hash)}, or None when there is no file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnchorError(f"the journal anchor {path} cannot be read: {exc}") from None
    try:
        data = json.loads(raw)
        return {str(station): (int(head["seq"]), str(head["hash"])) for station, head in data.items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise AnchorError(f"the journal anchor {path} is not a valid anchor file ({exc})") from None


def write_anchor(path: Path, station: str, seq: int, hash_: str) -> None:
    """Set one station's head, keeping the others' (stations may share a file), atomically and durably."""
    try:
        heads = read_anchor(path) or {}
    except AnchorError:
        heads = {}  # unreadable: replaced (verify would report it either way)
    heads[station] = (seq, hash_)
    data = json.dumps({s: {"seq": q, "hash": h} for s, (q, h) in sorted(heads.items())}, indent=1)
    write_atomically(path, data)
