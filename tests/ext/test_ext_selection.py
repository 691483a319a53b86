"""Which implementation `ext` exports, and the LINEWISE_NO_EXT override.

Each case imports `ext` in a fresh interpreter: the choice is made once, at import time.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ext  # only for its KERNELS table: the choice itself is probed in fresh interpreters

REPO_ROOT = Path(__file__).resolve().parents[2]

COMPILED_MODULES = {compiled for compiled, _ in ext.KERNELS.values()}
COMPILED = all(importlib.util.find_spec(name) is not None for name in COMPILED_MODULES)

PROBE = """
import json, sys
import ext
print(json.dumps({
    "have_ext": ext.HAVE_EXT,
    "modules": {name: getattr(ext, name).__module__ for name in ext.__all__ if name not in ("HAVE_EXT", "KERNELS")},
    "project_imports": sorted(m for m in sys.modules if m.split(".")[0] in ("hmi", "widgets", "drivers")),
    "qt_imported": any(m.split(".")[0] in ("PySide6", "pyqtgraph") for m in sys.modules),
}))
"""


def probe(no_ext: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "LINEWISE_NO_EXT"}
    if no_ext is not None:
        env["LINEWISE_NO_EXT"] = no_ext
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("no_ext", [None, "", "0"])
def test_compiled_kernels_are_used_when_built(no_ext: str | None) -> None:
    result = probe(no_ext)
    assert result["have_ext"] is COMPILED
    expected = {name: compiled if COMPILED else twin for name, (compiled, twin) in ext.KERNELS.items()}
    assert result["modules"] == {"MinMaxPyramid": "ext.pyramid", **expected}
    assert set(expected) >= {"minmax_decimate", "m4_decimate", "sdt_compress", "deadband_filter"}


@pytest.mark.parametrize("no_ext", ["1", "yes"])
def test_env_var_forces_the_numpy_twins(no_ext: str) -> None:
    result = probe(no_ext)
    assert result["have_ext"] is False
    assert set(result["modules"].values()) - {"ext.pyramid"} == {twin for _, twin in ext.KERNELS.values()}


def test_ext_imports_nothing_from_the_rest_of_linewise() -> None:
    result = probe(None)
    assert result["project_imports"] == []
    assert result["qt_imported"] is False


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="only CI promises a compiler; locally the fallback is fine")
def test_ci_builds_the_compiled_kernels() -> None:
    import ext

    assert ext.HAVE_EXT, "the Cython build fell back to NumPy in CI: see the pip output of `make`"
