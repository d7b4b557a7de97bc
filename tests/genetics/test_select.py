"""Top-k variant selection by p-value among genotyped variants."""

from __future__ import annotations

import pandas as pd
import pytest

from alignome.errors import DataError
from alignome.genetics.select import count_not_genotyped, select_top_variants


def _sumstats(rows):
    return pd.DataFrame(rows, columns=["variant", "p"])


def test_ranked_by_p_ties_in_file_order_restricted_to_available():
    sumstats = _sumstats([("a", 0.2), ("b", 1e-5), ("x", 1e-9), ("c", 1e-5), ("d", 1.0)])
    available = pd.Index(["d", "c", "b", "a"])
    assert select_top_variants(sumstats, available, 2) == ["b", "c"]
    assert select_top_variants(sumstats, available, None) == ["b", "c", "a", "d"]
    assert select_top_variants(sumstats, available, 10) == ["b", "c", "a", "d"]
    assert count_not_genotyped(sumstats, available) == 1


def test_bad_p_values_name_the_row():
    for bad in (0.0, 1.5, -0.1, "abc", None):
        with pytest.raises(DataError, match="row 2"):
            select_top_variants(_sumstats([("a", 0.5), ("b", bad)]), pd.Index(["a", "b"]), 1, file="gwas.tsv")


def test_without_sumstats():
    available = pd.Index(["a", "b", "c"])
    assert select_top_variants(None, available, 3) == ["a", "b", "c"]
    assert select_top_variants(None, available, None) == ["a", "b", "c"]
    with pytest.raises(DataError, match="sumstats"):
        select_top_variants(None, available, 2)
