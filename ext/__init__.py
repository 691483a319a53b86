"""Numeric kernels for drawing long series: compiled (Cython) when built, pure NumPy otherwise.

The compiled module ``ext._kernels`` is optional (setup.py builds it with ``optional=True``), so every kernel
has a NumPy twin in ``ext.numpy_twins`` with the same signature and the same results. ``HAVE_EXT`` says which
one is active. Setting the environment variable ``LINEWISE_NO_EXT`` to anything but "" or "0" forces the
twins, for parity checks and as a way out of a broken build.

This package sits at the bottom of the import layers: it imports nothing from the rest of Linewise.
"""

from __future__ import annotations

import logging
import os

from ext.numpy_twins import RingBuffer

__all__ = ["HAVE_EXT", "RingBuffer", "deadband_filter", "m4_decimate", "minmax_decimate", "nan_aware_minmax",
           "sdt_compress"]

_log = logging.getLogger(__name__)
_KERNELS = ("deadband_filter", "m4_decimate", "minmax_decimate", "nan_aware_minmax", "sdt_compress")


def _use_compiled() -> bool:
    if os.environ.get("LINEWISE_NO_EXT", "") not in ("", "0"):
        _log.info("LINEWISE_NO_EXT is set: using the NumPy kernels")
        return False
    try:
        from ext import _kernels
    except ImportError as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name == "ext._kernels":
            _log.debug("ext._kernels is not built: using the NumPy kernels")
        else:  # built but unloadable (ABI mismatch, missing symbol, ...): worth a look
            _log.warning("ext._kernels failed to load (%s): using the NumPy kernels", exc)
        return False
    missing = [name for name in _KERNELS if not hasattr(_kernels, name)]
    if missing:  # a build older than the sources (make rebuilds it; a hand-made venv may not)
        _log.warning("ext._kernels is out of date (no %s): using the NumPy kernels", ", ".join(missing))
        return False
    return True


HAVE_EXT: bool = _use_compiled()

if HAVE_EXT:
    from ext._kernels import deadband_filter, m4_decimate, minmax_decimate, nan_aware_minmax, sdt_compress
else:
    from ext.compression_twins import deadband_filter, sdt_compress
    from ext.numpy_twins import m4_decimate, minmax_decimate, nan_aware_minmax
