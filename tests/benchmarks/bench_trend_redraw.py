"""Trend redraw: the TrendWidget vs pyqtgraph's own downsampling, rendered offscreen (software) in one run.

Three cases from the trend issue, each frame a real redraw (the view moves, so nothing can be served from
the previous frame) of a 1600x900 window:

- 50 pens x 1M samples each, the whole history in view (goal >= 30 fps; pyqtgraph's
  `setDownsampling(auto=True, method="peak")` + `setClipToView` is the baseline);
- the same zoomed to 10 % (goal >= 60 fps);
- 10 pens x 10k live samples scrolling on the widget's own 60 Hz timer with a new sample per pen every
  frame (goal: 60 fps using <= 50 % of a core; CPU = process time / wall time over 3 s of the event loop).

Painting is Qt's own: the offscreen platform paints the shown windows into its backing store when the
event loop processes their update requests, so only what changed is repainted, as on a screen.

Run with `python -m tests.benchmarks.bench_trend_redraw` from the repository root (QT_QPA_PLATFORM=offscreen).
"""

from __future__ import annotations

import os
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt is imported

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication

from drivers.model import Quality
from hmi.bridge import Bridge
from hmi.runtime import Runtime
from hmi.site import load_site
from tests.benchmarks import write_result
from widgets.trend import TrendWidget

SIZE = (1600, 900)
HISTORY_PENS, HISTORY_POINTS = 50, 1_000_000
LIVE_PENS, LIVE_POINTS = 10, 10_000
FRAMES = 20
GOOD = float(Quality.GOOD)


def site_folder(root: Path, n: int) -> Path:
    tags = "\n".join(f'  - {{name: p{i}, address: "mem://local/p{i}", units: m, range: {{low: -3000, high: 3000}}}}'
                     for i in range(n))
    folder = root / "site"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.yaml").write_text(textwrap.dedent("""\
        schema_version: 1
        name: Redraw benchmark
        connections:
          - {name: local, url: "mem://local"}
        tags:
        """) + tags + "\n", encoding="utf-8")
    return folder


def random_walks(n_pens: int, n_points: int, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.cumsum(rng.standard_normal(n_points)) for _ in range(n_pens)]


def paint(app: QApplication) -> None:
    """Let Qt paint what changed, as it would for a window: the offscreen platform paints shown widgets
    into its backing store when the update requests are processed."""
    app.processEvents()


def frames_per_second(frame: Callable[[int], None], frames: int = FRAMES) -> float:
    frame(0)  # warm up: first layout, caches, history answers
    began = time.perf_counter()
    for k in range(1, frames + 1):
        frame(k)
    return frames / (time.perf_counter() - began)


def ours_history(app: QApplication, bridge: Bridge, walks: list[np.ndarray], t: np.ndarray) -> dict[str, float]:
    trend = TrendWidget(bridge, [f"p{i}" for i in range(len(walks))], live=False, capacity=len(t) + 1)
    trend.resize(*SIZE)
    trend.show()
    quality = np.full(len(t), GOOD)
    for i, y in enumerate(walks):
        trend.pens[f"p{i}"].series.clear()  # the tag's current value, appended when the pen was made, is newer
        assert trend.pens[f"p{i}"].series.extend(t, y, quality) == len(t)
    result = {}
    try:
        for label, fraction in (("all", 1.0), ("10%", 0.1)):
            span = (t[-1] - t[0]) * fraction
            start = t[0] + (t[-1] - t[0] - span) / 2

            def frame(k: int, start: float = start, span: float = span) -> None:
                step = span / 200  # a pan of a few pixels every frame: a real redraw, not a cached one
                trend.set_time_range(start + k * step, start + span + k * step)
                trend.redraw(force=True)
                paint(app)

            result[label] = frames_per_second(frame)
            drawn = sum(pen.drawn for pen in trend.pens.values())
            assert drawn > len(walks) * 1000, f"only {drawn} points drawn: the benchmark is not drawing the data"
            result[f"{label}_points_drawn"] = drawn
    finally:
        trend.release()
        trend.close()
        trend.deleteLater()
        app.processEvents()
    return result


def pyqtgraph_history(app: QApplication, walks: list[np.ndarray], t: np.ndarray) -> dict[str, float]:
    plot = pg.PlotWidget()
    plot.resize(*SIZE)
    plot.show()
    for i, y in enumerate(walks):
        curve = pg.PlotDataItem(t, y, pen=pg.mkPen(pg.intColor(i, len(walks)), width=1), connect="finite")
        plot.addItem(curve)
        curve.setDownsampling(auto=True, method="peak")  # after addItem, or it is silently reset
        curve.setClipToView(True)
    result = {}
    try:
        for label, fraction in (("all", 1.0), ("10%", 0.1)):
            span = (t[-1] - t[0]) * fraction
            start = t[0] + (t[-1] - t[0] - span) / 2

            def frame(k: int, start: float = start, span: float = span) -> None:
                step = span / 200
                plot.setXRange(start + k * step, start + span + k * step, padding=0)
                paint(app)

            result[label] = frames_per_second(frame, frames=5)
    finally:
        plot.close()
        plot.deleteLater()
        app.processEvents()
    return result


def ours_live(app: QApplication, bridge: Bridge) -> dict[str, float]:
    """10 pens with 10k samples each, live, a sample per pen arriving at the bridge's delivery rate (20 Hz:
    the bridge coalesces, no widget gets data more often). Two measurements of 3 s of the Qt event loop:

    - forced: a 60 Hz timer redraws and repaints the whole trend every tick whether or not anything moved
      by a pixel (the stress case the goal is set for);
    - own timer: the widget's 60 Hz redraw timer, which draws only when the view moved by half a pixel or
      a pen has new data (what a live trend costs in use).
    """
    trend = TrendWidget(bridge, [f"p{i}" for i in range(LIVE_PENS)], span_s=LIVE_POINTS / 10, live=True,
                        capacity=4 * LIVE_POINTS, redraw_hz=60)
    trend.resize(*SIZE)
    trend.show()
    now = time.time()
    t = now - LIVE_POINTS / 10 + np.arange(LIVE_POINTS) / 10
    walks = random_walks(LIVE_PENS, LIVE_POINTS, seed=2)
    for i, y in enumerate(walks):
        trend.pens[f"p{i}"].series.clear()  # the tag's current value, appended when the pen was made, is newer
        assert trend.pens[f"p{i}"].series.extend(t, y, np.full(LIVE_POINTS, GOOD)) == LIVE_POINTS
    rng = np.random.default_rng(3)
    last = [float(y[-1]) for y in walks]

    def feed() -> None:
        stamp = time.time()
        for i in range(LIVE_PENS):
            last[i] += float(rng.standard_normal())
            trend.pens[f"p{i}"].series.append(stamp, last[i], GOOD)

    frames = [0]

    def forced_frame() -> None:
        trend.redraw(force=True)
        frames[0] += 1

    feeder = QTimer()
    feeder.setInterval(round(bridge._interval * 1000))  # the bridge's delivery period
    feeder.timeout.connect(feed)
    ticker = QTimer()
    ticker.setInterval(16)
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.timeout.connect(forced_frame)

    def run(seconds: float = 3.0) -> tuple[float, float]:
        loop = QEventLoop()
        frames[0] = 0
        cpu0, wall0 = time.process_time(), time.perf_counter()
        QTimer.singleShot(round(seconds * 1000), loop.quit)
        loop.exec()
        wall = time.perf_counter() - wall0
        return frames[0] / wall, (time.process_time() - cpu0) / wall

    try:
        paint(app)
        drawn = sum(pen.drawn for pen in trend.pens.values())
        assert drawn > LIVE_PENS * 1000, f"only {drawn} points drawn: the benchmark is not drawing the data"
        feeder.start()
        trend._timer.stop()  # forced: the ticker alone draws
        ticker.start()
        forced_fps, forced_cpu = run()
        ticker.stop()
        trend.view_changed.connect(lambda *_: frames.__setitem__(0, frames[0] + 1))
        trend._timer.start()
        own_fps, own_cpu = run()
    finally:
        feeder.stop()
        ticker.stop()
        trend.release()
        trend.close()
        trend.deleteLater()
        app.processEvents()
    return {"forced_fps": forced_fps, "forced_cpu_fraction": forced_cpu, "own_timer_fps": own_fps,
            "own_timer_cpu_fraction": own_cpu}


def main() -> None:
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(load_site(site_folder(Path(tmp), HISTORY_PENS)), Path(tmp) / "data")
        runtime.start()
        bridge = Bridge(runtime)
        try:
            t = time.time() - HISTORY_POINTS + np.arange(HISTORY_POINTS, dtype=np.float64)
            walks = random_walks(HISTORY_PENS, HISTORY_POINTS)
            ours = ours_history(app, bridge, walks, t)
            theirs = pyqtgraph_history(app, walks, t)
            live = ours_live(app, bridge)
        finally:
            bridge.close()
            runtime.stop()
    print(f"{HISTORY_PENS} pens x {HISTORY_POINTS:,} samples, {SIZE[0]}x{SIZE[1]}, software rendering, frames/s:")
    print(f"{'view':<8}{'TrendWidget':>13}{'pyqtgraph':>11}{'ratio':>8}   goal")
    for label, goal in (("all", 30), ("10%", 60)):
        ratio = ours[label] / theirs[label]
        print(f"{label:<8}{ours[label]:>13.1f}{theirs[label]:>11.1f}{ratio:>8.1f}   >= {goal} fps")
    print(f"live: {LIVE_PENS} pens x {LIVE_POINTS:,} samples, data at the bridge's 20 Hz:")
    print(f"  redrawn every 16 ms: {live['forced_fps']:.1f} fps using {live['forced_cpu_fraction'] * 100:.0f} % of a "
          f"core (goal: 60 fps with <= 50 %)")
    print(f"  the widget's own 60 Hz timer (draws what moved): {live['own_timer_fps']:.1f} redraws/s using "
          f"{live['own_timer_cpu_fraction'] * 100:.0f} % of a core")
    write_result("bench-trend-redraw", {
        "size": SIZE, "history_pens": HISTORY_PENS, "history_points": HISTORY_POINTS,
        "ours_fps": ours, "pyqtgraph_fps": theirs,
        "ratio_all": ours["all"] / theirs["all"], "ratio_10pct": ours["10%"] / theirs["10%"], "live": live,
    })


if __name__ == "__main__":
    main()
