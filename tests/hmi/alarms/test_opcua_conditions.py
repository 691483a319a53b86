"""A PLC's own alarms (OPC UA Alarms & Conditions) in the runtime's alarm list, acknowledged back on the
server: a real asyncua.Server implementing Acknowledge, on its own loop, and the whole Runtime."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hmi.alarms.model import AlarmCommandError, AlarmState
from hmi.runtime import Runtime
from hmi.runtime.io_thread import IoThread
from hmi.site import load_site
from hmi.site.alarm_schema import Priority
from hmi.storage.journal import read_journal
from tests.drivers.opcua.test_conditions import alarm_server
from tests.support import wait_until

SITE = """\
schema_version: 1
name: PLC alarms
connections:
  - name: plc
    url: {url}
    options: {{security_mode: None, conditions: true, publishing_interval_ms: 50}}
  - {{name: m, url: "mem://"}}
tags:
  - {{name: note, address: mem://m/note}}
"""


@pytest.fixture
def plc():
    io = IoThread()
    io.start()
    server = alarm_server()
    url, alarm = io.run(server.__aenter__(), timeout=30)
    yield io, url, alarm
    io.run(server.__aexit__(None, None, None), timeout=30)
    io.stop()


def alarms(rt: Runtime) -> dict[str, object]:
    async def snapshot():
        return {a.id: a for a in rt.alarms.snapshot()}

    return rt.io.run(snapshot(), timeout=5)


def test_plc_alarm_is_listed_and_acknowledged_on_the_server(plc, tmp_path: Path):
    io, url, alarm = plc
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "site.yaml").write_text(textwrap.dedent(SITE).format(url=url))
    rt = Runtime(load_site(tmp_path / "site"), tmp_path / "data")
    rt.start()
    try:
        wait_until(lambda: rt.states["plc"][0].value == "connected", message="the PLC connection")
        alarm_id = f"plc:{alarm.condition.to_string()}"

        def raised() -> bool:
            io.run(alarm.raise_alarm(), timeout=5)  # again until the event subscription is there
            return alarm_id in alarms(rt)

        wait_until(raised, interval=0.3, message="the PLC's alarm in the list")
        # the operator acknowledges the state they see (its EventId): let the last one raised arrive
        wait_until(lambda: rt.alarm_commands.condition_event(alarm_id).event_id == alarm.last_event_id)
        listed = alarms(rt)[alarm_id]
        assert listed.state is AlarmState.UNACKNOWLEDGED
        assert (listed.priority, listed.message, listed.area, listed.kind) == (
            Priority.HIGH, "T-101 level high", "Tank T-101", "opcua")

        with pytest.raises(AlarmCommandError, match="only be acknowledged here"):
            rt.alarm_command("shelve", [alarm_id], reason="x", duration_s=60).result(timeout=5)
        assert rt.alarm_command("acknowledge", [alarm_id], comment="checked").result(timeout=10) == [alarm_id]
        assert alarm.acked
        assert alarm.comments == ["checked"]
        wait_until(lambda: alarms(rt)[alarm_id].state is AlarmState.ACKNOWLEDGED,
                   message="the server's acknowledged state")
    finally:
        rt.stop()
    entries = [e.entry for e in read_journal(tmp_path / "data" / "history.sqlite", source=alarm_id)]
    acknowledged = [e for e in entries if e.event == "acknowledge"]
    assert len(acknowledged) == 1
    assert (acknowledged[0].user, acknowledged[0].reason, acknowledged[0].result) == (rt.user, "checked", "ok")
    assert {e.new_value for e in entries if e.event == "condition"} >= {"unacknowledged", "acknowledged"}
