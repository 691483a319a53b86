"""Keep the garbage collector's full passes short once the application has started.

Everything alive after startup (imported modules, the site, drivers, widgets) lives until exit,
yet CPython's full (generation 2) collection walked all ~100,000 of those objects every few
seconds while updates stream in: 50-80 ms each on the reference machine, with the GIL held, so
the io loop stalled and the server-to-screen latency had a 76 ms p99 where asyncua alone has
33 ms. Frozen, they are skipped: full passes take ~2 ms and the p99 fell to 24 ms
(tests/benchmarks/bench_opcua_latency.py measures it). Cycles among them are never freed, which
costs nothing for objects kept to the end anyway.
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> int:
    """Collect once, then move every surviving object to the permanent generation; returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
