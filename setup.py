"""Builds the Cython kernels in ext/. Everything else is declared in pyproject.toml.

The extension is optional: if it cannot be compiled, Linewise runs on the NumPy
twins and `ext.HAVE_EXT` is False.
"""

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "ext._kernels",
        ["ext/_kernels.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
        optional=True,
    )
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    )
)
