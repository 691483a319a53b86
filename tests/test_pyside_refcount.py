"""Guards against the PySide6 build that corrupts reference counts of None/True.

PySide6 6.12.0 on CPython 3.11 loses a reference to None (and True) on every pyqtgraph
setData + repaint; after a few hundred frames the interpreter aborts with
`Fatal Python error: none_dealloc`. This test fails on such a build before a user's
trend does. (On CPython >= 3.12 None is immortal and the count cannot show it.)
"""

from __future__ import annotations

import gc
import sys

import numpy as np
import pyqtgraph as pg
import pytest

CYCLES = 20


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None and True are immortal on CPython >= 3.12")
def test_setdata_and_repaint_do_not_leak_references_to_singletons(qtbot):
    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(400, 300)
    plot.show()
    curve = plot.plot(pen="k")
    x = np.arange(200, dtype=float)

    def cycle(i: int) -> None:
        curve.setData(x, np.sin(x / 10 + i))
        plot.repaint()

    for i in range(3):  # warm up caches that legitimately hold a reference
        cycle(i)
    gc.collect()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for i in range(CYCLES):
        cycle(i)
    gc.collect()
    none_drift = sys.getrefcount(None) - none_before
    true_drift = sys.getrefcount(True) - true_before
    plot.close()
    # A healthy build stays within a few references either way; the broken one loses at
    # least one per cycle. A *loss* is what kills the interpreter, so that is what we test.
    assert none_drift > -CYCLES // 2, f"None lost {-none_drift} references in {CYCLES} setData+repaint cycles"
    assert true_drift > -CYCLES // 2, f"True lost {-true_drift} references in {CYCLES} setData+repaint cycles"
