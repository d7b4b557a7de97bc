"""Build the optional C kernels: packed-genotype products (alignome.gwas._packed) and polygenic-score
sums (alignome.genetics._bedscore).

Everything else is configured in pyproject.toml.  The extensions are optional: without a C
compiler the install still succeeds and alignome uses its NumPy paths (same results, slower).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("alignome.gwas._packed", ["src/alignome/gwas/_packed.c"],
                             extra_compile_args=["-O3", "-Wno-psabi"], optional=True),
                   Extension("alignome.genetics._bedscore", ["src/alignome/genetics/_bedscore.c"],
                             extra_compile_args=["-O3", "-Wno-psabi"], optional=True)])
