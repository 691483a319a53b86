"""Numeric kernels for trends, history and analytics: compiled (Cython) when built, pure NumPy otherwise.

Each compiled module (``ext._kernels``, ``ext._compression``, ``ext._filters``, ``ext._sqlite_read`` ...) is
optional: setup.py builds it with ``optional=True``. Every kernel therefore has a NumPy (or, for reading SQLite,
Python sqlite3) twin with the same signature and the same results, and ``KERNELS`` below says where each one
lives. ``HAVE_EXT`` is True when every kernel is the compiled one.
Setting the environment variable ``LINEWISE_NO_EXT`` to anything but "" or "0" forces the twins, for parity
checks and as a way out of a broken build.

This package sits at the bottom of the import layers: it imports nothing from the rest of Linewise.
"""

from __future__ import annotations

import importlib
import logging
import os
from types import ModuleType

_log = logging.getLogger(__name__)

# kernel name -> (compiled module, NumPy twin module)
KERNELS: dict[str, tuple[str, str]] = {
    "minmax_decimate": ("ext._kernels", "ext.numpy_twins"),
    "m4_decimate": ("ext._kernels", "ext.numpy_twins"),
    "minmax_indices": ("ext._kernels", "ext.numpy_twins"),
    "m4_indices": ("ext._kernels", "ext.numpy_twins"),
    "minmaxlttb_decimate": ("ext._kernels", "ext.lttb_twins"),
    "minmaxlttb_indices": ("ext._kernels", "ext.lttb_twins"),
    "reduce_samples": ("ext._kernels", "ext.pyramid_twins"),
    "reduce_level": ("ext._kernels", "ext.pyramid_twins"),
    "pyramid_select": ("ext._kernels", "ext.pyramid_twins"),
    "nan_aware_minmax": ("ext._kernels", "ext.numpy_twins"),
    "sdt_compress": ("ext._compression", "ext.compression_twins"),
    "deadband_filter": ("ext._compression", "ext.compression_twins"),
    "sdt_stream": ("ext._compression", "ext.compression_twins"),
    "deadband_stream": ("ext._compression", "ext.compression_twins"),
    "sdt_stream_many": ("ext._compression", "ext.compression_twins"),
    "deadband_stream_many": ("ext._compression", "ext.compression_twins"),
    "rollup_stream": ("ext._rollups", "ext.rollup_twins"),
    "ewma": ("ext._filters", "ext.filter_twins"),
    "rolling_mean": ("ext._filters", "ext.filter_twins"),
    "rolling_std": ("ext._filters", "ext.filter_twins"),
    "biquad_lowpass": ("ext._filters", "ext.filter_twins"),
    # history out of a SQLite file into arrays: the SQLite C API, or Python's sqlite3
    "read_series": ("ext._sqlite_read", "ext.sqlite_read_twins"),
    "SqliteReader": ("ext._sqlite_read", "ext.sqlite_read_twins"),
}


def _forced_off() -> bool:
    return os.environ.get("LINEWISE_NO_EXT", "") not in ("", "0")


def _load_compiled(module_name: str) -> ModuleType | None:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name == module_name:
            _log.debug("%s is not built: using the NumPy kernels", module_name)
        else:  # built but unloadable (ABI mismatch, missing symbol, ...): worth a look
            _log.warning("%s failed to load (%s): using the NumPy kernels", module_name, exc)
        return None


def _select() -> tuple[dict[str, object], bool]:
    """The implementation of every kernel, and whether all of them are compiled."""
    if _forced_off():
        _log.info("LINEWISE_NO_EXT is set: using the NumPy kernels")
    chosen: dict[str, object] = {}
    compiled_modules: dict[str, ModuleType | None] = {}
    for compiled_name in sorted({compiled for compiled, _ in KERNELS.values()}):
        module = None if _forced_off() else _load_compiled(compiled_name)
        if module is not None:
            missing = [k for k, (c, _) in KERNELS.items() if c == compiled_name and not hasattr(module, k)]
            if missing:  # a build older than the sources (make rebuilds it; a hand-made venv may not)
                _log.warning("%s is out of date (no %s): using the NumPy kernels", compiled_name, ", ".join(missing))
                module = None
        compiled_modules[compiled_name] = module
    for name, (compiled_name, twin_name) in KERNELS.items():
        module = compiled_modules[compiled_name] or importlib.import_module(twin_name)
        chosen[name] = getattr(module, name)
    return chosen, all(compiled_modules.values())


_chosen, HAVE_EXT = _select()
globals().update(_chosen)

# the stream states, for annotations (both implementations use them; not in __all__, which lists kernels)
from ext.compression_twins import DeadbandState, SdtState  # noqa: E402, F401
from ext.pyramid import MinMaxPyramid  # noqa: E402  (uses the kernels chosen above)
from ext.rollup_twins import RollupState  # noqa: E402, F401

__all__ = ["HAVE_EXT", "KERNELS", "MinMaxPyramid", *sorted(KERNELS)]
