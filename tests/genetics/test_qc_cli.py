"""`alignome variants qc|meta|select` end to end, and their error path (exit 2, 'error:')."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

from alignome.cli import app

# Every test runs with the C kernels of alignome.genetics._bedscore and again with the NumPy paths.
pytestmark = pytest.mark.usefixtures("bed_backend")

runner = CliRunner()


def test_qc_meta_select(tmp_path):
    from tests.genetics.test_qc_plink import make_qc_dataset

    prefix = make_qc_dataset(tmp_path)
    res = runner.invoke(app, ["variants", "qc", "--bfile", str(prefix), "--geno", "0.1", "--mind", "0.1",
                              "--maf", "0.01", "--hwe", "1e-6", "--out", str(tmp_path / "qc")])
    assert res.exit_code == 0, res.output
    assert "pass filters and QC" in res.output
    removed = pd.read_csv(tmp_path / "qc.removed.tsv", sep="\t")
    kept = (tmp_path / "qc.snplist").read_text().split()
    assert len(removed) + len(kept) == 800 and set(removed["reason"]) <= {"geno", "hwe", "maf"}
    # two studies; study b reports rs3 with the alleles swapped (its beta counts the other allele)
    studies = {
        "a": [("rs1", "A", "G", 0.20, 0.10), ("rs2", "C", "T", 0.01, 0.10), ("rs3", "A", "C", 0.30, 0.15),
              ("rs4", "G", "T", -0.25, 0.08)],
        "b": [("rs1", "A", "G", 0.10, 0.10), ("rs2", "C", "T", 0.05, 0.20), ("rs3", "C", "A", -0.12, 0.05),
              ("rs4", "G", "T", -0.05, 0.12)],
    }
    for name, rows in studies.items():
        lines = ["rsid\tEA\tNEA\tB\tSE\tP"] + [f"{v}\t{ea}\t{oa}\t{b}\t{se}\t0.5" for v, ea, oa, b, se in rows]
        (tmp_path / f"{name}.tsv").write_text("\n".join(lines) + "\n")
    cols = "variant=rsid,effect_allele=EA,other_allele=NEA,beta=B,se=SE,p=P"
    res = runner.invoke(app, ["variants", "meta", "--sumstats", str(tmp_path / "a.tsv"), "--sumstats",
                              str(tmp_path / "b.tsv"), "--format", "tsv", "--columns", cols, "--out", str(tmp_path / "m")])
    assert res.exit_code == 0, res.output
    meta = pd.read_csv(tmp_path / "m.meta.tbl", sep="\t").set_index("MarkerName")
    # fixed-effect inverse-variance meta-analysis by hand, study b's rs3 flipped onto study a's alleles
    for (v, ea, oa, b1, s1), (_, ea2, _, b2, s2) in zip(studies["a"], studies["b"]):
        b2 = b2 if ea2 == ea else -b2
        w = np.array([1 / s1**2, 1 / s2**2])
        beta, se = (w * [b1, b2]).sum() / w.sum(), 1 / np.sqrt(w.sum())
        q = (w * (np.array([b1, b2]) - beta) ** 2).sum()
        row = meta.loc[v]
        assert (row["Allele1"], row["Allele2"]) == (ea.lower(), oa.lower())
        assert row["Effect"] == pytest.approx(beta, rel=1e-5)
        assert row["StdErr"] == pytest.approx(se, rel=1e-5)
        assert row["P-value"] == pytest.approx(2 * stats.norm.sf(abs(beta / se)), rel=1e-5)
        assert row["Direction"] == "".join("+" if x > 0 else "-" for x in (b1, b2))
        assert row["HetChiSq"] == pytest.approx(q, abs=1e-3)
        assert row["HetPVal"] == pytest.approx(stats.chi2.sf(q, 1), abs=1e-4)
        assert row["HetISq"] == pytest.approx(max(0.0, (q - 1) / q) * 100 if q > 0 else 0.0, abs=0.1)
    res = runner.invoke(app, ["variants", "select", "--sumstats", str(tmp_path / "m.meta.tbl"), "--top-k", "2",
                              "--out", str(tmp_path / "panel")])
    assert res.exit_code == 0, res.output
    panel = pd.read_csv(tmp_path / "panel.panel.tsv", sep="\t")
    top = meta["P-value"].nsmallest(2)
    assert panel["variant"].tolist() == top.index.tolist()
    assert panel["p"].tolist() == top.tolist()
    assert panel["effect_allele"].tolist() == meta.loc[top.index, "Allele1"].str.upper().tolist()


def test_errors_exit_2(tmp_path):
    (tmp_path / "bad.tsv").write_text("variant\tp\nrs1\t2\n")
    res = runner.invoke(app, ["variants", "select", "--sumstats", str(tmp_path / "bad.tsv"), "--top-k", "1",
                              "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "error:" in res.output and "fix:" in res.output
    res = runner.invoke(app, ["variants", "qc", "--bfile", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "error:" in res.output


def test_allow_no_sex(tmp_path):
    """--allow-no-sex (the default, as plink --make-bed) counts unknown-sex controls in --hwe;
    --no-allow-no-sex ignores them, as a plink --write-snplist run without --allow-no-sex."""
    from tests.helpers.plink_tools import require_plink19, run_plink
    from tests.genetics.test_qc_sexchrom_plink import make_sexchrom_dataset

    from alignome.genetics.qc import run_qc

    prefix = make_sexchrom_dataset(tmp_path)
    kept = {}
    for flag in ("--allow-no-sex", "--no-allow-no-sex", None):
        out = tmp_path / f"ours{flag}"
        res = runner.invoke(app, ["variants", "qc", "--bfile", str(prefix), "--hwe", "1e-3", "--out", str(out)]
                            + ([flag] if flag else []))
        assert res.exit_code == 0, res.output
        kept[flag] = (tmp_path / f"ours{flag}.snplist").read_text().split()
    assert kept[None] == kept["--allow-no-sex"] == run_qc(prefix, hwe=1e-3, allow_no_sex=True).kept_variants
    assert kept["--no-allow-no-sex"] == run_qc(prefix, hwe=1e-3, allow_no_sex=False).kept_variants
    assert kept["--no-allow-no-sex"] != kept["--allow-no-sex"]  # the data tell the two apart
    exe = require_plink19()
    for flag, extra in (("--allow-no-sex", ["--allow-no-sex"]), ("--no-allow-no-sex", [])):
        run_plink(exe, ["--bfile", str(prefix), "--hwe", "1e-3", *extra, "--write-snplist", "--out", "p"], tmp_path)
        assert kept[flag] == (tmp_path / "p.snplist").read_text().split()
