"""One flush's samples as arrays, sorted by tag and time: the historian's writer works on these.

The io loop hands the writer the batches as the tag registry made them (a list of TagUpdates per batch, no
per-sample work there); here they become four arrays in a few C-level passes (`map`, `itemgetter`,
`np.fromiter`), so a flush of 100,000 samples costs milliseconds rather than a Python loop per sample.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from drivers.model import TagUpdate

_TAG, _VALUE, _QUALITY, _SOURCE_TS = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(3)


def numeric(value: object) -> float:
    """What the historian stores of a value: numbers and booleans as float, anything else (no value, text,
    an array) as NaN, i.e. NULL."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return float("nan")


@dataclass(frozen=True)
class SampleTable:
    index: np.ndarray  # int64: the tag's position in the historian's list of tags
    t: np.ndarray  # float64 source time, epoch s
    value: np.ndarray  # float64, NaN for no value
    quality: np.ndarray  # int64
    starts: np.ndarray  # int64: where each tag's samples start (the last run to the end)
    tags: np.ndarray  # int64: the tag position of each of those runs

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def stops(self) -> np.ndarray:
        return np.append(self.starts[1:], len(self))


def sample_table(batches: Sequence[Sequence[TagUpdate]], position: Mapping[str, int],
                 text_tags: np.ndarray) -> SampleTable:
    """The samples of the historised tags (`position`: name -> index) in (tag, time) order; samples with the
    same time keep their order. `text_tags`: a bool per position, True where values are text (stored NULL)."""
    updates = list(itertools.chain.from_iterable(batches))
    n = len(updates)
    index = np.fromiter(map(position.get, map(_TAG, updates), itertools.repeat(-1)), np.int64, n)
    t = np.fromiter(map(_SOURCE_TS, updates), np.float64, n)
    quality = np.fromiter(map(_QUALITY, updates), np.int64, n)
    try:
        # numbers, booleans and None convert in C (None to NaN, like numeric()); text is masked below
        value = np.fromiter(map(_VALUE, updates), np.float64, n)
    except (TypeError, ValueError, OverflowError):  # an array or an odd object among them: one by one
        value = np.fromiter(map(numeric, map(_VALUE, updates)), np.float64, n)
    known = index >= 0
    if not known.all():
        index, t, value, quality = index[known], t[known], value[known], quality[known]
    if text_tags.any():
        value[text_tags[index]] = np.nan
    order = np.argsort(index, kind="stable")
    by_tag, by_tag_t = index[order], t[order]
    same_tag = by_tag[1:] == by_tag[:-1]
    if (same_tag & (by_tag_t[1:] < by_tag_t[:-1])).any():  # a tag's samples out of time order (two sources)
        order = np.lexsort((t, index))  # by tag, then time; stable, so equal times keep their order
        by_tag, by_tag_t = index[order], t[order]
        same_tag = by_tag[1:] == by_tag[:-1]
    starts = np.flatnonzero(np.concatenate(([True], ~same_tag))) if len(by_tag) else np.empty(0, np.int64)
    return SampleTable(by_tag, by_tag_t, value[order], quality[order], starts.astype(np.int64), by_tag[starts])
