"""The fast paths of the GWAS give the answers of the slow ones: vectorised downdate, threads, trait grouping, TSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.gwas._linalg import drop_downdate
from alignome.gwas.multitrait import multitrait_assoc
from alignome.gwas.run import run_gwas
from alignome.gwas.writer import ResultWriter, annotation_columns
from alignome.gwas.singletrait import linear_assoc
from alignome.simulate.genotypes import simulate_genotypes, write_plink


def _data(seed=5, n=150, m=60):
    rng = np.random.default_rng(seed)
    g = rng.binomial(2, rng.uniform(0.1, 0.5, m), size=(n, m)).astype(float)
    g[rng.random((n, m)) < 0.03] = np.nan
    g[: n // 2, 7] = np.nan  # one variant with many missing calls: its own chunk
    g[:, 9] = np.nan  # all missing
    y = rng.normal(size=(n, 3)) + 0.5 * np.nan_to_num(g[:, [0]], nan=1.0)
    cov = rng.normal(size=(n, 2))
    return g, y, cov


@pytest.mark.parametrize("order", ["C", "F"])
def test_chunked_downdate_equals_one_chunk(order):
    g, y, cov = _data()
    g = np.asarray(g, order=order)
    whole = drop_downdate(y, g, cov, chunk_elements=10**9)
    tiny = drop_downdate(y, g, cov, chunk_elements=1)  # one variant per chunk
    diag = drop_downdate(y, g, cov, yy="diag", chunk_elements=500)
    np.testing.assert_array_equal(whole["n"], tiny["n"])
    np.testing.assert_array_equal(whole["ok"], tiny["ok"])
    for key in ("yy", "yg", "gg"):
        np.testing.assert_allclose(whole[key], tiny[key], rtol=1e-12, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(diag["yy_diag"], np.diagonal(whole["yy"], axis1=1, axis2=2), rtol=1e-12,
                               equal_nan=True)
    assert whole["n"][9] == 0 and whole["n"][7] <= g.shape[0] // 2


@pytest.mark.parametrize("order", ["C", "F"])
def test_vectorised_equals_refit_with_many_missing(order):
    g, y, cov = _data(seed=9)
    g = np.asarray(g, order=order)
    a, b = multitrait_assoc(y, g, cov), multitrait_assoc(y, g, cov, drop_update="refit")
    np.testing.assert_array_equal(a.obs_ct, b.obs_ct)
    np.testing.assert_allclose(a.q, b.q, rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-9, atol=1e-12, equal_nan=True)
    s, r = linear_assoc(y, g, cov), linear_assoc(y, g, cov, drop_update="refit")
    for field in ("beta", "se", "p"):
        np.testing.assert_allclose(getattr(s, field), getattr(r, field), rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(s.df, r.df)


def test_monomorphic_scale_bound():
    """A constant non-missing column is flagged monomorphic although ``scale`` is only computed where needed."""
    rng = np.random.default_rng(2)
    g = rng.binomial(2, 0.4, size=(50, 4)).astype(float)
    g[:, 1] = 2.0
    g[3, 1] = np.nan
    g[:, 2] = 1e4  # large constant: the bound must not hide it
    r = multitrait_assoc(rng.normal(size=(50, 2)), g)
    assert np.isnan(r.q[[1, 2]]).all() and np.isfinite(r.q[[0, 3]]).all()


@pytest.fixture(scope="module")
def fileset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gwasfast")
    n = 240
    geno = simulate_genotypes(n, 3, n_snps=150, segments=((1, 1_000_000), (2, 1_000_000)),
                              segment_length_bp=1_000_000)
    iids = [f"i{i}" for i in range(n)]
    write_plink(tmp / "g", geno, iids, np.ones(n, dtype=int))
    rng = np.random.default_rng(4)
    pheno = pd.DataFrame(rng.normal(size=(n, 4)), columns=["A", "B", "C", "E"], index=pd.Index(iids, name="IID"))
    pheno.iloc[:5, 1] = np.nan  # B has its own samples; A, C, E share theirs
    pheno.iloc[7, 3] = np.nan
    covar = pd.DataFrame({"AGE": rng.normal(size=n)}, index=pd.Index(iids, name="IID"))
    return tmp, pheno, covar


def test_threads_identical(fileset, monkeypatch):
    tmp, pheno, covar = fileset
    out = {}
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("ALIGNOME_THREADS", threads)
        out[threads] = {mode: run_gwas(tmp / "g", pheno, covar, mode=mode, block_size=23)
                        for mode in ("multi", "single")}
    for mode in ("multi", "single"):
        pd.testing.assert_frame_equal(out["2"][mode], out["1"][mode], check_exact=True)
        pd.testing.assert_frame_equal(out["3"][mode], out["1"][mode], check_exact=True)
    monkeypatch.setenv("ALIGNOME_THREADS", "zero")
    with pytest.raises(ValueError, match="ALIGNOME_THREADS"):
        run_gwas(tmp / "g", pheno, covar, block_size=23)


def test_grouped_single_traits_equal_one_at_a_time(fileset):
    """Traits sharing their samples are tested together; each equals its own scan."""
    tmp, pheno, covar = fileset
    together = run_gwas(tmp / "g", pheno, covar, mode="single", block_size=40)
    assert list(pd.unique(together["PHENO"])) == ["A", "B", "C", "E"]
    for trait in ("A", "B", "E"):
        alone = run_gwas(tmp / "g", pheno[[trait]], covar, mode="single", block_size=40)
        mine = together[together["PHENO"] == trait].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine[["ID", "OBS_CT"]], alone[["ID", "OBS_CT"]])
        for col in ("BETA", "SE", "T_STAT", "P"):
            np.testing.assert_allclose(mine[col], alone[col], rtol=1e-10, equal_nan=True)


def test_result_writer_streams_blocks_into_tsv_and_parquet(tmp_path):
    variants = pd.DataFrame({"chrom": ["1", "1", "X"], "pos": [5, 6, 7], "id": ["a", "b", "c"],
                             "ref": ["A", "C", "G"], "alt": ["T", "G", "A"]})
    ann = annotation_columns(variants)
    blocks = [(0, 2, {"OBS_CT": np.array([10, 9]), "P": np.array([1.25e-300, np.nan])}),
              (2, 3, {"OBS_CT": np.array([8]), "P": np.array([0.5])})]
    with ResultWriter(tmp_path / "o", "single", ["t1", "t2"], ann, rows_per_write=2) as writer:
        for start, stop, cols in blocks:
            writer.add(start, stop, [cols, {**cols, "P": cols["P"] / 2}])
        assert not (tmp_path / "o.t1.glm.linear").exists()  # written under .partial until complete
    text = (tmp_path / "o.t1.glm.linear").read_text().splitlines()
    assert text[0] == "#CHROM\tPOS\tID\tREF\tALT\tA1\tOBS_CT\tP"
    assert len(text) == 4 and text[2].split("\t")[-1] == "NA" and text[3].startswith("X\t7\tc\tG\tA\tA\t8")
    back = pd.read_csv(tmp_path / "o.t2.glm.linear", sep="\t", na_values=["NA"])
    assert back["P"].iloc[0] == 1.25e-300 / 2 and np.isnan(back["P"].iloc[1]) and list(back["POS"]) == [5, 6, 7]
    table = pd.read_parquet(tmp_path / "o.single.parquet")
    assert len(table) == 6 and sorted(table["PHENO"].unique()) == ["t1", "t2"]
    assert table[table["PHENO"] == "t2"]["P"].iloc[2] == 0.25
    with pytest.raises(RuntimeError), ResultWriter(tmp_path / "f", "multi", ["t"], ann) as writer:
        start, stop, cols = blocks[0]
        writer.add(start, stop, [cols])
        raise RuntimeError("a block failed")
    assert not list(tmp_path.glob("f.*"))  # no partial result left behind

def test_result_writer_removes_partial_files_when_a_write_fails(tmp_path, monkeypatch):
    """A failed write (a full disk) raises and leaves no result file, partial or whole, behind."""
    from alignome.gwas import writer as writer_module

    variants = pd.DataFrame({"chrom": ["1"] * 4, "pos": [1, 2, 3, 4], "id": list("abcd"), "ref": ["A"] * 4,
                             "alt": ["G"] * 4})
    calls = []

    def full_disk(handle, columns, count):
        calls.append(count)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        handle.write(b"x\n")

    monkeypatch.setattr(writer_module, "_write_tsv", full_disk)
    with pytest.raises(OSError, match="No space left"):
        with ResultWriter(tmp_path / "o", "multi", ["t"], annotation_columns(variants), rows_per_write=1) as writer:
            for i in range(4):
                writer.add(i, i + 1, [{"OBS_CT": np.array([3]), "P": np.array([0.5])}])
    assert not list(tmp_path.glob("o.*"))
