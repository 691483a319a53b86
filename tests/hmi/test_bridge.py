"""The bridge: coalesced batches to the GUI thread, per-tag dispatch, writes and their results."""

from __future__ import annotations

import textwrap

import pytest

from drivers.model import Quality, TagUpdate
from hmi.bridge import Bridge
from hmi.runtime import Runtime
from hmi.site import load_site

SITE = """\
schema_version: 1
name: Bridge test
connections:
  - {name: local, url: "mem://local"}
tags:
  - {name: a, address: "mem://local/a?initial=1"}
  - {name: b, address: "mem://local/b"}
  - name: sp
    address: "mem://local/sp?initial=5"
    writable: true
    limits: {low: 0, high: 10}
"""


@pytest.fixture
def runtime(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "site.yaml").write_text(textwrap.dedent(SITE))
    rt = Runtime(load_site(tmp_path / "site"), tmp_path / "data")
    rt.start()
    yield rt
    rt.stop()


def test_bursts_are_coalesced_to_the_latest_value_per_tag(qtbot, runtime):
    bridge = Bridge(runtime)
    batches: list[list[TagUpdate]] = []
    bridge.updates_delivered.connect(batches.append)
    seen_a: list[float] = []
    bridge.subscribe("a", lambda u: seen_a.append(u.value))
    burst = [TagUpdate(tag, float(i), Quality.GOOD, 1000.0 + i, 1000.0 + i) for i in range(500) for tag in "ab"]
    runtime.io.call_soon(runtime.registry.ingest, burst)  # one driver batch, on the io loop
    qtbot.waitUntil(lambda: any(u.tag == "b" and u.value == 499.0 for batch in batches for u in batch))
    delivered = [u for batch in batches for u in batch]
    assert len(delivered) <= 4, "a burst must reach the GUI as one coalesced batch, not per sample"
    assert seen_a[-1] == 499.0
    assert all(len({u.tag for u in batch}) == len(batch) for batch in batches)


def test_write_round_trip_and_refusals(qtbot, runtime):
    bridge = Bridge(runtime)
    values: list[float] = []
    bridge.subscribe("sp", lambda u: values.append(u.value))
    with qtbot.waitSignal(bridge.write_finished, timeout=5000) as finished:
        assert bridge.write("sp", "7.5")
    assert finished.args == ["sp", True, "written"]
    qtbot.waitUntil(lambda: bool(values) and values[-1] == 7.5)
    with qtbot.waitSignal(bridge.write_finished, timeout=1000) as refused:
        assert not bridge.write("sp", 11)
    assert refused.args[1] is False
    assert "outside the allowed range 0..10" in refused.args[2]
    with qtbot.waitSignal(bridge.write_finished, timeout=1000) as read_only:
        assert not bridge.write("a", 3)
    assert read_only.args[2] == "a is read-only"
    assert runtime.registry.last("sp").value == 7.5


def test_a_closed_bridge_receives_nothing_more(qtbot, runtime):
    bridge = Bridge(runtime)
    batches: list[list[TagUpdate]] = []
    bridge.updates_delivered.connect(batches.append)
    states: list[str] = []
    bridge.connection_changed.connect(lambda name, state, detail: states.append(state))
    bridge.close()
    runtime.io.call_soon(runtime.registry.ingest, [TagUpdate("a", 9.0, Quality.GOOD, 2000.0, 2000.0)])
    qtbot.waitUntil(lambda: runtime.registry.last("a").value == 9.0)
    qtbot.wait(300)  # longer than the bridge's delivery period
    assert batches == []
    runtime.stop()  # drivers closing change state: a closed bridge must not hear it
    qtbot.wait(50)
    assert states == []
