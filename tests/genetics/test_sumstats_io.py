"""Summary-statistics readers (PLINK 1.9/2, METAL, TSV), validation and allele harmonisation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.errors import DataError
from alignome.genetics.harmonise import harmonise
from alignome.genetics.sumstats_io import normalise_chrom, read_sumstats_file


def write(path, text):
    path.write_text(text)
    return path


def test_plink_assoc(tmp_path):
    f = write(tmp_path / "a.assoc", " CHR SNP BP A1 F_A F_U A2 CHISQ P OR\n"
              "   1 rs1 100 A 0.3 0.2 G 4 0.0455 2\n  23 rs2 200 c 0.1 0.1 T 0 1 1\n")
    s = read_sumstats_file(f)
    assert s.attrs["format"] == "plink-assoc"
    assert list(s["chrom"]) == ["1", "X"] and list(s["effect_allele"]) == ["A", "C"]
    assert s["beta"][0] == pytest.approx(np.log(2)) and s["se"][0] == pytest.approx(np.log(2) / 2)


def test_plink_qassoc_and_glm(tmp_path):
    q = read_sumstats_file(write(tmp_path / "q.qassoc", " CHR SNP BP NMISS BETA SE R2 T P\n"
                                 " chr2 rs3 5 100 0.5 0.1 0.2 5 1e-6\n"))
    assert q.attrs["format"] == "plink-qassoc" and q["n"][0] == 100 and pd.isna(q["effect_allele"][0])
    g = read_sumstats_file(write(tmp_path / "x.glm.linear",
                                 "#CHROM\tPOS\tID\tREF\tALT\tA1\tTEST\tOBS_CT\tBETA\tSE\tT_STAT\tP\n"
                                 "MT\t7\trs4\tA\tG\tA\tADD\t50\t-0.2\t0.1\t-2\t0.05\n"
                                 "MT\t7\trs4\tA\tG\tA\tCOV1\t50\t0.1\t0.1\t1\t0.3\n"))
    assert len(g) == 1 and g["other_allele"][0] == "G" and g["chrom"][0] == "MT" and g["n"][0] == 50
    lg = read_sumstats_file(write(tmp_path / "x.glm.logistic",
                                  "#CHROM\tPOS\tID\tREF\tALT\tA1\tTEST\tOBS_CT\tOR\tLOG(OR)_SE\tZ_STAT\tP\n"
                                  "1\t7\trs5\tA\tG\tG\tADD\t50\t0.5\t0.2\t-3\t0.002\n"))
    assert lg["beta"][0] == pytest.approx(np.log(0.5)) and lg["other_allele"][0] == "A"


def test_metal_and_tsv_mapping(tmp_path):
    m = read_sumstats_file(write(tmp_path / "m.tbl", "MarkerName\tAllele1\tAllele2\tEffect\tStdErr\tP-value\tDirection\n"
                                 "rs1\ta\tg\t0.1\t0.05\t0.0455\t++\n"))
    assert m.attrs["format"] == "metal" and m["effect_allele"][0] == "A"
    t = read_sumstats_file(write(tmp_path / "t.csv", "rsid,ea,pval\nrs9,t,0.5\n"),
                           columns={"variant": "rsid", "effect_allele": "ea", "p": "pval"})
    assert t["variant"][0] == "rs9" and t["p"][0] == 0.5 and t["effect_allele"][0] == "T"


@pytest.mark.parametrize("text,match", [
    ("SNP\tPVAL\nrs1\t0.5\n", "(?s)no column for 'variant'.*fix: name the format the tool wrote \\(CLI: --format"),
    ("variant\tp\tchrom\n", "(?s)no data rows.*fix: give the summary statistics with their rows"),
    ("variant\tp\nrs1\t0.1\nrs2\tx\n", "row 3: 'x' is not a number"),  # the file line, header counted
    ("variant\tp\nrs1\t0.1\nrs2\t0.2\nrs1\t0.3\n", r"row 2: variant id 'rs1' appears more than once \(rows \[2, 4\]\)"),
    ("variant\tPVAL\nrs1\t0.5\n", "no column for 'p'"),
    ("variant\tp\nrs1\t0\n", r"not a number in \(0, 1\]"),
    ("variant\tp\nrs1\t1.5\n", r"not a number in \(0, 1\]"),
    ("variant\tp\nrs1\tNA\n", r"not a number in \(0, 1\]"),
    ("variant\tp\nrs1\t0.1\nrs1\t0.2\n", "appears more than once"),
    ("variant\tp\tchrom\nrs1\t0.1\tchrUn_gl000\n", "chromosome code"),
])
def test_bad_input_names_file_and_fix(tmp_path, text, match):
    f = write(tmp_path / "bad.tsv", text)
    with pytest.raises(DataError, match=match) as info:
        read_sumstats_file(f)
    assert str(f) in str(info.value) and "fix:" in str(info.value)


def test_plink_format_missing_column(tmp_path):
    f = write(tmp_path / "a.assoc", "CHR SNP BP A1 A2 OR\n1 rs1 1 A G 2\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['P'\]"):
        read_sumstats_file(f, fmt="plink-assoc")


@pytest.mark.parametrize("code,expected", [("chr1", "1"), ("1", "1"), ("X", "X"), ("23", "X"), ("chrX", "X"),
                                           ("24", "Y"), ("25", "XY"), ("MT", "MT"), ("chrM", "MT"), ("26", "MT"),
                                           ("01", "1"), ("0", "0")])
def test_chromosome_codes(code, expected):
    assert normalise_chrom(code) == expected


def test_harmonise_counts_every_outcome():
    bim = pd.DataFrame({"chrom": ["1"] * 7, "pos": range(7), "a1": ["A", "A", "A", "A", "A", "C", "A"],
                        "a2": ["G", "G", "G", "G", "T", "G", "C"]},
                       index=pd.Index([f"v{i}" for i in range(7)], name="variant"))
    ss = pd.DataFrame({"variant": ["v0", "v1", "v2", "v3", "v4", "v5", "v6", "v9"],
                       "chrom": pd.NA, "pos": np.nan,
                       "effect_allele": ["A", "G", "T", "C", "A", "C", "G", "A"],
                       "other_allele": ["G", "A", "C", "T", "T", "G", "A", "G"],
                       "beta": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], "se": 1.0, "p": 0.5, "n": np.nan})
    r = harmonise(ss, bim)
    assert r.counts == {"keep": 1, "swap": 1, "flip": 1, "flip_swap": 1, "ambiguous": 2, "mismatch": 1,
                        "not_in_bim": 1}
    assert sum(r.counts.values()) == len(ss)
    out = r.sumstats.set_index("variant")
    assert list(out["beta"]) == [1.0, -2.0, 3.0, -4.0]
    assert (out["effect_allele"] == "A").all() and (out["other_allele"] == "G").all()
    assert r.outcome["v9"] == "not_in_bim" and r.outcome["v6"] == "mismatch"
    kept = harmonise(ss, bim, drop_ambiguous=False)
    assert kept.counts["ambiguous"] == 0 and kept.counts["keep"] == 3


def test_harmonise_against_bim_file(tmp_path):
    from alignome.simulate.genotypes import simulate_genotypes, write_plink

    geno = simulate_genotypes(20, 1, n_snps=30, segments=((1, 1000),), segment_length_bp=200_000)
    write_plink(tmp_path / "g", geno, [f"s{i}" for i in range(20)], np.ones(20, dtype=int))
    ss = pd.DataFrame({"variant": list(geno.variant_id[:3]), "chrom": pd.NA, "pos": np.nan,
                       "effect_allele": [geno.allele_2[0], geno.allele_1[1], pd.NA],
                       "other_allele": [geno.allele_1[0], geno.allele_2[1], pd.NA],
                       "beta": [0.5, 0.5, 0.5], "se": 0.1, "p": 0.1, "n": np.nan})
    r = harmonise(ss, tmp_path / "g")
    ambiguous = int(sum(a + b in ("AT", "TA", "CG", "GC") for a, b in zip(geno.allele_1[:3], geno.allele_2[:3])))
    assert r.counts["ambiguous"] == ambiguous
    assert r.counts["keep"] + r.counts["swap"] == 3 - ambiguous
    expected = {geno.variant_id[0]: -0.5, geno.variant_id[1]: 0.5, geno.variant_id[2]: 0.5}
    for v, b in zip(r.sumstats["variant"], r.sumstats["beta"]):
        assert b == expected[v]
    assert (r.sumstats["chrom"] == "1").all()


def test_a_parquet_table_is_refused_with_the_text_table_to_give(tmp_path):
    import pandas as pd
    import pytest

    from alignome.errors import DataError
    from alignome.genetics.sumstats_io import read_sumstats_file

    path = tmp_path / "g.single.parquet"
    pd.DataFrame({"ID": ["rs1"], "P": [0.1]}).to_parquet(path)
    with pytest.raises(DataError, match="glm.linear") as err:
        read_sumstats_file(path)
    assert "g.single.parquet" in str(err.value)
