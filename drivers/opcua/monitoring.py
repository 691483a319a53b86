"""Monitored-item requests: per-tag sampling, queue and deadband, grouped by publishing interval."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from asyncua import ua

from drivers.model import Point
from drivers.opcua.address import Monitoring, OpcUaAddress
from drivers.opcua.settings import OpcUaSettings

_DEADBAND = {"none": ua.DeadbandType.None_, "absolute": ua.DeadbandType.Absolute,
             "percent": ua.DeadbandType.Percent}


def group_by_publishing_interval(points: Iterable[Point], settings: OpcUaSettings) -> dict[float, list[Point]]:
    """Tags that publish at the same interval share one subscription."""
    groups: dict[float, list[Point]] = defaultdict(list)
    for point in points:
        address: OpcUaAddress = point.address
        groups[address.monitoring.publishing_ms or settings.publishing_interval_ms].append(point)
    return dict(groups)


def item_request(node_id: ua.NodeId, handle: int, monitoring: Monitoring,
                 settings: OpcUaSettings) -> ua.MonitoredItemCreateRequest:
    parameters = ua.MonitoringParameters()
    parameters.ClientHandle = handle
    sampling = monitoring.sampling_ms
    parameters.SamplingInterval = settings.sampling_interval_ms if sampling is None else sampling
    parameters.QueueSize = monitoring.queue_size
    parameters.DiscardOldest = True
    if monitoring.deadband_type != "none":
        data_filter = ua.DataChangeFilter()
        data_filter.Trigger = ua.DataChangeTrigger.StatusValue
        data_filter.DeadbandType = _DEADBAND[monitoring.deadband_type]
        data_filter.DeadbandValue = monitoring.deadband
        parameters.Filter = data_filter
    request = ua.MonitoredItemCreateRequest()
    request.ItemToMonitor = ua.ReadValueId(NodeId=node_id, AttributeId=ua.AttributeIds.Value)
    request.MonitoringMode = ua.MonitoringMode.Reporting
    request.RequestedParameters = parameters
    return request
