"""Build the optional C kernels: packed-genotype products (alignome.gwas._packed), result rows as text
(alignome.gwas._tsv), p-values of the association tests (alignome.gwas._tails) and the genetics
toolkit's .bed kernels (alignome.genetics._bedscore).

Everything else is configured in pyproject.toml.  The extensions are optional: without a C
compiler the install still succeeds and alignome uses its NumPy paths (same results, slower).
"""

from setuptools import Extension, setup

# alignome.genetics._bedscore is one module built from several files, one concept each: _bedscore.c holds
# the module (method table, PyInit), _bedscore.h what they share.
BEDSCORE = "src/alignome/genetics/_bedscore"

setup(ext_modules=[Extension("alignome.gwas._packed", ["src/alignome/gwas/_packed.c"],
                             extra_compile_args=["-O3", "-Wno-psabi"], optional=True),
                   Extension("alignome.gwas._tsv", ["src/alignome/gwas/_tsv.c"], extra_compile_args=["-O3"],
                             optional=True),
                   Extension("alignome.gwas._tails", ["src/alignome/gwas/_tails.c"], extra_compile_args=["-O2"],
                             optional=True),
                   Extension("alignome.genetics._bedscore",
                             sources=[f"{BEDSCORE}{part}.c"
                                      for part in ("", "_score", "_clump", "_em", "_qc", "_hwe", "_text", "_fields")],
                             depends=[f"{BEDSCORE}.h"], include_dirs=["src/alignome/genetics"],
                             extra_compile_args=["-O3", "-Wno-psabi"], optional=True)])
