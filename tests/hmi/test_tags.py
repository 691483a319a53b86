"""The tag registry: scaling to engineering units and the checks every write passes."""

from __future__ import annotations

import pytest

from drivers.model import Quality, TagUpdate
from hmi.runtime.demo import DEMO_SITE
from hmi.site import load_site
from hmi.tags import TagRegistry, WriteRejected


@pytest.fixture
def registry() -> TagRegistry:
    return TagRegistry(load_site(DEMO_SITE))


def test_raw_values_are_scaled_once_and_fanned_out(registry):
    seen: list[list[TagUpdate]] = []
    registry.add_listener(seen.append)
    registry.ingest([TagUpdate("motor_temp", 653, Quality.GOOD, 1.0, 1.0),
                     TagUpdate("not_a_tag", 1, Quality.GOOD, 1.0, 1.0)])
    (batch,) = seen
    assert [u.tag for u in batch] == ["motor_temp"]
    assert batch[0].value == pytest.approx(65.3)
    assert registry.last("motor_temp").value == pytest.approx(65.3)


def test_a_failing_listener_does_not_starve_the_others(registry):
    got = []

    def broken(_):
        raise RuntimeError("boom")

    registry.add_listener(broken)
    registry.add_listener(got.append)
    registry.ingest([TagUpdate("tank_level", 2.0, Quality.GOOD, 1.0, 1.0)])
    assert got


def test_write_checks(registry):
    assert registry.prepare_write("tank_level_sp", "3.5") == 3.5
    assert registry.prepare_write("pump_run_cmd", "false") is False
    with pytest.raises(WriteRejected, match=r"tank_level_sp: 9 m is outside the allowed range 0.5..4.5 m"):
        registry.prepare_write("tank_level_sp", 9)
    with pytest.raises(WriteRejected, match="is not a number"):
        registry.prepare_write("tank_level_sp", "abc")
    with pytest.raises(WriteRejected, match="not a finite number"):
        registry.prepare_write("tank_level_sp", "nan")
    with pytest.raises(WriteRejected, match="tank_level is read-only"):
        registry.prepare_write("tank_level", 1)
    with pytest.raises(WriteRejected, match="unknown tag"):
        registry.prepare_write("nope", 1)
