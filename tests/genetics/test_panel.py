"""Variant panels: top-K by p and p-threshold + PLINK clumping; panel files round-trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.errors import ConfigError, DataError
from alignome.genetics.clump import clump
from alignome.genetics.panel import panel_effects, read_panel, select_panel, write_panel
from alignome.genetics.sumstats_io import read_sumstats_file


def test_top_k_ties_keep_file_order_and_roundtrip(tmp_path):
    ss = pd.DataFrame({"variant": ["a", "b", "c", "d"], "chrom": ["1", "1", "2", "X"], "pos": [1.0, 2, 3, 4],
                       "effect_allele": ["A", "C", "G", "T"], "p": [0.5, 1e-3, 1e-3, 1e-8]})
    r = select_panel(ss, top_k=3, source="gwas.tsv")
    assert list(r.panel["variant"]) == ["d", "b", "c"]
    back = read_panel(write_panel(r.panel, tmp_path / "panel.tsv"))
    assert list(back["variant"]) == ["d", "b", "c"] and back["pos"].tolist() == [4, 2, 3]
    assert list(back["source"]) == ["gwas.tsv"] * 3 and back["p"][0] == pytest.approx(1e-8)
    assert (tmp_path / "panel.tsv").read_text().splitlines()[0] == "variant\tchrom\tpos\teffect_allele\tp\tsource"


def test_rules_are_exclusive():
    ss = pd.DataFrame({"variant": ["a"], "p": [0.1]})
    with pytest.raises(ConfigError):
        select_panel(ss)
    with pytest.raises(ConfigError):
        select_panel(ss, top_k=1, p1=1e-5)
    with pytest.raises(ConfigError, match="LD reference"):
        select_panel(ss, p1=1e-5)


def test_read_panel_errors(tmp_path):
    (tmp_path / "p.tsv").write_text("variant\tp\na\t0.1\na\t0.2\n")
    with pytest.raises(DataError, match="listed twice"):
        read_panel(tmp_path / "p.tsv")
    (tmp_path / "q.tsv").write_text("snp\tp\na\t0.1\n")
    with pytest.raises(DataError, match="no 'variant' column"):
        read_panel(tmp_path / "q.tsv")


def test_clump_panel_is_index_variants_of_plink_clumping(tmp_path):
    from tests.genetics.test_clump_plink import make_dataset

    data = make_dataset(tmp_path)
    ss = read_sumstats_file(data["sumstats"], columns={"variant": "SNP", "p": "P"})
    r = select_panel(ss, bfile=data["prefix"], p1=1e-3, r2=0.05, kb=5000)
    expected = clump(data["prefix"], ss[ss["variant"] != "rsNOTINBIM"][["variant", "p"]], p1=1e-3, p2=1e-3,
                     r2=0.05, kb=5000)
    assert list(r.panel["variant"]) == [c.index for c in expected.clumps]
    assert r.not_genotyped == 1 and len(r.panel) > 0
    assert r.panel["chrom"].notna().all() and r.panel["pos"].notna().all()
    top = select_panel(ss, bfile=data["prefix"], top_k=5)
    assert "rsNOTINBIM" not in set(top.panel["variant"]) and len(top.panel) == 5
    assert np.all(np.diff(top.panel["p"]) >= 0)


def test_effects_travel_from_sumstats_to_the_panel_file_and_back(tmp_path):
    ss = pd.DataFrame({"variant": ["a", "b", "c"], "effect_allele": ["A", "C", "G"], "p": [1e-3, 1e-9, 0.5],
                       "beta": [0.25, -0.125, 0.0]})
    r = select_panel(ss, top_k=2)
    assert r.panel["beta"].tolist() == [-0.125, 0.25]
    back = read_panel(write_panel(r.panel, tmp_path / "panel.tsv"))
    assert back["beta"].tolist() == [-0.125, 0.25] and list(back["effect_allele"]) == ["C", "A"]
    no_effects = read_panel(write_panel(select_panel(ss.drop(columns="beta"), top_k=2).panel, tmp_path / "p2.tsv"))
    assert no_effects["beta"].isna().all()
    (tmp_path / "bad.tsv").write_text("variant\tbeta\na\tlarge\n")
    with pytest.raises(DataError, match="not a number"):
        read_panel(tmp_path / "bad.tsv")


def test_panel_effects_are_floats_nan_where_missing_and_bad_rows_are_named(tmp_path):
    frame = pd.DataFrame({"variant": ["a", "b", "c", "d"], "beta": ["0.5", pd.NA, "x", -2]}, dtype=object)
    np.testing.assert_array_equal(panel_effects(frame), [0.5, np.nan, np.nan, -2.0])
    assert panel_effects(frame).dtype == np.float64
    assert np.isnan(panel_effects(frame.drop(columns="beta"))).all() and len(panel_effects(frame)) == 4
    (tmp_path / "bad.tsv").write_text("variant\tbeta\na\t0.1\nb\tNA\nc\tlarge\n")
    with pytest.raises(DataError, match="'large' is not a number") as err:
        read_panel(tmp_path / "bad.tsv")
    assert err.value.row == 4  # the file's line: header, a, b, c
