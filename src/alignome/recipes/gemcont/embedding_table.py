"""Held-out embeddings as a phenotype table: one row per subject (``IID``), columns ``e1 … eD``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def embedding_table(embedding: np.ndarray, ids: np.ndarray) -> pd.DataFrame:
    """``embedding`` (n × D) indexed by the subjects' ``ids`` (``IID``), columns ``e1 … eD``."""
    return pd.DataFrame(embedding, index=pd.Index(np.asarray(ids), name="IID"),
                        columns=[f"e{i + 1}" for i in range(np.shape(embedding)[1])])


def write_embedding_table(table: pd.DataFrame, path: Path) -> None:
    """Write an :func:`embedding_table` as the tab-separated file ``alignome gwas --pheno`` (and plink2) reads."""
    table.to_csv(path, sep="\t")
