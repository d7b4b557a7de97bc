"""The bit-plane fast path of clumping: pair tables, the r² screen, streaming, odd fileset shapes.

The streamed scores (same fixture) are tested in test_score_fast.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alignome.genetics.clump import clump, read_clump_sumstats, write_clumped
from alignome.genetics.ld import genotype_table, r2_from_counts, r2_screen
from alignome.genetics.ld_planes import BedBitPlanes, pair_tables
from alignome.genetics.score import polygenic_score
from tests.helpers.plink_tools import require_plink19, run_plink


def _write_bed(prefix: Path, dosage: np.ndarray, fathers: list[str] | None = None) -> None:
    from bed_reader import to_bed

    n, m = dosage.shape
    ids = [f"s{i}" for i in range(n)]
    to_bed(Path(f"{prefix}.bed"), dosage.astype(np.float32), properties={
        "fid": ["f"] * n, "iid": ids, "father": fathers or ["0"] * n, "mother": ["0"] * n,
        "sex": np.ones(n, dtype=np.int32), "pheno": ["-9"] * n, "chromosome": ["1"] * m,
        "sid": [f"v{j}" for j in range(m)], "bp_position": np.arange(m) * 1000 + 1,
        "allele_1": ["A"] * m, "allele_2": ["G"] * m}, count_A1=True, num_threads=1)


@pytest.mark.parametrize("n", [1, 63, 64, 203])
def test_pair_tables_equal_genotype_table(tmp_path, n, bed_backend):
    rng = np.random.default_rng(n)
    m = 37
    dosage = rng.integers(0, 3, size=(n, m)).astype(np.float64)
    dosage[rng.random((n, m)) < 0.1] = np.nan
    dosage[:, 3] = np.where(np.isnan(dosage[:, 3]), np.nan, 0)  # monomorphic
    dosage[:, 5] = dosage[:, 4]  # identical pair
    dosage[:, 6] = np.where(np.isnan(dosage[:, 6]), 1.0, dosage[:, 6])  # complete
    dosage[:, 7] = rng.integers(0, 3, size=n)  # complete
    keep = rng.random(n) < 0.8
    _write_bed(tmp_path / "x", dosage)
    # tiny blocks and cache: every gather crosses blocks and evicts
    with BedBitPlanes(tmp_path / "x.bed", n, m, keep=keep, block=5, cache_bytes=1) as planes:
        for i in (0, 4, 6, 7):
            cand = np.array([j for j in range(m) if j != i])
            a, ac = planes.gather(np.array([i]))
            b, bc = planes.gather(cand)
            ours = pair_tables(a[:, :, 0], ac[:, 0], b, bc, planes.n_kept)
            expected = genotype_table(dosage[keep, i], dosage[keep][:, cand])
            np.testing.assert_array_equal(ours, expected)


def test_r2_screen_never_contradicts_the_em():
    rng = np.random.default_rng(0)
    tables = rng.integers(0, 40, size=(20000, 9)).astype(np.float64)
    tables[::7, 4] = 0  # no double heterozygotes: r² exact without EM
    tables[::11, [0, 8]] = 0
    exact = np.abs(r2_from_counts(tables))
    for threshold in (0.0, 0.05, 0.2, 0.5, 0.8):
        above, undecided = r2_screen(tables, threshold)
        with np.errstate(invalid="ignore"):
            truth = exact > threshold
        decided = ~undecided
        assert (truth[decided] == above[decided]).all()
        assert decided.mean() > 0.5  # the screen spares most of the EM


@pytest.mark.parametrize("p1,p2,r2,kb,block,cache", [
    (1e-4, 1e-2, 0.5, 250, 2048, 128 * 2**20),
    (1e-2, 0.5, 0.1, 1000, 64, 1),  # streaming: blocks of 64 variants, nothing cached
    (1.0, 1.0, 0.3, 30, 300, 2**20),
])
def test_clump_with_non_founders_and_small_cache_equals_plink19(family_data, tmp_path, p1, p2, r2, kb, block, cache,
                                                                bed_backend):
    exe = require_plink19()
    run_plink(exe, ["--bfile", str(family_data["prefix"]), "--clump", str(family_data["sumstats"]),
                    "--clump-p1", str(p1), "--clump-p2", str(p2), "--clump-r2", str(r2), "--clump-kb", str(kb),
                    "--out", "plink"], tmp_path)
    result = clump(family_data["prefix"], read_clump_sumstats(family_data["sumstats"]), p1=p1, p2=p2, r2=r2, kb=kb,
                   block=block, cache_bytes=cache)
    assert result.clumps
    assert write_clumped(result, tmp_path / "ours").read_text() == (tmp_path / "plink.clumped").read_text()


@pytest.mark.parametrize("n", [1, 64, 203])
def test_haplotype_tables_give_the_same_r2(tmp_path, n, bed_backend):
    """The 3-popcount tables carry the same k11, k12, k21, k22, n11 as the full 3×3 tables."""
    from alignome.genetics.ld_planes import pair_haplotype_tables

    rng = np.random.default_rng(n + 1)
    m = 41
    dosage = rng.integers(0, 3, size=(n, m)).astype(np.float64)
    dosage[:, :20][rng.random((n, 20)) < 0.1] = np.nan  # half the variants have missing calls
    dosage[:, 30] = dosage[:, 31]
    keep = rng.random(n) < 0.9
    _write_bed(tmp_path / "x", dosage)
    with BedBitPlanes(tmp_path / "x.bed", n, m, keep=keep, block=6) as planes:
        for i in (0, 5, 25, 30):  # index with and without missing calls
            for cand in (np.arange(21, m), np.array([j for j in range(m) if j != i])):  # all called / mixed
                cand = cand[cand != i]
                a, ac = planes.gather(np.array([i]))
                b, bc = planes.gather(cand)
                fast = pair_haplotype_tables(a[:, :, 0], ac[:, 0], b, bc, planes.n_kept)
                full = genotype_table(dosage[keep, i], dosage[keep][:, cand])
                np.testing.assert_array_equal(r2_from_counts(fast, signed=True), r2_from_counts(full, signed=True))
                for threshold in (0.05, 0.5):
                    np.testing.assert_array_equal(r2_screen(fast, threshold)[0], r2_screen(full, threshold)[0])


def _odd_fileset(prefix: Path, n: int, rng: np.random.Generator) -> list[str]:
    """Genotypes in LD (each variant a noisy copy of the one before), some calls missing, some variants
    monomorphic, a few samples children of others; chromosomes interleaved and positions out of order, some
    shared. Returns the variant ids."""
    from bed_reader import to_bed

    m = 240
    dosage = np.empty((n, m))
    dosage[:, 0] = rng.integers(0, 3, size=n)
    for j in range(1, m):
        fresh = rng.random(n) < rng.choice([0.05, 0.3, 1.0])
        dosage[:, j] = np.where(fresh, rng.integers(0, 3, size=n), dosage[:, j - 1])
    dosage[:, ::17] = 1  # monomorphic
    dosage[:, 5::3][rng.random((n, len(range(5, m, 3)))) < 0.08] = np.nan
    chrom = rng.choice(["1", "2", "X"], size=m, p=[0.5, 0.3, 0.2])
    pos = rng.integers(1, 200, size=m) * 500  # out of order, some shared
    ids = [f"rs{j}" + "x" * (j % 7) for j in range(m)]
    fathers = ["0"] * n
    for child in range(1, n, 9):
        fathers[child] = f"s{child - 1}"
    to_bed(Path(f"{prefix}.bed"), dosage.astype(np.float32), properties={
        "fid": ["f"] * n, "iid": [f"s{i}" for i in range(n)], "father": fathers, "mother": ["0"] * n,
        "sex": np.ones(n, dtype=np.int32), "pheno": ["-9"] * n, "chromosome": list(chrom), "sid": ids,
        "bp_position": pos, "allele_1": ["A"] * m, "allele_2": ["G"] * m}, count_A1=True, num_threads=1)
    return ids


@pytest.mark.parametrize("n", [1, 37, 64, 203])  # one sample; partial words; one whole word; several
def test_kernel_clumps_equal_the_numpy_twin(tmp_path, n, monkeypatch):
    """On odd filesets (see _odd_fileset) and reports (absent ids, a repeated id, NSIG rows), the C kernel and
    the NumPy twin give the same clumps, members' r² included."""
    from alignome.io import fields

    if fields.bed_kernel() is None:
        pytest.skip("the C kernel alignome.genetics._bedscore is not built")
    rng = np.random.default_rng(n)
    ids = _odd_fileset(tmp_path / "x", n, rng)
    rows = rng.permutation(len(ids))[:200]
    variant = [ids[j] for j in rows] + ["absent1", "absent2", ids[rows[0]]]
    p = np.concatenate([rng.random(200) ** 4, [1e-9, 0.5, 0.2]])
    sumstats = pd.DataFrame({"variant": variant, "p": p})
    kernel = fields.bed_kernel()
    for p1, p2, r2, kb in [(1e-2, 0.5, 0.1, 20), (0.2, 0.01, 0.5, 60), (1.0, 1.0, 0.0, 100), (0.05, 0.05, 0.9, 1)]:
        monkeypatch.setattr(fields, "bed_kernel", lambda: kernel)
        ours = clump(tmp_path / "x", sumstats, p1=p1, p2=p2, r2=r2, kb=kb)
        monkeypatch.setattr(fields, "bed_kernel", lambda: None)
        twin = clump(tmp_path / "x", sumstats, p1=p1, p2=p2, r2=r2, kb=kb, block=16, cache_bytes=2**14)
        assert ours.clumps, (p1, r2)
        assert [(c.index, c.chrom, c.bp, c.p, c.bins, c.members) for c in ours.clumps] == \
               [(c.index, c.chrom, c.bp, c.p, c.bins, c.members) for c in twin.clumps]
        for a, b in zip(ours.clumps, twin.clumps):
            np.testing.assert_allclose(a.r2, b.r2, rtol=1e-12)
        assert (ours.missing, ours.snp_width, ours.index_candidates) == \
               (twin.missing, twin.snp_width, twin.index_candidates)
        assert ours.missing[0] == ("absent1", 1e-9)


def test_bad_filesets_get_clear_errors(tmp_path):
    from alignome.errors import DataError
    from alignome.io.plink_fileset import read_fileset

    dosage = np.random.default_rng(0).integers(0, 3, size=(9, 5)).astype(np.float64)
    _write_bed(tmp_path / "x", dosage)
    fs = read_fileset(tmp_path / "x")
    variants = fs.variants_frame()
    assert fs.n == 9 and list(variants.index) == [f"v{j}" for j in range(5)]
    assert variants["pos"].tolist() == [1, 1001, 2001, 3001, 4001]
    sumstats = pd.DataFrame({"variant": ["v0"], "p": [1e-6]})
    # truncated .bed
    data = (tmp_path / "x.bed").read_bytes()
    (tmp_path / "x.bed").write_bytes(data[:-1])
    with pytest.raises(DataError, match="truncated"):
        clump(tmp_path / "x", sumstats)
    (tmp_path / "x.bed").write_bytes(data)
    # duplicated variant id; a position that is not a number is read as missing, as open_plink does
    bim = (tmp_path / "x.bim").read_text().splitlines()
    (tmp_path / "x.bim").write_text("\n".join(bim[:-1] + [bim[-1].replace("v4", "v3")]) + "\n")
    with pytest.raises(DataError, match="duplicated variant id 'v3'"):
        polygenic_score(tmp_path / "x", pd.DataFrame({"variant": ["v0"], "allele": ["A"], "weight": [1.0]}))
    with pytest.raises(DataError, match="duplicated variant id 'v3'"):
        clump(tmp_path / "x", sumstats)
    (tmp_path / "x.bim").write_text("\n".join(bim[:-1] + [bim[-1].replace("4001", "NA")]) + "\n")
    with pytest.raises(DataError, match="row 5: position 'NA' is not a whole number"):  # plink refuses it too
        read_fileset(tmp_path / "x")
    with pytest.raises(DataError, match="row 5: position 'NA' is not a whole number"):  # clumping needs positions
        clump(tmp_path / "x", sumstats)
    # wrong number of columns
    (tmp_path / "x.bim").write_text("\n".join(line.rsplit(maxsplit=1)[0] for line in bim) + "\n")
    with pytest.raises(DataError, match="expected 6"):
        read_fileset(tmp_path / "x")
    with pytest.raises(DataError, match="row 1: expected 6 whitespace-separated columns, found 5"):
        clump(tmp_path / "x", sumstats)
    with pytest.raises(DataError, match="not found"):
        read_fileset(tmp_path / "nope")
    with pytest.raises(DataError, match="not found"):
        clump(tmp_path / "nope", sumstats)


def test_sumstats_fast_reader_agrees_with_the_general_reader(tmp_path):
    from alignome.genetics.select import read_sumstats
    from alignome.errors import DataError

    path = tmp_path / "gwas.assoc"
    path.write_text(" CHR SNP BP P\n 1 rs1 10 1e-8\n 1 rs2 20 0.5\n 2 rs3 5 1\n")
    fast = read_clump_sumstats(path)
    slow = read_sumstats(path, {"variant": "SNP", "p": "P"})
    assert fast["variant"].tolist() == slow["variant"].tolist() == ["rs1", "rs2", "rs3"]
    assert fast["p"].tolist() == slow["p"].tolist()
    for bad, message in (("0", "not a number in"), ("NA", "not a number in"), ("-1e-3", "not a number in")):
        path.write_text(f" CHR SNP BP P\n 1 rs1 10 {bad}\n")
        with pytest.raises(DataError, match=message):
            read_clump_sumstats(path)
    path.write_text(" CHR SNP BP P\n 1 NA 10 0.1\n")
    with pytest.raises(DataError, match="missing variant id"):
        read_clump_sumstats(path)
    path.write_text(" CHR SNP BP P\n 1 rs1 10 0.1\n 1 rs1 10 0.2\n")
    with pytest.raises(DataError, match="more than once"):
        read_clump_sumstats(path)
