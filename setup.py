"""Builds the Cython kernels in ext/. Everything else is declared in pyproject.toml.

The extensions are optional: if one cannot be compiled, Linewise runs on the NumPy twins
of its kernels (`ext.HAVE_EXT` says which are active).

While working on one kernel module, `LINEWISE_EXT_MODULES=ext._filters python setup.py
build_ext --inplace` rebuilds just that one (Cython comes with the dev extra).
"""

import os
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

MODULES = sorted(f"ext.{path.stem}" for path in Path(__file__).parent.glob("ext/_*.pyx"))
# C libraries a module links against. ext._sqlite_read uses the system libsqlite3 (the one Python's own _sqlite3
# uses; its header comes with libsqlite3-dev, which installer/system-deps.sh installs): without the header only
# that module fails to build (optional) and its twin, Python's sqlite3, is used.
LIBRARIES = {"ext._sqlite_read": ["sqlite3"]}


def extension(module: str) -> Extension:
    return Extension(
        module,
        [module.replace(".", "/") + ".pyx"],
        include_dirs=[numpy.get_include(), "ext"],
        depends=["ext/simd_scan.h"],
        libraries=LIBRARIES.get(module, []),
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        # no FMA contraction: the kernels must round exactly as their NumPy twins do
        extra_compile_args=["-O3", "-ffp-contract=off"],
        optional=True,
    )


selected = os.environ.get("LINEWISE_EXT_MODULES", "").split(",")
modules = [m for m in MODULES if m in selected] if selected != [""] else MODULES

ext_modules = cythonize(
    [extension(m) for m in modules],
    language_level=3,
    compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
)
for ext_module in ext_modules:  # cythonize makes new Extensions without `optional`: one failing would fail them all
    ext_module.optional = True

setup(ext_modules=ext_modules)
