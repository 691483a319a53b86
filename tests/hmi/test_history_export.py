"""History to CSV: every sample of the tags in the range, merged in time, in chunks with progress; a cancelled
export leaves no file; the `linewise history` command around it."""

from __future__ import annotations

import asyncio
import csv
import textwrap
import threading

import pytest

from drivers.model import Quality, TagUpdate
from hmi.cli import main
from hmi.site.schema import HistorySpec
from hmi.storage.compression import ANALOG
from hmi.storage.export import ExportCancelled, export_csv
from hmi.storage.historian import Historian, HistoryTag
from hmi.storage.queries import HistoryStore

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def record(path, updates) -> None:
    async def scenario() -> None:
        historian = Historian(path, flush_interval_s=60)
        await historian.start([HistoryTag(n, HistorySpec(mode="all"), ANALOG) for n in ("a", "b")])
        historian.submit(updates)
        await historian.close()

    asyncio.run(scenario())


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "data" / "history.sqlite"
    record(path, [TagUpdate("a", float(i), Quality.GOOD, T0 + i * 100, 0) for i in range(100)]
           + [TagUpdate("b", None, Quality.COMM_LOST, T0 + 50, 0), TagUpdate("b", 2.5, Quality.UNCERTAIN, T0 + 150, 0)])
    history = HistoryStore(path)
    yield history
    history.close()


def read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_every_sample_of_every_tag_merged_in_time_whatever_the_chunks(store, tmp_path):
    seen = []
    out = tmp_path / "out.csv"
    result = export_csv(store, ["a", "b"], T0, T0 + 9900, out, progress=seen.append, chunk_s=777)
    rows = read(out)
    assert rows[0] == ["time_utc", "tag", "value", "quality"]
    assert rows[1:4] == [["2027-01-15T08:00:00.000000Z", "a", "0.0", "good"],
                         ["2027-01-15T08:00:50.000000Z", "b", "", "comm lost"],
                         ["2027-01-15T08:01:40.000000Z", "a", "1.0", "good"]]
    assert result.rows == len(rows) - 1 == 102
    assert seen[-1] == 1.0
    assert len(seen) == 13  # one per chunk
    whole = tmp_path / "whole.csv"
    export_csv(store, ["a", "b"], T0, T0 + 9900, whole)
    assert read(whole) == rows


def test_a_cancelled_export_leaves_no_file(store, tmp_path):
    cancel = threading.Event()
    out = tmp_path / "out.csv"
    with pytest.raises(ExportCancelled):
        export_csv(store, ["a"], T0, T0 + 9900, out, progress=lambda _f: cancel.set(), cancel=cancel, chunk_s=100)
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]


def test_the_history_command_exports_and_reports_usage(store, tmp_path, capsys):
    site = tmp_path / "site"
    site.mkdir()
    (site / "site.yaml").write_text(textwrap.dedent("""\
        schema_version: 1
        name: Export test
        connections: [{name: local, url: "mem://local"}]
        tags:
          - {name: a, address: "mem://local/a"}
          - {name: b, address: "mem://local/b"}
        """), encoding="utf-8")
    out = tmp_path / "a.csv"
    common = ["--site", str(site), "--data-dir", str(tmp_path / "data")]
    assert main(["history", "export", *common, "--tags", "*", "--from", "2027-01-15T08:00Z",
                 "--to", "2027-01-15T09:00+01:00", "--out", str(out)]) == 0
    assert len(read(out)) == 1 + 1  # 08:00Z to 08:00Z (09:00+01:00): the one sample at T0
    assert "1 samples written" in capsys.readouterr().err
    assert main(["history", "usage", *common]) == 0
    assert "MB" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["history", "export", *common, "--tags", "a", "--from", "yesterday", "--to", "now", "--out", str(out)])
    assert "not an ISO 8601 time" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["history", "export", *common, "--tags", "nope", "--from", "2027-01-15T08:00Z",
              "--to", "2027-01-15T09:00Z", "--out", str(out)])
    assert "not tags of this site: nope" in capsys.readouterr().err
