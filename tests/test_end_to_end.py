"""End to end: demo plant (child process, real OPC UA + Modbus) -> drivers -> runtime ->
bridge -> widgets on screen -> historian; and an operator's setpoint back to the PLC."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from drivers.model import Quality
from hmi.bridge import Bridge
from hmi.runtime import DemoPlantProcess, Runtime
from hmi.runtime.demo import DEMO_SITE
from hmi.site import load_site
from hmi.storage.historian import read_history
from hmi.ui.main_window import MainWindow
from tests.support import free_port
from widgets.connection_status import ConnectionStatus
from widgets.level_bar import LevelBar
from widgets.setpoint_entry import SetpointEntry
from widgets.trend import TrendWidget
from widgets.value_display import ValueDisplay


def widget_for(window: MainWindow, kind: type, tag: str):
    return next(w for s in window.screens.values() for w in s.widgets
                if isinstance(w, kind) and w.binding.tag == tag)


def widget_for_tags(window: MainWindow, tag: str) -> TrendWidget:
    return next(w for s in window.screens.values() for w in s.widgets if isinstance(w, TrendWidget) and tag in w.pens)


@pytest.fixture
def plant(tmp_path):
    process = DemoPlantProcess(data_dir=tmp_path)  # secured, certificates exchanged, as `--demo` runs it
    process.start()
    yield process
    process.stop()


@pytest.fixture
def runtime(plant, tmp_path):
    site = plant.site(load_site(DEMO_SITE))
    rt = Runtime(site, tmp_path)
    rt.start()
    yield rt
    rt.stop()


def test_live_values_setpoint_round_trip_and_history(qtbot, runtime, tmp_path):
    bridge = Bridge(runtime)
    window = MainWindow(bridge)
    qtbot.addWidget(window)
    window.show()
    flow = widget_for(window, ValueDisplay, "outlet_flow")  # over Modbus
    level = widget_for(window, LevelBar, "tank_level")  # over OPC UA
    qtbot.waitUntil(lambda: flow.binding.last is not None and flow.binding.last.quality is Quality.GOOD,
                    timeout=15_000)
    qtbot.waitUntil(lambda: level.fraction() is not None, timeout=15_000)
    assert flow.text() != "----"
    assert float(flow.text()) > 0
    status = window.connection_status
    assert isinstance(status, ConnectionStatus)
    qtbot.waitUntil(lambda: "connected" in status.state_text("plant_opcua"), timeout=10_000)

    # An operator types a new level setpoint: it goes to the PLC and the PLC's value comes back.
    entry = widget_for(window, SetpointEntry, "tank_level_sp")
    qtbot.keyClicks(entry.entry, "3.3")
    qtbot.keyClick(entry.entry, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: entry.current.text() == "3.30 m", timeout=10_000)
    assert entry.status.text() == "written"

    # Out of range: refused in the HMI with a reason, nothing sent, the setpoint unchanged.
    qtbot.keyClicks(entry.entry, "9")
    qtbot.keyClick(entry.entry, Qt.Key.Key_Return)
    assert "outside the allowed range 0.5..4.5 m" in entry.status.text()
    assert entry.current.text() == "3.30 m"

    # A boolean command over Modbus: STOP the pump and see its status follow.
    command = widget_for(window, SetpointEntry, "pump_run_cmd")
    qtbot.mouseClick(command.buttons[False], Qt.MouseButton.LeftButton)
    running = next(w for w in window.screens["overview"].widgets if getattr(w, "binding", None)
                   and w.binding.tag == "pump_running")
    qtbot.waitUntil(lambda: running.text() == "STOPPED", timeout=10_000)

    # The live trend is fed by the same updates (10 Hz from the plant, coalesced by the bridge).
    trend = widget_for_tags(window, "tank_level")
    qtbot.waitUntil(lambda: len(trend.pens["tank_level"].series) >= 10, timeout=15_000)
    trend.redraw(force=True)
    xs, ys = trend.pens["tank_level"].good_curve.getData()
    assert len(xs) >= 10
    assert 0 < ys[-1] < 5

    window.close()
    runtime.stop()  # flushes the historian
    history = read_history(runtime.historian.path, "tank_level", 0, 4e9)
    assert len(history) >= 8
    assert all(s.quality is Quality.GOOD for s in history)
    sp_history = [s.value for s in read_history(runtime.historian.path, "tank_level_sp", 0, 4e9)]
    assert 3.3 in sp_history


def test_unreachable_plc_shows_down_and_recovers(qtbot, tmp_path):
    opcua_port, modbus_port = free_port(), free_port()
    plant = DemoPlantProcess(opcua_port, modbus_port, data_dir=tmp_path)
    site = load_site(DEMO_SITE).with_connections({
        "plant_opcua": f"opc.tcp://127.0.0.1:{opcua_port}", "plant_modbus": f"modbus://127.0.0.1:{modbus_port}"},
        plant.connection_options())
    runtime = Runtime(site, tmp_path)
    runtime.start()
    try:
        bridge = Bridge(runtime)
        window = MainWindow(bridge)
        qtbot.addWidget(window)
        window.show()
        status = window.connection_status
        flow = widget_for(window, ValueDisplay, "outlet_flow")
        qtbot.waitUntil(lambda: "DOWN" in status.state_text("plant_modbus")
                        and "DOWN" in status.state_text("plant_opcua"), timeout=10_000)
        assert flow.badge.isVisible()
        assert flow.badge.text().startswith("COMM")
        plant.start()  # the PLC appears
        qtbot.waitUntil(lambda: "connected" in status.state_text("plant_modbus")
                        and "connected" in status.state_text("plant_opcua"), timeout=30_000)
        qtbot.waitUntil(lambda: not flow.badge.isVisible(), timeout=10_000)
        window.close()
    finally:
        runtime.stop()
        plant.stop()
