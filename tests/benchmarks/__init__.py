"""Benchmarks: `make bench` (python -m tests.benchmarks) runs every bench_*.py; results go to bench-results/."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_result(name: str, result: Any) -> Path:
    """Save one benchmark's result as JSON: where the runner says, else bench-results/NAME.json."""
    path = Path(os.environ.get("LINEWISE_BENCH_OUT") or Path(os.environ.get("LINEWISE_BENCH_DIR", "bench-results"))
                / f"{name}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    return path
