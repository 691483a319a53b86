"""1-minute and 1-hour roll-ups, maintained incrementally from what the historian stores.

Each tag has one `ext.rollup_stream` state per tier, fed with the rows its storage mode keeps (so a roll-up
answers exactly as the stored history does, interpolation rules included) on the historian's thread at every
flush; a bucket is written once the stream has passed its end, and a stop ends every stream (its last
segment ends at the stop). The definitions of the fields are the kernel's (`ext.rollup_twins`): count, good
count, sum (mean), min/max of what a trend draws, first and last sample, integral and good seconds
(time-weighted mean), covered seconds (good fraction).

Acquisition restarting inside a bucket that a stop already closed gives the bucket a second part: the
upsert merges it (counts, sums and seconds add, min/max combine, first/last by time).
"""

from __future__ import annotations

import numpy as np

import ext
from hmi.storage.compression import ANALOG, Rows

TIERS: dict[str, float] = {"rollup_1m": 60.0, "rollup_1h": 3600.0}
_COLUMNS = ("tag_id", "start_us", "count", "good_count", "sum", "min", "max", "first_us", "first_value",
            "first_quality", "last_us", "last_value", "last_quality", "integral", "good_s", "covered_s")
RollupRow = tuple  # in _COLUMNS order


def merge_sql(dialect: str, table: str) -> str:
    """executemany SQL inserting rows in _COLUMNS order; a row for a bucket already there is merged into it."""
    mark = "?" if dialect == "sqlite" else "%s"
    low, high = ("min", "max") if dialect == "sqlite" else ("LEAST", "GREATEST")

    def combined(fn: str, column: str) -> str:  # NULL (nothing good) on either side gives the other
        return f"coalesce({fn}({table}.{column}, excluded.{column}), {table}.{column}, excluded.{column})"

    def by_time(edge: str, column: str) -> str:
        later = "<" if edge == "first" else ">="
        newer = f"excluded.{edge}_us {later} {table}.{edge}_us"
        return f"CASE WHEN {newer} THEN excluded.{column} ELSE {table}.{column} END"

    sets = [f"{c} = {table}.{c} + excluded.{c}" for c in ("count", "good_count", "sum", "integral", "good_s",
                                                          "covered_s")]
    sets += [f"min = {combined(low, 'min')}", f"max = {combined(high, 'max')}"]
    for edge in ("first", "last"):
        sets += [f"{edge}_{c} = {by_time(edge, f'{edge}_{c}')}" for c in ("value", "quality")]
        sets.append(f"{edge}_us = {by_time(edge, f'{edge}_us')}")  # (SET reads the row as it was)
    return (f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES ({', '.join([mark] * len(_COLUMNS))}) "
            f"ON CONFLICT (tag_id, start_us) DO UPDATE SET {', '.join(sets)}")


class TagRollups:
    """One tag's roll-up streams. Writer thread only."""

    def __init__(self, kind: str) -> None:
        self.analog = kind == ANALOG
        self._states: dict[str, ext.RollupState | None] = dict.fromkeys(TIERS)

    def feed(self, rows: Rows, final_at: float | None = None) -> dict[str, list[RollupRow]]:
        """Stored rows (ts_us, value, quality) in time order; returns the closed buckets per table, without
        the tag id (the caller's first column)."""
        if not rows and final_at is None:
            return {}
        table = np.array([(ts, np.nan if v is None else v, q) for ts, v, q in rows], dtype=np.float64)
        table = table.reshape(-1, 3)
        return self.feed_arrays(table[:, 0] * 1e-6, table[:, 1], table[:, 2].astype(np.int64), final_at)

    def feed_arrays(self, t: np.ndarray, y: np.ndarray, q: np.ndarray,
                    final_at: float | None = None) -> dict[str, list[RollupRow]]:
        """`feed` for rows already in arrays (t in seconds, y NaN for no value)."""
        out: dict[str, list[RollupRow]] = {}
        for name, width in TIERS.items():
            state = self._states[name]
            end = final_at
            if end is not None:  # a stop ends the last segment; a source clock ahead of ours ends it at its sample
                end = max(end, float(t[-1]) if len(t) else -np.inf, state.last_t if state is not None else -np.inf)
            closed, self._states[name] = ext.rollup_stream(t, y, q, width, self.analog, state=state, final_at=end)
            if len(closed):
                out[name] = _as_rows(closed)
        return out


def _as_rows(r) -> list[RollupRow]:  # type: ignore[no-untyped-def]
    def us(a: np.ndarray) -> list[int]:
        return np.round(a * 1e6).astype(np.int64).tolist()

    def nullable(a: np.ndarray) -> list[float | None]:
        return [None if v != v else v for v in a.tolist()]

    return list(zip(us(r.start), r.count.tolist(), r.good_count.tolist(), r.sum.tolist(), nullable(r.min),
                    nullable(r.max), us(r.first_t), nullable(r.first_y), r.first_q.tolist(), us(r.last_t),
                    nullable(r.last_y), r.last_q.tolist(), r.integral.tolist(), r.good_s.tolist(),
                    r.covered_s.tolist(), strict=True))
