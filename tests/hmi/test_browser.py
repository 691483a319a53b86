"""The address-space browser against the real demo plant: browse, search, attributes, add to project."""

from __future__ import annotations

import shutil

import pytest
import yaml

from hmi.bridge import Bridge
from hmi.runtime import DemoPlantProcess, Runtime
from hmi.runtime.demo import DEMO_SITE
from hmi.site import load_site
from hmi.site.editor import SiteError, add_tags
from hmi.storage.journal import read_journal
from hmi.ui.browser import DETAILS, NODE_ID, BrowserDialog


@pytest.fixture
def site_copy(tmp_path):
    folder = tmp_path / "site"
    shutil.copytree(DEMO_SITE, folder)
    return folder


@pytest.fixture
def runtime(site_copy, tmp_path):
    plant = DemoPlantProcess()
    plant.start()
    rt = Runtime(plant.site(load_site(site_copy)), tmp_path / "data")
    rt.start()
    yield rt
    rt.stop()
    plant.stop()


def find(tree, text):
    for i in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(i)
        if item.text(0).startswith(text):
            return item
    return None


def test_browse_search_and_add_to_project(qtbot, runtime, site_copy):
    bridge = Bridge(runtime)
    qtbot.waitUntil(lambda: runtime.states["plant_opcua"][0].value == "connected", timeout=15_000)
    dialog = BrowserDialog(bridge, "plant_opcua")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: find(dialog.tree, "Line1") is not None, timeout=10_000)
    line1 = find(dialog.tree, "Line1")
    line1.setExpanded(True)  # lazy: children are fetched now
    qtbot.waitUntil(lambda: line1.childCount() > 1, timeout=10_000)

    dialog.search_box.setText("MotorTemp")
    dialog.search()
    qtbot.waitUntil(lambda: find(dialog.tree, "MotorTemp") is not None, timeout=10_000)
    item = find(dialog.tree, "MotorTemp")
    assert item.data(0, NODE_ID) == "nsu=urn:linewise:demo-plant;s=Line1.Pump.MotorTemp"
    dialog.tree.setCurrentItem(item)
    qtbot.waitUntil(lambda: item.data(0, DETAILS) is not None, timeout=10_000)
    assert dialog.labels["data_type"].text() == "Double"
    assert dialog.labels["linewise_type"].text() == "float64"
    assert dialog.labels["access"].text() == "read"
    assert dialog.add_button.isEnabled()

    names = dialog.add_selected()
    assert names == ["motortemp"]
    document = yaml.safe_load((site_copy / "site.yaml").read_text())
    added = next(t for t in document["tags"] if t["name"] == "motortemp")
    assert added["address"] == "opcua://plant_opcua/nsu=urn:linewise:demo-plant;s=Line1.Pump.MotorTemp"
    assert added["data_type"] == "float64"
    assert added["units"]  # from EngineeringUnits
    assert added["range"]["high"] > added["range"]["low"]  # from EURange
    assert "# The built-in demo plant" in (site_copy / "site.yaml").read_text()  # comments survive
    assert load_site(site_copy).tags["motortemp"].units == added["units"]
    dialog.close()
    runtime.io.run(runtime.journal.flush(), timeout=10)
    change = read_journal(runtime.journal.target, category="config")[0].entry
    assert (change.event, change.new_value, change.result, change.user) == (
        "site_tags_added", "motortemp", "ok", runtime.user)


def test_a_bad_edit_is_refused_and_nothing_is_written(site_copy):
    before = (site_copy / "site.yaml").read_bytes()
    with pytest.raises(SiteError, match="unknown scheme 'opcx'"):
        add_tags(site_copy, [{"name": "x", "address": "opcx://plant_opcua/ns=2;s=X"}])
    assert (site_copy / "site.yaml").read_bytes() == before
    assert not (site_copy / "site.yaml.bak").exists()
