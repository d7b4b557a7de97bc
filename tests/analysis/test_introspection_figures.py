"""Tests of the introspection figures (alignome.analysis.introspection_figures)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from alignome.analysis.introspection_figures import (
    _slice,
    effect_size_figure,
    saliency_pair_figure,
    similarity_heatmap,
)
from alignome.errors import DataError


def test_slices_put_superior_and_anterior_up() -> None:
    vol = np.zeros((5, 6, 7))
    vol[1, 2, 6] = 1.0  # a superior voxel
    sagittal = _slice(vol, 0, 1)  # rows: z, columns: y
    assert sagittal.shape == (7, 6) and sagittal[6, 2] == 1.0
    coronal = _slice(vol, 1, 2)  # rows: z, columns: x
    assert coronal.shape == (7, 5) and coronal[6, 1] == 1.0
    axial = _slice(vol, 2, 6)  # rows: y, columns: x
    assert axial.shape == (6, 5) and axial[2, 1] == 1.0


def test_figures_are_written_as_png(tmp_path: Path) -> None:
    table = pd.DataFrame({"method": ["S", "S", "AE", "AE"], "group": ["AD", "HC", "HC", "AD"],
                          "cka": [0.5, 0.4, 0.2, 0.3], "svcca": [0.3, 0.2, 0.1, np.nan]})
    rng = np.random.default_rng(0)
    vol = rng.random((12, 14, 10))
    paths = [
        similarity_heatmap(table, tmp_path / "sim.png"),
        saliency_pair_figure({"T1 dim 0": vol, "fALFF dim 3": vol[::-1]}, tmp_path / "sal.png", background=vol,
                             threshold=0.5),
        effect_size_figure({"T1": vol - 0.5, "fALFF": 0.5 - vol}, tmp_path / "rbc.png"),
    ]
    for p in paths:
        assert mpimg.imread(p).ndim == 3
    with pytest.raises(DataError, match="one shape"):
        saliency_pair_figure({"a": vol, "b": vol[:5]}, tmp_path / "bad.png")
    with pytest.raises(DataError, match="lacks"):
        similarity_heatmap(table.drop(columns="svcca"), tmp_path / "bad.png")
