"""Runs every benchmark module `bench_*.py` in this folder; results go to bench-results/."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path

import tests.benchmarks as package


def main() -> int:
    out = Path(os.environ.get("LINEWISE_BENCH_DIR", "bench-results"))
    out.mkdir(exist_ok=True)
    failures = 0
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module_info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"tests.benchmarks.{module_info.name}")
        os.environ["LINEWISE_BENCH_OUT"] = str(out / f"{module_info.name}.json")
        print(f"\n== {module_info.name}")
        try:
            module.main()
        except Exception as exc:  # report and go on: one broken benchmark must not hide the others
            failures += 1
            print(f"!! {module_info.name} failed: {exc!r}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
