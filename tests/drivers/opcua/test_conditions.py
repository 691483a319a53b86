"""OPC UA Alarms & Conditions against a real asyncua.Server that implements Acknowledge (Part 9)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from asyncua import Server, ua

from drivers.model import ConnectionState, DriverError
from drivers.opcua.conditions import ConditionEvent
from drivers.opcua.driver import OpcUaDriver
from drivers.opcua.settings import opcua_settings
from tests.drivers.recorder import Recorder
from tests.support import async_wait_until, free_port


class LevelHighAlarm:
    """One condition on a tank, with the state machine a real server keeps."""

    def __init__(self, server: Server, generator, tank: ua.NodeId, condition: ua.NodeId) -> None:
        self.server, self.generator, self.tank, self.condition = server, generator, tank, condition
        self.active = self.acked = self.confirmed = self.suppressed = False
        self.shelving = "Unshelved"
        self.last_event_id = b""
        self.comments: list[str] = []
        generator.event.add_property("NodeId", condition, ua.VariantType.NodeId)  # the ConditionId
        # optional AlarmConditionType states; OutOfServiceState is left out, as older servers do
        generator.event.add_property("ShelvingState/CurrentState", ua.LocalizedText("Unshelved"),
                                     ua.VariantType.LocalizedText)
        generator.event.add_property("SuppressedState/Id", False, ua.VariantType.Boolean)

    async def emit(self) -> None:
        event = self.generator.event
        event.SourceNode, event.SourceName = self.tank, "Tank T-101"
        event.Message = ua.LocalizedText("T-101 level high" if self.active else "T-101 level normal")
        event.Severity = 700
        event.ConditionName = "LevelHigh"
        event.Retain = self.active or not self.acked
        setattr(event, "ActiveState/Id", self.active)
        event.ActiveState = ua.LocalizedText("High" if self.active else "Inactive")
        setattr(event, "AckedState/Id", self.acked)
        setattr(event, "ConfirmedState/Id", self.confirmed)
        setattr(event, "EnabledState/Id", True)
        setattr(event, "ShelvingState/CurrentState", ua.LocalizedText(self.shelving))
        setattr(event, "SuppressedState/Id", self.suppressed)
        await self.generator.trigger()
        event_id = event.EventId  # asyncua keeps it as a Variant on the server side
        self.last_event_id = event_id.Value if isinstance(event_id, ua.Variant) else event_id

    async def raise_alarm(self) -> None:
        self.active, self.acked, self.confirmed = True, False, False
        await self.emit()

    async def acknowledge(self, parent: ua.NodeId, event_id: ua.Variant, comment: ua.Variant) -> list[ua.Variant]:
        if parent != self.condition:
            raise ua.UaStatusCodeError(ua.StatusCodes.BadNodeIdUnknown)
        if event_id.Value != self.last_event_id:
            raise ua.UaStatusCodeError(ua.StatusCodes.BadEventIdUnknown)
        if self.acked:
            raise ua.UaStatusCodeError(ua.StatusCodes.BadConditionBranchAlreadyAcked)
        self.acked = True
        self.comments.append(comment.Value.Text)
        await self.emit()
        return []


@contextlib.asynccontextmanager
async def alarm_server() -> AsyncIterator[tuple[str, LevelHighAlarm]]:
    server = Server()
    await server.init()
    port = free_port()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}")
    index = await server.register_namespace("urn:linewise:test-alarms")
    tank = await server.nodes.objects.add_object(ua.NodeId("Tank", index), "Tank")
    condition = await tank.add_object(ua.NodeId("Tank.LevelHigh", index), "LevelHigh",
                                      objecttype=ua.ObjectIds.OffNormalAlarmType)
    generator = await server.get_event_generator(ua.ObjectIds.OffNormalAlarmType, ua.ObjectIds.Server)
    alarm = LevelHighAlarm(server, generator, tank.nodeid, condition.nodeid)
    server.link_method(server.get_node(ua.ObjectIds.AcknowledgeableConditionType_Acknowledge), alarm.acknowledge)
    async with server:
        yield f"opc.tcp://127.0.0.1:{port}", alarm


def test_conditions_arrive_and_are_acknowledged_on_the_server():
    async def scenario() -> None:
        async with alarm_server() as (url, alarm):
            options = {"security_mode": "None", "conditions": True, "publishing_interval_ms": 50}
            driver = OpcUaDriver("plc", opcua_settings(url, options, Path(".")))
            received: list[ConditionEvent] = []
            driver.on_conditions = received.extend
            rec = Recorder()
            await driver.start([], rec.on_updates, rec.on_state)
            try:
                await async_wait_until(lambda: rec.state is ConnectionState.CONNECTED, message="connected")
                await asyncio.sleep(0.2)  # the event subscription is created right after connecting
                await alarm.raise_alarm()
                await async_wait_until(lambda: received, message="the alarm event")
                record = received[-1]
                assert record.condition_id.endswith("s=Tank.LevelHigh")
                assert (record.active, record.acked, record.active_text) == (True, False, "High")
                assert (record.severity, record.source, record.message) == (700, "Tank T-101", "T-101 level high")
                assert record.condition_name == "LevelHigh"
                assert record.event_id == alarm.last_event_id

                # asyncua's server reports any refusal from a method as BadUnexpectedError (a real server
                # says BadEventIdUnknown); what matters is that it is refused and nothing changes
                with pytest.raises(DriverError, match="server refused to acknowledge"):
                    await driver.acknowledge(record.condition_id, b"not-the-event", "wrong state")
                assert alarm.acked is False
                await driver.acknowledge(record.condition_id, record.event_id, "seen by operator 1")
                await async_wait_until(lambda: received[-1].acked is True, message="acknowledged state")
                assert alarm.comments == ["seen by operator 1"]
                assert driver.conditions[record.condition_id].acked is True
                with pytest.raises(DriverError, match="server refused to acknowledge"):
                    await driver.acknowledge(record.condition_id, received[-1].event_id, "again")
                assert alarm.comments == ["seen by operator 1"]

                assert (received[-1].shelved, received[-1].suppressed, received[-1].out_of_service) == (
                    False, False, None)  # None: this server has no OutOfServiceState
                alarm.shelving, alarm.suppressed = "OneShotShelved", True
                await alarm.emit()
                await async_wait_until(lambda: received[-1].shelved, message="the shelved state")
                assert (received[-1].shelving, received[-1].suppressed) == ("OneShotShelved", True)
            finally:
                await driver.close()

    asyncio.run(scenario())
