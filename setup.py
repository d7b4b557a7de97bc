"""Build the optional C kernel for packed-genotype products (alignome.gwas._packed).

Everything else is configured in pyproject.toml.  The extension is optional: without a C
compiler the install still succeeds and alignome uses its NumPy path (same results, slower).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("alignome.gwas._packed", ["src/alignome/gwas/_packed.c"],
                             extra_compile_args=["-O3", "-Wno-psabi"], optional=True)])
