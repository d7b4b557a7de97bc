"""Checks of the arguments every image-cohort simulator takes: subjects, seed, worker processes, voxel size."""

from __future__ import annotations

import numpy as np

from alignome.errors import ConfigError


def is_whole(value: object) -> bool:
    """An int or NumPy integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_cohort_args(subjects: object, seed: object, jobs: object, voxel_mm: object,
                      voxel_range_mm: tuple[float, float], voxel_fix: str) -> None:
    """Raise :class:`ConfigError` naming the first argument out of range (``voxel_fix``: the voxel size's fix)."""
    if not is_whole(subjects) or subjects < 1:
        raise ConfigError(f"cannot simulate {subjects!r} subjects", field="subjects", fix="use --subjects 1 or more")
    if isinstance(voxel_mm, bool) or not isinstance(voxel_mm, (int, float, np.integer, np.floating)) or not (
        voxel_range_mm[0] <= float(voxel_mm) <= voxel_range_mm[1]
    ):
        raise ConfigError(
            f"voxel size {voxel_mm!r} mm is outside {voxel_range_mm[0]:g}–{voxel_range_mm[1]:g} mm",
            field="voxel_mm", fix=voxel_fix,
        )
    if not is_whole(seed) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}", field="seed", fix="e.g. --seed 0")
    if not is_whole(jobs) or jobs < 1:
        raise ConfigError(f"jobs must be a positive integer, got {jobs!r}", field="jobs", fix="e.g. --jobs 2")
