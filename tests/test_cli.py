"""The `linewise` command as a user runs it: bad sites, headless edge mode, screenshots."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from hmi.storage.database import HistorianError
from hmi.storage.historian import read_history
from tests.support import wait_until

LINEWISE = [sys.executable, "-m", "hmi.cli"]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_invalid_site_exits_2_with_file_line_and_field(tmp_path):
    (tmp_path / "site.yaml").write_text("schema_version: 1\nname: X\nconnections: []\ntags:\n"
                                        "  - name: a\n    address: opcx://plc/ns=2;s=A\n")
    result = subprocess.run([*LINEWISE, "--site", str(tmp_path), "--headless"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert f"{tmp_path / 'site.yaml'}:6: tags[0].address: unknown scheme 'opcx'" in result.stderr


def test_no_site_and_no_demo_is_a_usage_error():
    result = subprocess.run(LINEWISE, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--site DIR" in result.stderr


def stored(history: Path, tag: str) -> int:
    """Rows of `tag` so far; 0 while the historian has not created its file and tables yet."""
    try:
        return len(read_history(history, tag, 0, 4e9))
    except HistorianError:
        return 0


def test_headless_demo_stops_cleanly_on_sigterm_with_history_flushed(tmp_path):
    process = subprocess.Popen([*LINEWISE, "--demo", "--headless", "--data-dir", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: children_of(process.pid), timeout=30, message="the demo plant child process")
        plant_pids = children_of(process.pid)
        history = tmp_path / "history.sqlite"
        # acquire until both protocols have committed rows (polling: a loaded machine starts slower)
        wait_until(lambda: stored(history, "tank_level") > 10 and stored(history, "outlet_flow") >= 1, timeout=60,
                   interval=0.5, message="rows from both PLCs in the historian")
        flow_rows = len(read_history(history, "outlet_flow", 0, 4e9))
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "samples written" in output
    for pid in plant_pids:  # the plant is stopped with the app, never orphaned
        wait_until(lambda pid=pid: not Path(f"/proc/{pid}").exists() or "Z" in
                   Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0], timeout=10,
                   message=f"plant process {pid} to exit")
    assert len(read_history(history, "tank_level", 0, 4e9)) > 10  # over OPC UA
    # over Modbus; a steady flow is compressed, but its last value, held by the compressor, is stored on stop
    assert len(read_history(history, "outlet_flow", 0, 4e9)) > flow_rows


def test_screenshot_is_a_grey_isa101_screen_with_live_values(tmp_path, qapp):
    from PySide6.QtGui import QColor, QImage

    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([*LINEWISE, "--demo", "--screenshot", str(shot), "--after", "4", "--data-dir",
                             str(tmp_path)], capture_output=True, text=True, timeout=90, env=env)
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert image.width() >= 1024
    assert image.height() >= 600
    colourful = total = 0
    for y in range(0, image.height(), 4):
        for x in range(0, image.width(), 4):
            total += 1
            if QColor(image.pixel(x, y)).hsvSaturation() > 90:
                colourful += 1
    # Normal operation on an ISA-101 screen is grey: colour is kept for abnormal states.
    # (Measured: 0.03 % when all is well; 1.9 % with both PLCs down and every value magenta.)
    assert colourful / total < 0.005, f"{colourful / total:.1%} of the screen is saturated colour"
