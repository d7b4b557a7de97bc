"""Your own images + genotypes + panel: what is read, what is counted, and each error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from alignome.cohort.image_manifest import check_panel_effects, load_image_manifest
from alignome.errors import ConfigError, DataError
from alignome.simulate.genotypes import GenotypeData, write_plink

DOSAGE = np.array([[0, 1, 2], [1, 1, 0], [2, 0, 1], [0, 2, 1]], dtype=np.int8)  # samples a-d × v1-v3


@pytest.fixture
def data(tmp_path):
    geno = GenotypeData(dosage=DOSAGE, chromosome=np.array([1, 1, 2]), bp_position=np.array([100, 200, 300]),
                        variant_id=np.array(["v1", "v2", "v3"]), allele_1=np.array(["A", "C", "G"]),
                        allele_2=np.array(["G", "T", "T"]))
    write_plink(tmp_path / "geno", geno, ["a", "b", "c", "d"], np.ones(4, dtype=np.int32))
    Image.fromarray(np.full((20, 30), 128, dtype=np.uint8)).save(tmp_path / "a.png")
    red = np.zeros((40, 40, 3), dtype=np.uint8)
    red[..., 0] = 255
    Image.fromarray(red).save(tmp_path / "b.jpg")
    np.save(tmp_path / "c.npy", np.full((8, 8), 0.25, dtype=np.float32))
    Image.fromarray(np.zeros((12, 12), dtype=np.uint8)).save(tmp_path / "x.png")
    pd.DataFrame({"subject": ["a", "b", "c", "x"], "path": ["a.png", "b.jpg", "c.npy", "x.png"],
                  "age": [50, 61.5, 70, 40]}).to_csv(tmp_path / "manifest.csv", index=False)
    pd.DataFrame({"variant": ["v2", "v9", "v1"], "effect_allele": ["T", "A", "A"], "p": [1e-8, 1e-7, 1e-6],
                  "beta": [0.5, 0.1, -0.2]}).to_csv(tmp_path / "panel.tsv", sep="\t", index=False)
    return tmp_path


def test_images_genotypes_and_covariates_of_subjects_with_both(data):
    got = load_image_manifest(data / "manifest.csv", data / "geno", data / "panel.tsv", size=16)
    assert list(got.subjects) == ["a", "b", "c"] and list(got.manifest_rows) == [2, 3, 4]
    assert got.images.shape == (3, 3, 16, 16)  # one RGB image: all get three channels
    np.testing.assert_allclose(got.images[0], 128 / 255, atol=1e-6)
    assert got.images[1, 0].mean() > 0.9 and got.images[1, 1:].mean() < 0.1  # red stays red (JPEG, loosely)
    np.testing.assert_allclose(got.images[2], 0.25, atol=1e-6)
    assert list(got.panel["variant"]) == ["v2", "v1"]  # panel order, v9 not genotyped
    np.testing.assert_array_equal(got.genotypes, DOSAGE[:3][:, [1, 0]].astype(np.float32))  # counts of A1
    assert got.panel["beta"].tolist() == [-0.5, -0.2]  # v2's effect allele was A2 (T): flipped to A1
    assert got.covariates["age"].tolist() == [50.0, 61.5, 70.0]
    reasons = " | ".join(str(d) for d in got.drops)
    assert "1 row(s) — subject(s) without genotypes" in reasons and "'x'" in reasons
    assert "1 variant(s) — panel variant(s) missing from the .bim" in reasons and "v9" in reasons


def test_grayscale_only_gives_one_channel(data):
    pd.DataFrame({"subject": ["a", "c"], "path": ["a.png", "c.npy"]}).to_csv(data / "gray.csv", index=False)
    got = load_image_manifest(data / "gray.csv", data / "geno", data / "panel.tsv", size=8)
    assert got.images.shape == (2, 1, 8, 8)


def test_an_unreadable_image_names_the_manifest_row_and_the_image(data):
    (data / "b.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(DataError) as error:
        load_image_manifest(data / "manifest.csv", data / "geno", data / "panel.tsv")
    text = str(error.value)
    assert "manifest.csv" in text and "row 3" in text and "b.jpg" in text and "unreadable image" in text
    (data / "b.jpg").unlink()
    with pytest.raises(DataError, match="image file not found"):
        load_image_manifest(data / "manifest.csv", data / "geno", data / "panel.tsv")


def test_no_genotyped_subject_and_repeated_subjects_are_errors(data):
    pd.DataFrame({"subject": ["x"], "path": ["x.png"]}).to_csv(data / "none.csv", index=False)
    with pytest.raises(DataError, match="none of the 1 manifest subjects"):
        load_image_manifest(data / "none.csv", data / "geno", data / "panel.tsv")
    twice = pd.DataFrame({"subject": ["a", "b", "a"], "path": ["a.png", "b.jpg", "a.png"]})
    twice.to_csv(data / "twice.csv", index=False)
    with pytest.raises(DataError, match=r"subject 'a' has 2 rows \(lines \[2, 4\]\)"):
        load_image_manifest(data / "twice.csv", data / "geno", data / "panel.tsv")


def test_a_non_numeric_covariate_names_its_row(data):
    pd.DataFrame({"subject": ["a", "b"], "path": ["a.png", "b.jpg"], "site": ["1", "north"]}).to_csv(
        data / "site.csv", index=False)
    with pytest.raises(DataError, match="non-numeric value 'north'") as error:
        load_image_manifest(data / "site.csv", data / "geno", data / "panel.tsv")
    assert "row 3" in str(error.value)


def test_a_panel_without_effects_is_refused_only_when_the_init_reads_them():
    panel = pd.DataFrame({"variant": ["v1", "v2"], "beta": [np.nan, np.nan]})
    check_panel_effects(panel, "random")
    with pytest.raises(ConfigError, match="has no effect sizes") as error:
        check_panel_effects(panel, "effects", file="panel.tsv")
    assert "panel.tsv" in str(error.value) and "random" in str(error.value)
    with pytest.raises(ConfigError, match=r"lacks the effect size of 1 variant\(s\) \(first: v2\)"):
        check_panel_effects(pd.DataFrame({"variant": ["v1", "v2"], "beta": [0.1, np.nan]}), "effects")
    check_panel_effects(pd.DataFrame({"variant": ["v1"], "beta": [0.1]}), "effects")
    with pytest.raises(ConfigError):
        check_panel_effects(pd.DataFrame({"variant": ["v1"]}), "effects")
