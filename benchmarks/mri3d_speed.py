"""Speed of the longitudinal-mri pipeline on the simulated 3D cohort at 96³ (issue 6).

Measures, in one run on this machine:
- preprocessing (MONAI transforms) into the content-keyed cache: seconds per volume
  on one thread and on ``--jobs`` threads, and a second build that only reads the cache;
- contrastive training with the recipe's encoder: volumes/s after the first epoch,
  share of step time spent waiting for data, first versus later epoch time;
- inference volumes/s;
- the in-run reference: the same training fed by on-the-fly preprocessing (no cache,
  the loading-dominated set-up of paper 004), derived from the measured preprocessing
  time per volume plus the measured training step time per volume;
- the paper's own figure (about 710 volumes per 40-minute epoch on an A100) for scale.

Writes ``benchmarks/results/mri3d_speed.json`` and ``.md``.

Usage: python benchmarks/mri3d_speed.py [--subjects 48] [--size 96] [--epochs 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from alignome.cohort.image_cohort import read_image_manifest
from alignome.recipes.registry import load_recipe
from alignome.imaging.cache import VolumeCache
from alignome.imaging.preprocess import preprocess_volume
from alignome.imaging.settings import PreprocessSettings
from alignome.simulate.mri3d import simulate_mri3d
from alignome.recipes.longitudinal_mri.train import contrastive_settings
from alignome.training.contrastive3d import fit_contrastive
from alignome.training.volume_batches import embed_volumes

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "longitudinal-mri.yaml"

#: Paper 004: about 710 volumes in a 40-minute epoch on an A100 (loading dominated).
PAPER_A100_VOLUMES_PER_S = 710 / (40 * 60)


def measure(subjects: int, size: int, epochs: int, jobs: int, batch_size: int, voxel_mm: float) -> dict:
    torch.set_num_threads(jobs)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        simulate_mri3d(tmp / "data", subjects=subjects, voxel_mm=voxel_mm, seed=0)
        cohort = read_image_manifest(tmp / "data" / "manifest.csv", jobs=jobs)
        scans = cohort.scans
        paths = list(scans["path"])
        settings = PreprocessSettings(size=size, spacing=(voxel_mm,) * 3)

        serial = VolumeCache(tmp / "cache1", settings).build(paths, jobs=1, progress=False)
        parallel_cache = VolumeCache(tmp / "cache2", settings)
        parallel = parallel_cache.build(paths, jobs=jobs, progress=False)
        t0 = time.perf_counter()
        rebuilt = parallel_cache.build(paths, jobs=jobs, progress=False)
        volumes = parallel_cache.stack(paths)
        cached_read_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        for p in paths[:16]:
            preprocess_volume(p, settings)
        onthefly_s_per_volume = (time.perf_counter() - t0) / min(16, len(paths))

        subjects_all = scans["subject"].unique()
        rng = np.random.default_rng(0)
        val_subjects = set(rng.choice(subjects_all, size=max(2, len(subjects_all) // 6), replace=False))
        is_val = scans["subject"].isin(val_subjects).to_numpy()
        recipe = load_recipe(RECIPE)  # the recipe's encoder, augmentation and optimiser
        train_settings = dataclasses.replace(
            contrastive_settings(recipe), epochs=epochs, batch_size=batch_size, fraction=1.0, seed=0
        )
        fit = fit_contrastive(volumes, scans, np.flatnonzero(~is_val), np.flatnonzero(is_val), train_settings,
                              tmp / "ckpt", resume=False, progress=False)
        t0 = time.perf_counter()
        embed_volumes(fit.model, volumes)
        inference = len(volumes) / (time.perf_counter() - t0)

    timing = fit.timing
    train_rate = float(timing["train_volumes_per_s"])
    onthefly_rate = 1.0 / (onthefly_s_per_volume + 1.0 / train_rate)
    epoch_s = list(timing["epoch_seconds"])
    return {
        "subjects": int(subjects),
        "scans": int(len(paths)),
        "size": size,
        "widths": list(train_settings.widths),
        "batch_pairs": batch_size,
        "torch_threads": jobs,
        "preprocess_s_per_volume_1_thread": serial.seconds / max(1, serial.built),
        f"preprocess_s_per_volume_{jobs}_threads": parallel.seconds / max(1, parallel.built),
        "cache_read_all_s": cached_read_s,
        "cache_rebuild_hits": rebuilt.hits,
        "train_volumes_per_s": train_rate,
        "data_wait_share": float(timing["data_wait_share"]),
        "first_epoch_s": epoch_s[0],
        "later_epoch_s_mean": float(np.mean(epoch_s[1:])) if len(epoch_s) > 1 else float("nan"),
        "first_epoch_uncached_s": parallel.seconds + epoch_s[0],
        "inference_volumes_per_s": inference,
        "reference_onthefly_train_volumes_per_s": onthefly_rate,
        "ratio_cached_to_onthefly": train_rate / onthefly_rate,
        "paper_a100_volumes_per_s": PAPER_A100_VOLUMES_PER_S,
        "ratio_to_paper_a100": train_rate / PAPER_A100_VOLUMES_PER_S,
    }


def full_resolution_preprocessing(n: int, size: int, jobs: int) -> dict:
    """Seconds per volume to preprocess 1 mm T1-sized inputs (nilearn's 197×233×189 MNI template
    with fresh noise per copy, so every file has its own cache key), on 1 and on ``jobs`` processes."""
    import nibabel as nib
    from nilearn.datasets import load_mni152_template

    template = load_mni152_template(resolution=1)
    data = np.asarray(template.get_fdata(), dtype=np.float32)
    rng = np.random.default_rng(0)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        paths = []
        for i in range(n):
            noisy = data + rng.normal(0, 2.0, data.shape).astype(np.float32) * (data > 0)
            path = tmp / f"t1_{i:02d}.nii.gz"
            nib.save(nib.Nifti1Image(noisy, template.affine), path)
            paths.append(str(path))
        settings = PreprocessSettings(size=size, spacing=(1.0, 1.0, 1.0))
        for workers in (1, jobs):
            stats = VolumeCache(tmp / f"cache{workers}", settings).build(paths, jobs=workers, progress=False)
            out[workers] = stats.seconds / max(1, stats.built)
    return {"fullres_volumes": n, "fullres_s_per_volume_1_thread": out[1],
            f"fullres_s_per_volume_{jobs}_threads": out[jobs]}


def markdown(r: dict, meta: dict) -> str:
    jobs = r["torch_threads"]
    rows = [
        ("scans (subjects)", f"{r['scans']} ({r['subjects']})"),
        ("input size", f"{r['size']}³"),
        ("encoder widths", str(r["widths"])),
        ("preprocessing (simulated 2 mm input), s per volume, serial (torch threads on all cores)", f"{r['preprocess_s_per_volume_1_thread']:.3f}"),
        (f"preprocessing (simulated 2 mm input), s per volume, {jobs} worker threads (1 torch thread each)", f"{r[f'preprocess_s_per_volume_{jobs}_threads']:.3f}"),
        ("1 mm T1-sized input (197×233×189), s per volume, serial (torch threads on all cores)", f"{r['fullres_s_per_volume_1_thread']:.3f}"),
        (f"1 mm T1-sized input, s per volume, {jobs} worker threads (1 torch thread each)", f"{r[f'fullres_s_per_volume_{jobs}_threads']:.3f}"),
        ("reading the whole cache back (s)", f"{r['cache_read_all_s']:.2f}"),
        ("**training volumes/s (cached, after epoch 1)**", f"**{r['train_volumes_per_s']:.1f}**"),
        ("share of step time waiting for data", f"{r['data_wait_share']:.1%}"),
        ("first epoch, cache already built (s)", f"{r['first_epoch_s']:.1f}"),
        ("first epoch including building the cache (s)", f"{r['first_epoch_uncached_s']:.1f}"),
        ("later epochs, mean (s)", f"{r['later_epoch_s_mean']:.1f}"),
        ("inference volumes/s", f"{r['inference_volumes_per_s']:.1f}"),
        ("reference: training fed by on-the-fly preprocessing (volumes/s)", f"{r['reference_onthefly_train_volumes_per_s']:.1f}"),
        ("cached ÷ on-the-fly", f"{r['ratio_cached_to_onthefly']:.1f}×"),
        ("paper 004 on an A100 (volumes/s)", f"{r['paper_a100_volumes_per_s']:.2f}"),
        ("cached ÷ paper", f"{r['ratio_to_paper_a100']:.0f}×"),
    ]
    return (
        "# longitudinal-mri: speed on the simulated 3D cohort\n\n"
        f"Machine: {meta['machine']}, {meta['cpus']} CPUs, load average {meta['load_avg_1min_at_end']:.1f} at the end "
        "(a load above the CPU count means other jobs shared the machine). Issue 6 targets on 2 cores: "
        "training ≥ 15 volumes/s at 96³ after caching, data wait < 10 % of step time, first epoch bounded by "
        "preprocessing on both cores.\n\n"
        "| quantity | value |\n|---|---:|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows) + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=48)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--voxel-mm", type=float, default=2.0)
    parser.add_argument("--fullres", type=int, default=16, help="1 mm T1-sized volumes for the preprocessing timing")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    row = measure(args.subjects, args.size, args.epochs, args.jobs, args.batch_size, args.voxel_mm)
    row.update(full_resolution_preprocessing(args.fullres, args.size, args.jobs))
    meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "load_avg_1min_at_end": os.getloadavg()[0]}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "mri3d_speed.json").write_text(json.dumps({**meta, "result": row}, indent=2))
    (args.out / "mri3d_speed.md").write_text(markdown(row, meta))
    print(markdown(row, meta))


if __name__ == "__main__":
    main()
