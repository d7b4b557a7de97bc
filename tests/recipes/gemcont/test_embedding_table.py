"""Held-out embedding tables read back through ``alignome gwas``'s reader: same subjects, same values."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alignome.gwas.traits import read_trait_table
from alignome.recipes.gemcont.embedding_table import embedding_table, write_embedding_table


def test_embedding_table_round_trips_through_the_gwas_reader(tmp_path: Path) -> None:
    embedding = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    ids = np.array([f"S{i:02d}" for i in (4, 0, 3, 1, 2)])
    write_embedding_table(embedding_table(embedding, ids), tmp_path / "gemcont.tsv")
    back = read_trait_table(tmp_path / "gemcont.tsv", "phenotype")
    assert list(back.ids) == list(ids) and back.names == ["e1", "e2", "e3"]
    np.testing.assert_allclose(back.values, embedding, rtol=1e-6)
