"""How well an AD-vs-HC effect map (e.g. a rank-biserial map) points at the simulated cohort's planted regions.

The simulated cohort (:mod:`alignome.simulate.falff3d`) plants its AD signal in known places: the
fALFF map is lowered in the posterior cingulate/precuneus and the hippocampi; the T1 shrinks the
hippocampi and entorhinal cortices and widens the lateral ventricles (plus a thin whole-brain
shrinkage at the outer surface, which no mask here stands for). For an effect map on the recipe's
grid this measures where its peak |effect| falls (distance to the nearest planted region, 0 inside)
and which share of its top voxels lies inside a planted region, next to the share chance gives
(the regions' share of the brain, and of the voxels the map is non-zero at).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from alignome.errors import DataError
from alignome.simulate.brain3d import Grid, load_atlas, sample
from alignome.simulate.falff_map import falff_regions

#: The regions each modality's AD signal is planted in.
PLANTED = {"fALFF": ("pcc_precuneus", "hippocampus"), "T1w": ("hippocampus", "entorhinal", "ventricles")}


def planted_masks(grid: Grid, modality: str, threshold: float = 0.25) -> dict[str, np.ndarray]:
    """Boolean mask on ``grid`` of each region ``modality``'s AD signal is planted in (weight ≥ ``threshold``).

    The T1 masks are the atlas's partial-volume fractions: at 6 mm a threshold of 0.25 keeps volumes
    near the structures' own (hippocampi 10.6 ml, entorhinal 3.0, ventricles 16), 0.5 loses most of
    the thin ones (0.9 ml of entorhinal cortex). The fALFF weights are the same at either.
    """
    if modality not in PLANTED:
        raise DataError(f"no planted regions for modality {modality!r}", field="modality",
                        fix=f"use one of {sorted(PLANTED)}")
    if modality == "fALFF":
        regions = falff_regions(grid)
        return {name: regions[name] >= threshold for name in PLANTED[modality]}
    atlas = load_atlas(grid.spacing)
    points = grid.points()
    return {name: sample(getattr(atlas, name), atlas.grid, points) >= threshold for name in PLANTED[modality]}


@dataclass(frozen=True)
class Localisation:
    """Where an effect map's peak and top voxels fall relative to the planted regions."""

    peak: tuple[int, ...]
    peak_effect: float
    nearest_region: str
    peak_distance_mm: float
    top_voxels: int
    top_in_regions: float
    chance_brain: float
    chance_nonzero: float

    @property
    def enrichment(self) -> float:
        """``top_in_regions`` over the brain-share chance."""
        return self.top_in_regions / self.chance_brain if self.chance_brain > 0 else float("nan")


def localisation(effect: np.ndarray, masks: dict[str, np.ndarray], brain: np.ndarray, spacing_mm: float,
                 top_share: float = 0.01) -> Localisation:
    """Peak and top-``top_share`` voxels (by ``|effect|``, of the brain's voxel count) against the planted ``masks``.

    The top voxels are taken among the brain voxels where ``effect`` is non-zero (the recipe zeroes
    non-salient voxels), at most ``top_share`` of the brain's voxels.
    """
    effect = np.asarray(effect, dtype=np.float64)
    brain = np.asarray(brain, dtype=bool)
    if effect.shape != brain.shape or any(m.shape != effect.shape for m in masks.values()) or not masks:
        raise DataError(f"effect {effect.shape}, brain {brain.shape} and masks differ in shape", field="effect",
                        fix="give the effect map, brain mask and region masks on one grid")
    size = np.where(brain, np.abs(np.nan_to_num(effect)), 0.0)
    peak = tuple(int(i) for i in np.unravel_index(int(np.argmax(size)), size.shape))
    distances = {name: float(ndi.distance_transform_edt(~mask)[peak]) * spacing_mm if mask.any() else np.inf
                 for name, mask in masks.items()}
    nearest = min(distances, key=distances.get)
    union = np.logical_or.reduce(list(masks.values()))
    nonzero = brain & (size > 0)
    k = min(max(1, int(round(top_share * brain.sum()))), int(nonzero.sum()))
    values, inside = size[nonzero], union[nonzero]
    top = np.argsort(-values, kind="stable")[:k]
    return Localisation(
        peak=peak, peak_effect=float(effect[peak]), nearest_region=nearest, peak_distance_mm=distances[nearest],
        top_voxels=k, top_in_regions=float(inside[top].mean()) if k else float("nan"),
        chance_brain=float(union[brain].mean()) if brain.any() else float("nan"),
        chance_nonzero=float(inside.mean()) if inside.size else float("nan"),
    )
