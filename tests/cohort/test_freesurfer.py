"""FreeSurfer stats files listed in a manifest."""

from __future__ import annotations

import pytest
from tests.helpers.cohort_files import write_cohort

from alignome.cohort import load_cohort
from alignome.cohort.freesurfer import parse_aseg
from alignome.cohort.sources import DataConfig

ASEG = """# Title Segmentation Statistics
# generating_program mri_segstats
# Measure BrainSeg, BrainSegVol, Brain Segmentation Volume, 1148520.000000, mm^3
# Measure EstimatedTotalIntraCranialVol, eTIV, Estimated Total Intracranial Volume, {etiv}, mm^3
# NRows 3
# NTableCols 10
# ColHeaders  Index SegId NVoxels Volume_mm3 StructName normMean normStdDev normMin normMax normRange
  1   4     6575     6575.0  Left-Lateral-Ventricle   33.5673    11.3409    13.0000    83.0000    70.0000
  2  17     {hip}     {hip}.0  Left-Hippocampus         75.1016     8.7429    33.0000   104.0000    71.0000
  3  53     4301     4301.2  Right-Hippocampus        76.1234     8.2154    41.0000   103.0000    62.0000
"""

APARC = """# Table of FreeSurfer cortical parcellation anatomical statistics
# Measure Cortex, MeanThickness, Mean Thickness, 2.45, mm
# ColHeaders StructName NumVert SurfArea GrayVol ThickAvg ThickStd MeanCurv GausCurv FoldInd CurvInd
bankssts                                 1431    970   2562  2.584 0.453     0.105     0.021        9     1.2
entorhinal                                545    381   {ent}  3.346 0.683     0.123     0.031        6     0.6
"""


def _write_subject(root, name, hip, etiv, ent=None):
    stats = root / name / "stats"
    stats.mkdir(parents=True)
    (stats / "aseg.stats").write_text(ASEG.format(hip=hip, etiv=etiv))
    if ent is not None:
        (stats / "lh.aparc.stats").write_text(APARC.format(ent=ent))


def test_parse_aseg(tmp_path):
    _write_subject(tmp_path, "x", 4100, "1500000.123")
    volumes = parse_aseg(tmp_path / "x" / "stats" / "aseg.stats")
    assert volumes["Left-Hippocampus"] == 4100.0
    assert volumes["Right-Hippocampus"] == pytest.approx(4301.2)
    assert volumes["eTIV"] == pytest.approx(1500000.123)
    assert volumes["BrainSegVol"] == 1148520.0


def test_manifest_reads_aseg_and_aparc_and_drops_incomplete(tmp_path):
    data = write_cohort(tmp_path, allow_missing_modality=True)
    fs = tmp_path / "fs"
    _write_subject(fs, "s1_bl", 4100, "1500000", ent=1900)
    _write_subject(fs, "s1_m12", 4000, "1500010", ent=1850)
    _write_subject(fs, "s2_bl", 3500, "1400000")  # no aparc: cortical regions missing -> dropped
    (tmp_path / "manifest.csv").write_text(
        "subject,age,stats_dir\nS001,70.1,fs/s1_bl\nS001,71.0,fs/s1_m12\nS002,65.5,fs/s2_bl\n"
    )
    section = data.model_dump()
    section["volumes"] = {"freesurfer_manifest": tmp_path / "manifest.csv"}
    cohort = load_cohort(DataConfig.model_validate(section), n_snps=2)
    assert "ctx-lh-entorhinal" in cohort.regions and "eTIV" in cohort.regions
    assert cohort.scans["Left-Hippocampus"].tolist() == [4100.0, 4000.0]
    assert cohort.scans["ctx-lh-entorhinal"].tolist() == [1900.0, 1850.0]
    drop = [d for d in cohort.drops if d.source.startswith("volumes")]
    assert drop and drop[0].count == 1
