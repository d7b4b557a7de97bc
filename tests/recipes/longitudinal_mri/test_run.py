"""The longitudinal-mri recipe end to end through the command line: outputs, resume, hygiene."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from alignome.cli import app

from tests.helpers.paths import RECIPES, REPO

RECIPE = RECIPES / "longitudinal-mri.yaml"
runner = CliRunner()


def _run(out: Path, cache: Path, *extra: str):
    return runner.invoke(
        app, ["run", str(RECIPE), "--preset", "quick", "--out", str(out), *extra],
        env={"ALIGNOME_CACHE_DIR": str(cache)},
    )


@pytest.fixture(scope="module")
def mri_run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("mri")
    out, cache = root / "run", root / "cache"
    result = _run(out, cache)
    assert result.exit_code == 0, result.output
    return out, cache


def test_run_directory_holds_every_output(mri_run):
    out, _ = mri_run
    for name in ("config.resolved.yaml", "metrics.json", "results.csv", "summary.md", "report.html",
                 "embeddings.parquet", "training_curves.csv", "splits.csv", "run.log"):
        assert (out / name).is_file(), name
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"training_curves.png", "distances.png", "trajectories_clinimcl.png", "merit.png"} <= figures
    html = (out / "report.html").read_text()
    assert "Speed" in html and "clinimcl" in html and "data:image/png;base64," in html


def test_every_encoder_is_evaluated_on_test_subjects_only(mri_run):
    out, _ = mri_run
    results = pd.read_csv(out / "results.csv")
    assert set(results["method"]) == {
        "clinimcl", "clinimcl:features", "untrained", "untrained:features", "supervised", "voxels-pca", "oracle"
    }
    assert set(results["fold"]) == {"test"}
    # the oracle (probes on the simulation's true volumes) has probes only: it has no images to embed
    probes = {"diagnosis probe", "AD vs CN probe", "age probe", "MCI-to-AD conversion probe"}
    assert {"diagnosis probe", "age probe"} <= set(results.loc[results["method"] == "oracle", "task"]) <= probes
    encoders = results[results["method"] != "oracle"]
    for method, grp in encoders.groupby("method"):
        got = set(zip(grp["task"], grp["metric"]))
        assert {("re-identification", "top1"), ("temporal consistency", "ratio"), ("age probe", "mae")} <= got, method
    top1 = results[results["metric"] == "top1"]["value"]
    assert top1.between(0, 1).all()
    # every figure of a test set larger than one subject has its bootstrap interval
    shown = results[~results["metric"].str.startswith("chance")].dropna(subset=["value"])
    assert shown[["ci_low", "ci_high"]].notna().all().all()
    assert (shown["ci_low"] <= shown["ci_high"]).all()
    assert set(encoders.loc[encoders["task"] == "atrophy tracking", "metric"]) == {"spearman_hippocampus",
                                                                                    "spearman_whole_brain"}

    splits = pd.read_csv(out / "splits.csv")
    assert not splits["subject"].duplicated().any()  # a subject lies in exactly one split
    emb = pd.read_parquet(out / "embeddings.parquet")
    per_subject = emb.groupby("subject")["split"].nunique()
    assert (per_subject == 1).all()
    assert dict(zip(splits["subject"], splits["split"])) == emb.drop_duplicates("subject").set_index("subject")["split"].to_dict()
    z = [c for c in emb.columns if c.startswith("z_")]
    clinimcl = emb.loc[emb["method"] == "clinimcl", z]
    assert clinimcl.notna().all(axis=0).sum() == 128  # the supervised reference embeds with its encoder features
    networks = emb[emb["method"] != "voxels-pca"]
    norms = (networks[z].fillna(0) ** 2).sum(axis=1) ** 0.5
    assert norms.sub(1).abs().max() < 1e-4  # the networks' embeddings are L2-normalised


def test_the_voxel_pca_row_is_fitted_on_every_training_scan_and_reported(mri_run):
    out, _ = mri_run
    metrics = json.loads((out / "metrics.json").read_text())
    emb = pd.read_parquet(out / "embeddings.parquet")
    pca = emb[emb["method"] == "voxels-pca"]
    train_scans = int((pca["split"] == "train").sum())
    assert metrics["voxel_pca"]["fit_scans"] == train_scans
    assert metrics["voxel_pca"]["components"] == min(128, train_scans - 1)
    z = [c for c in emb.columns if c.startswith("z_")]
    assert pca[z].notna().all(axis=0).sum() == metrics["voxel_pca"]["components"]
    # centred on the training scans: their scores average zero on every component, the test scans' do not
    assert abs(pca.loc[pca["split"] == "train", z].mean()).max() < 1e-8
    assert abs(pca.loc[pca["split"] == "test", z].dropna(axis=1).mean()).max() > 1e-3
    header = next(line for line in (out / "summary.md").read_text().splitlines() if line.startswith("| metric"))
    assert "| voxels-pca |" in header
    assert "voxels-pca" in metrics["probe_penalties"]


def test_metrics_record_speed_cache_and_which_loss_ran(mri_run):
    out, _ = mri_run
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["kind"] == "longitudinal-mri"
    assert "standard InfoNCE" in metrics["encoder"]["loss"]
    assert metrics["cache"]["built"] == metrics["cohort"]["scans"] and metrics["cache"]["hits"] == 0
    assert metrics["speed"]["train_volumes_per_s"] > 0 and 0 <= metrics["speed"]["data_wait_share"] < 1
    assert 1 <= metrics["encoder"]["best_epoch"] <= metrics["encoder"]["epochs"]
    # the kept epoch is the one of lowest validation InfoNCE (the default rule), and the curves mark it
    assert metrics["encoder"]["selection"].startswith("min validation InfoNCE")
    curves = pd.read_csv(out / "training_curves.csv")
    clinimcl = curves[curves["method"] == "clinimcl"]
    assert clinimcl.loc[clinimcl["kept"], "epoch"].tolist() == [metrics["encoder"]["best_epoch"]]
    assert metrics["encoder"]["best_epoch"] == int(clinimcl.loc[clinimcl["val_loss"].idxmin(), "epoch"])
    # every probe's penalty, chosen on training subjects, is written down
    penalties = metrics["probe_penalties"]["clinimcl"]
    assert {"diagnosis", "age"} <= set(penalties) and penalties["age"]["inner_folds"] >= 2
    assert penalties["diagnosis"]["C"] > 0


def test_rerun_resumes_from_cache_and_checkpoints_with_identical_results(mri_run, tmp_path):
    out, cache = mri_run
    again = tmp_path / "again"
    shutil.copytree(out, again)
    result = _run(again, cache)
    assert result.exit_code == 0, result.output
    metrics = json.loads((again / "metrics.json").read_text())
    assert metrics["cache"]["built"] == 0 and metrics["cache"]["hits"] == metrics["cohort"]["scans"]
    pd.testing.assert_frame_equal(pd.read_csv(out / "results.csv"), pd.read_csv(again / "results.csv"))
    log = (again / "run.log").read_text()
    assert "resuming ClinImCL training from" in log and "resuming supervised reference training from" in log


def test_changed_image_content_trains_afresh_instead_of_resuming(mri_run, tmp_path):
    """Same recipe and --out, one scan's voxels changed in place: its checkpoints must not be reused."""
    import nibabel as nib

    out, cache = mri_run
    again = tmp_path / "again"
    shutil.copytree(out, again)
    first_run_log = (again / "run.log").read_text()
    scan = again / "data" / pd.read_csv(again / "data" / "manifest.csv")["path"].iloc[0]
    img = nib.load(scan)
    nib.save(nib.Nifti1Image(img.get_fdata().astype("float32") * 0.5, img.affine), scan)

    result = _run(again, cache)
    assert result.exit_code == 0, result.output
    log = (again / "run.log").read_text()[len(first_run_log):]
    assert "resuming" not in log and "training afresh" in log
    assert len(list((again / "checkpoints").iterdir())) == 2
    metrics = json.loads((again / "metrics.json").read_text())
    assert metrics["cache"]["built"] == 1 and metrics["encoder"]["training"]["resumed_from"] is None


def test_a_process_of_non_zero_rank_trains_but_neither_evaluates_nor_reports(mri_run, tmp_path):
    """RANK=1, as a multi-process launcher sets it in its other processes: no reference, tables or report."""
    out, cache = mri_run
    again = tmp_path / "again"
    shutil.copytree(out, again)
    written = ("results.csv", "metrics.json", "report.html", "embeddings.parquet", "splits.csv")
    for name in written:
        (again / name).unlink()
    first_run_log = (again / "run.log").read_text()

    result = runner.invoke(app, ["run", str(RECIPE), "--preset", "quick", "--out", str(again)],
                           env={"ALIGNOME_CACHE_DIR": str(cache), "RANK": "1"})
    assert result.exit_code == 0, result.output
    assert not any((again / name).exists() for name in written)
    log = (again / "run.log").read_text()[len(first_run_log):]
    assert "process of rank 1: training done" in log
    assert "supervised" not in log and "run finished" not in log


def test_bad_files_are_skipped_with_reasons_and_the_run_goes_on(mri_run, tmp_path):
    """A truncated file, a 4D file, NaN voxels and a missing file: counted, named, and the run finishes."""
    import gzip

    import nibabel as nib
    import numpy as np

    out, cache = mri_run
    data = tmp_path / "data"
    shutil.copytree(out / "data", data)
    manifest = pd.read_csv(data / "manifest.csv")
    paths = [data / p for p in manifest["path"]]
    raw = gzip.decompress(paths[0].read_bytes())
    paths[0].write_bytes(gzip.compress(raw[: len(raw) // 2]))  # truncated
    img = nib.load(paths[3])
    four_d = np.stack([img.get_fdata()] * 2, axis=-1).astype(np.float32)
    nib.save(nib.Nifti1Image(four_d, img.affine), paths[3])  # 4D where 3D is expected
    nan = img.get_fdata().astype(np.float32)
    nan[5, 5, 5] = np.nan
    nib.save(nib.Nifti1Image(nan, img.affine), paths[6])  # NaN voxels
    paths[9].unlink()  # a manifest row whose file is missing
    nib.save(nib.Nifti1Image(img.get_fdata().astype(np.float32), np.diag([400.0, 400.0, 400.0, 1.0])),
             paths[12])  # an absurd affine: resampling it would allocate terabytes

    # as a real cohort: no truth table, so what needs the true volumes is unavailable, with the reason
    (data / "cohort.yaml").write_text("manifest: manifest.csv\n")

    result = runner.invoke(
        app, ["run", str(RECIPE), "--preset", "quick", "--data", str(data), "--out", str(tmp_path / "run")],
        env={"ALIGNOME_CACHE_DIR": str(cache)},
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "no true volumes" in metrics["unavailable"]["atrophy tracking"]
    assert "atrophy tracking — no true volumes" in (tmp_path / "run" / "summary.md").read_text()
    results = pd.read_csv(tmp_path / "run" / "results.csv")
    assert "oracle" not in set(results["method"]) and "atrophy tracking" not in set(results["task"])
    assert metrics["cohort"]["scans"] == len(manifest) - 5
    drops = " ".join(metrics["cohort"]["drops"])
    for reason in ("truncated", "not a 3D volume", "NaN", "file not found", "implausible voxel size"):
        assert reason in drops, (reason, drops)
    assert paths[3].name in drops
    log = (tmp_path / "run" / "run.log").read_text()
    assert "dropped" in log
    # subjects left with one scan are evaluated (test split); training and validation hold pairs only
    kept = manifest[~manifest["path"].isin([str(p.relative_to(data)) for p in (paths[0], paths[3], paths[6], paths[9], paths[12])])]
    scans_per_subject = kept["subject"].astype(str).value_counts()
    splits = pd.read_csv(tmp_path / "run" / "splits.csv", dtype={"subject": str}).set_index("subject")["split"]
    single = scans_per_subject.index[scans_per_subject == 1]
    assert (splits.reindex(single) == "test").all()
    assert (scans_per_subject.reindex(splits.index[splits != "test"]) >= 2).all()


@pytest.mark.slow
def test_each_seed_of_a_seeds_run_is_the_run_of_that_seed(mri_run, tmp_path):
    """``protocol.seeds: [0]``: its seed-0 run has the single run's settings key (it resumes the single run's
    checkpoints, so nothing about it differs) and the same results."""
    import yaml

    out, cache = mri_run
    recipe = yaml.safe_load(RECIPE.read_text())
    recipe["protocol"]["seeds"] = [0]
    path = tmp_path / "longitudinal-mri.yaml"
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    seeds_out = tmp_path / "seeds"
    shutil.copytree(out, seeds_out / "seed-0")
    log_before = (seeds_out / "seed-0" / "run.log").read_text()
    result = runner.invoke(app, ["run", str(path), "--preset", "quick", "--out", str(seeds_out)],
                           env={"ALIGNOME_CACHE_DIR": str(cache)})
    assert result.exit_code == 0, result.output
    log = (seeds_out / "seed-0" / "run.log").read_text()[len(log_before):]
    assert "resuming ClinImCL training from" in log and "resuming supervised reference training from" in log
    single = pd.read_csv(out / "results.csv")
    pd.testing.assert_frame_equal(pd.read_csv(seeds_out / "seed-0" / "results.csv"), single)
    pd.testing.assert_frame_equal(pd.read_csv(seeds_out / "results.csv").drop(columns="seed"), single)
    metrics = json.loads((seeds_out / "metrics.json").read_text())
    top1 = single.query("method == 'clinimcl' and metric == 'top1'")["value"].item()
    assert metrics["seeds"] == [0] and metrics["spread"]["clinimcl"]["re-identification"]["top1"]["mean"] == top1


@pytest.mark.slow
def test_lightning_ddp_on_two_cpu_processes_evaluates_and_reports_once(tmp_path):
    """``strategy: ddp`` re-launches the command in a second process; only the first one evaluates and reports."""
    import os
    import subprocess
    import sys

    import yaml

    recipe = yaml.safe_load(RECIPE.read_text())
    recipe["method"].update(devices=2, strategy="ddp")
    path = tmp_path / "ddp.yaml"
    path.write_text(yaml.safe_dump(recipe))
    out = tmp_path / "run"
    source = os.pathsep.join(p for p in (str(REPO / "src"), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "ALIGNOME_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": source}
    done = subprocess.run([sys.executable, "-m", "alignome", "run", str(path), "--preset", "quick", "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    log = (out / "run.log").read_text()
    assert log.count("supervised reference: best epoch") == 1 and log.count("run finished") == 1
    assert log.count("process of rank 1: training done") == 1
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["encoder"]["training"]["world_size"] == 2
    assert set(pd.read_csv(out / "results.csv")["method"]) >= {"clinimcl", "supervised"}
