"""Chromosome codes of a ``.bim`` as PLINK's human chromosome set reads them."""

from __future__ import annotations

#: Chromosome codes of PLINK's human set that are not diploid autosomes (after ``chr`` and leading zeros go).
_SPECIAL = {"23": "X", "24": "Y", "26": "MT", "X": "X", "Y": "Y", "M": "MT", "MT": "MT"}


def chromosome_kind(code: object) -> str:
    """``"X"``, ``"Y"``, ``"MT"`` or ``""`` for a ``.bim`` chromosome code.

    ``""``: diploid, autosomal rules (1–22, XY, and codes PLINK's human set does not know).
    Codes are read as PLINK reads them: ``chrX``, ``23``, ``M``, ``026`` …
    """
    text = str(code).strip().upper().removeprefix("CHR")
    if text.isdigit():
        try:
            text = str(int(text))
        except ValueError:  # digits int() does not read (e.g. superscripts)
            return ""
    return _SPECIAL.get(text, "")


def variant_kinds(chroms):
    """:func:`chromosome_kind` of every ``.bim`` chromosome code (a NumPy object array)."""
    import numpy as np  # here only: readers of this module (the .bim reader) stay free of NumPy

    values = [str(c) for c in chroms]
    kinds = {code: chromosome_kind(code) for code in set(values)}
    return np.array([kinds[c] for c in values], dtype=object)
