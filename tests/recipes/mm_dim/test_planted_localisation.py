"""Peak distance and top-voxel shares of an effect map against planted regions, checked by brute force; the
masks sit where the simulator plants its signal."""

import numpy as np
import pytest

from alignome.errors import DataError
from alignome.recipes.mm_dim.planted_localisation import localisation, planted_masks
from alignome.simulate.brain3d import ENTORHINAL_CENTRES_MM, HIPPOCAMPUS_CENTRES_MM, load_atlas, sample
from alignome.simulate.falff3d import mm_grid
from alignome.simulate.falff_map import falff_regions


def test_localisation_matches_a_brute_force_count():
    rng = np.random.default_rng(0)
    shape, spacing = (9, 10, 11), 6.0
    brain = np.zeros(shape, bool)
    brain[1:-1, 1:-1, 1:-1] = True
    masks = {"a": np.zeros(shape, bool), "b": np.zeros(shape, bool)}
    masks["a"][2:4, 2:4, 2:5] = True
    masks["b"][6, 7, 8] = True
    effect = np.where(brain & (rng.random(shape) < 0.7), rng.uniform(-1, 1, shape), 0.0)
    found = localisation(effect, masks, brain, spacing, top_share=0.05)

    size = np.where(brain, np.abs(effect), 0)
    peak = np.unravel_index(np.argmax(size), shape)
    assert found.peak == tuple(int(i) for i in peak)
    assert found.peak_effect == effect[peak]
    dist = {n: min(np.linalg.norm(np.subtract(peak, v)) for v in np.argwhere(m)) * spacing for n, m in masks.items()}
    assert found.nearest_region == min(dist, key=dist.get)
    assert found.peak_distance_mm == pytest.approx(min(dist.values()))
    union = masks["a"] | masks["b"]
    k = round(0.05 * brain.sum())
    ranked = sorted(zip(size[brain & (size > 0)], union[brain & (size > 0)]), key=lambda t: -t[0])[:k]
    assert found.top_voxels == k
    assert found.top_in_regions == pytest.approx(np.mean([inside for _, inside in ranked]))
    assert found.chance_brain == pytest.approx(union[brain].sum() / brain.sum())
    assert found.enrichment == pytest.approx(found.top_in_regions / found.chance_brain)


def test_a_peak_inside_a_region_is_at_distance_zero_and_its_top_voxels_all_inside():
    shape = (8, 8, 8)
    brain = np.ones(shape, bool)
    region = np.zeros(shape, bool)
    region[2:5, 2:5, 2:5] = True
    effect = np.where(region, 0.9, 0.1)
    found = localisation(effect, {"r": region}, brain, 3.0, top_share=0.02)
    assert found.peak_distance_mm == 0.0
    assert found.top_in_regions == 1.0
    assert found.chance_brain == pytest.approx(27 / 512)


def test_masks_lie_where_the_simulator_plants_its_signal():
    grid = mm_grid(6.0)
    falff = planted_masks(grid, "fALFF")
    regions = falff_regions(grid)
    assert all(np.array_equal(falff[n], regions[n] >= 0.25) for n in falff)
    t1 = planted_masks(grid, "T1w")
    points = grid.points()
    for name, centres in (("hippocampus", HIPPOCAMPUS_CENTRES_MM), ("entorhinal", ENTORHINAL_CENTRES_MM)):
        centroid = points[:, t1[name]].mean(axis=1)  # both sides together: on the midline
        assert np.abs(centroid - np.mean(centres, axis=0)).max() < grid.spacing, name
    # the T1's hippocampi (the atlas's partial volumes) overlap the fALFF's (the same ellipsoids, smoothed)
    assert (t1["hippocampus"] & falff["hippocampus"]).sum() > 0.5 * t1["hippocampus"].sum()
    atlas = load_atlas(grid.spacing)
    template = sample(atlas.t1, atlas.grid, points)
    assert template[t1["ventricles"]].mean() < 0.85 * template[template > 0.2].mean()  # darker: CSF
    assert abs(points[0][t1["ventricles"]].mean()) < grid.spacing  # both lateral ventricles: on the midline
    with pytest.raises(DataError, match="modality"):
        planted_masks(grid, "PET")
