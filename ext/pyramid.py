"""A live series with a min/max pyramid: a redraw at any zoom costs O(pixels), not O(points).

``MinMaxPyramid`` is the ring buffer of a live series: a batch append is a copy, a window is a slice, and
the oldest samples are evicted once ``capacity`` is reached. It holds times, ``columns`` value columns
each with cached summary levels (see ``ext.pyramid_twins`` for the layout), and ``payload`` columns
stored alongside without levels (a quality code, say). ``decimate(t0, t1, n_bins)`` answers exactly what
``minmax_decimate`` (or M4) of the samples in [t0, t1] would, but from the levels: per pixel column it
reads at most ~2·block samples or blocks per level at each end instead of every sample. Appends update
the levels incrementally (amortised O(1) per sample).

Eviction drops whole top-level blocks (``evict_unit`` samples at a time), so every level stays aligned to
the samples and nothing is rebuilt: the series holds between ``capacity - evict_unit`` and ``capacity``
samples once full.

Not thread-safe: append and query from one thread (the GUI thread for a trend).
"""

from __future__ import annotations

import operator

import numpy as np

import ext
from ext.numpy_twins import check_batch_times, check_n_bins, check_series
from ext.pyramid_twins import MAX_DEPTH, Level

DEFAULT_BLOCK = 16


class MinMaxPyramid:
    """A time series (finite, non-decreasing t) with cached min/max levels for fast decimation."""

    def __init__(self, capacity: int, block: int = DEFAULT_BLOCK, columns: int = 1, payload: int = 0,
                 implementation: object | None = None) -> None:
        capacity = operator.index(capacity)
        block = operator.index(block)
        if operator.index(columns) < 1 or operator.index(payload) < 0:
            raise ValueError(f"need at least one summarised column and no negative payload, got {columns}, {payload}")
        if block < 2 or block & (block - 1):
            raise ValueError(f"block must be a power of two >= 2, got {block}")
        if capacity < block:
            raise ValueError(f"capacity must be >= block ({block}), got {capacity}")
        self.block = block
        # reduce_samples, reduce_level, pyramid_select: compiled or twins, as ext chose (or as a test asks)
        self._impl = implementation or ext
        # Levels up to a block size of about capacity/16, so eviction in top-level blocks costs at most
        # ~1/16 of the history; a query spanning more than a top block still needs only few of them.
        self.depth = 1
        while self.depth < MAX_DEPTH and block ** (self.depth + 1) * 16 <= capacity:
            self.depth += 1
        self.evict_unit = block**self.depth
        self.capacity = max(capacity, 2 * self.evict_unit)
        self._t = np.empty(self.capacity, dtype=np.float64)
        self._columns = [np.empty(self.capacity, dtype=np.float64) for _ in range(columns + payload)]
        self._y = self._columns[0]
        self.summarised = columns
        # per summarised column, its levels 1..depth
        self._levels: list[list[Level]] = [
            [self._new_level(self.capacity // block**k) for k in range(1, self.depth + 1)] for _ in range(columns)
        ]
        self._blocks = [0] * self.depth  # complete blocks summarised per level (the same in every column)
        self._size = 0

    @staticmethod
    def _new_level(n: int) -> Level:
        return (np.empty(n), np.empty(n, dtype=np.intp), np.empty(n), np.empty(n, dtype=np.intp),
                np.empty(n, dtype=np.intp))

    def __len__(self) -> int:
        return self._size

    @property
    def t(self) -> np.ndarray:
        """The stored times, oldest first (a read-only view)."""
        view = self._t[: self._size]
        view.flags.writeable = False
        return view

    @property
    def y(self) -> np.ndarray:
        """The first column, oldest first (a read-only view)."""
        return self.column(0)

    def column(self, index: int) -> np.ndarray:
        """A stored column, oldest first (a read-only view)."""
        view = self._columns[index][: self._size]
        view.flags.writeable = False
        return view

    def latest(self) -> tuple[float, float] | None:
        if self._size == 0:
            return None
        return float(self._t[self._size - 1]), float(self._y[self._size - 1])

    def clear(self) -> None:
        self._size = 0
        self._blocks = [0] * self.depth

    def append(self, t: np.ndarray, *columns: np.ndarray) -> None:
        """Append a batch: times and one array per column (summarised first, then payload), evicting the
        oldest samples beyond ``capacity``.

        Raises ValueError (and appends nothing) if the columns do not match, a time is not finite or times
        decrease, within the batch or relative to the latest stored sample.
        """
        if len(columns) != len(self._columns):
            raise ValueError(f"expected {len(self._columns)} column(s) after t, got {len(columns)}")
        arrays = [check_series(t, column)[1] for column in columns]
        t_arr = check_series(t, columns[0])[0]
        m = t_arr.shape[0]
        if m == 0:
            return
        check_batch_times(t_arr, self._t[self._size - 1] if self._size else None)
        room = self.capacity - self.evict_unit
        if m > room:  # more than the series holds after an eviction: keep the newest samples of the batch
            self.clear()
            t_arr, arrays, m = t_arr[m - room :], [a[m - room :] for a in arrays], room
        if self._size + m > self.capacity:
            self._evict(self._size + m - self.capacity)
        self._t[self._size : self._size + m] = t_arr
        for store, values in zip(self._columns, arrays, strict=True):
            store[self._size : self._size + m] = values
        self._size += m
        self._extend_levels()

    def _evict(self, at_least: int) -> None:
        """Drop the oldest samples, a whole number of top-level blocks, shifting the levels to match."""
        drop = min(self._size, -(-at_least // self.evict_unit) * self.evict_unit)
        keep = self._size - drop
        for store in (self._t, *self._columns):
            store[:keep] = store[drop : self._size]
        self._size = keep
        for k in range(self.depth):
            gone = drop // self.block ** (k + 1)
            have = self._blocks[k] - gone
            for levels in self._levels:
                level = levels[k]
                for arr in level:
                    arr[:have] = arr[gone : self._blocks[k]]
                for at in (level[1], level[3], level[4]):
                    at[:have] = np.where(at[:have] >= 0, at[:have] - drop, -1)
            self._blocks[k] = have

    def _extend_levels(self) -> None:
        for k in range(self.depth):
            stop = self._size // self.block ** (k + 1)
            first = self._blocks[k]
            if stop <= first:
                break  # no new block here means none above either
            for column, levels in zip(self._columns, self._levels, strict=False):
                if k == 0:
                    self._impl.reduce_samples(column, self.block, first, stop, levels[0])
                else:
                    self._impl.reduce_level(levels[k - 1], self.block, first, stop, levels[k])
            self._blocks[k] = stop

    def bounds(self, t0: float, t1: float) -> tuple[int, int]:
        """The index range [i0, i1) of the samples with t0 <= t <= t1."""
        t = self._t[: self._size]
        return int(np.searchsorted(t, t0, side="left")), int(np.searchsorted(t, t1, side="right"))

    def decimate_indices(self, t0: float, t1: float, n_bins: int, with_ends: bool = False, column: int = 0,
                         grid: tuple[float, float] | None = None) -> np.ndarray:
        """Indices of the samples min/max (``with_ends``: M4) decimation of a summarised column over the
        window [t0, t1] keeps, ascending. The bins split the window's first to last sample, or ``grid``
        (g0, g1) when given: a view's pixel columns, fixed in time (then g0 <= t0 <= t1 <= g1)."""
        n_bins = check_n_bins(n_bins)
        if not 0 <= column < self.summarised:
            raise ValueError(f"column {column} has no levels (summarised columns: 0..{self.summarised - 1})")
        t0, t1 = float(t0), float(t1)
        if not t0 <= t1:
            return np.empty(0, dtype=np.intp)
        i0, i1 = self.bounds(t0, t1)
        levels = [tuple(a[: self._blocks[k]] for a in level) for k, level in enumerate(self._levels[column])]
        if grid is not None and not (np.isfinite(grid).all() and grid[0] <= t0 and t1 <= grid[1]):
            raise ValueError(f"grid {grid!r} must be finite and hold the window [{t0!r}, {t1!r}]")
        return self._impl.pyramid_select(self._t[: self._size], self._columns[column][: self._size], levels,
                                         self.block, i0, i1, n_bins, with_ends, grid)

    def decimate(self, t0: float, t1: float, n_bins: int, with_ends: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The samples min/max (``with_ends``: M4) decimation of the window [t0, t1] keeps (first column)."""
        idx = self.decimate_indices(t0, t1, n_bins, with_ends)
        return self._t[idx], self._y[idx]

    def take(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """New arrays of the samples at ``idx``: times, then every column."""
        return (self._t[idx], *(column[idx] for column in self._columns))

    def window(self, t0: float, t1: float) -> tuple[np.ndarray, ...]:
        """Copies of the samples with t0 <= t <= t1: times, then every column."""
        i0, i1 = self.bounds(t0, t1)
        return (self._t[i0:i1].copy(), *(column[i0:i1].copy() for column in self._columns))
