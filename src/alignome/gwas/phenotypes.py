"""Embeddings → GWAS phenotypes: top-D principal components, rank inverse-normal transformed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from alignome.errors import DataError


def inverse_normal(x: np.ndarray, offset: float = 3.0 / 8.0) -> np.ndarray:
    """Rank-based inverse-normal transform of one vector (Blom: c = 3/8).

    ``Φ⁻¹((r − c) / (n − 2c + 1))`` with ``r`` the average rank (ties share
    their mean rank) among the ``n`` non-missing values; NaN stays NaN.
    """
    from scipy import stats  # imported here: scipy.stats costs ~1 s of start-up for every `alignome gwas`

    x = np.asarray(x, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    ok = np.isfinite(x)
    n = int(ok.sum())
    if n:
        ranks = stats.rankdata(x[ok], method="average")
        out[ok] = stats.norm.ppf((ranks - offset) / (n - 2.0 * offset + 1.0))
    return out


def inverse_normal_frame(frame: pd.DataFrame, offset: float = 3.0 / 8.0) -> pd.DataFrame:
    """:func:`inverse_normal` applied to every column."""
    return frame.apply(lambda col: pd.Series(inverse_normal(col.to_numpy(), offset), index=col.index))


def embedding_phenotypes(embedding: pd.DataFrame, n_components: int, *, transform: bool = True,
                         prefix: str = "PC") -> pd.DataFrame:
    """Top ``n_components`` principal components of an embedding table, INT-transformed.

    Parameters
    ----------
    embedding
        One row per sample (index = IID), one numeric column per dimension;
        rows with a missing value are dropped.
    n_components
        D, the number of PCs kept (≤ number of dimensions and < rows).
    transform
        Apply :func:`inverse_normal` to each PC (default, as in paper 003).
    prefix
        Output columns are ``{prefix}1..{prefix}D``.

    Returns
    -------
    pandas.DataFrame
        Samples × D, same index as the complete rows of ``embedding``.
    """
    from sklearn.decomposition import PCA

    values = embedding.to_numpy(dtype=np.float64)
    complete = np.isfinite(values).all(axis=1)
    values = values[complete]
    n, k = values.shape
    if not 1 <= n_components <= min(k, n - 1):
        raise DataError(f"cannot take {n_components} principal components of {n} samples × {k} dimensions",
                        field="embedding-pcs", fix=f"choose between 1 and {min(k, n - 1)} components")
    pcs = PCA(n_components=n_components, svd_solver="full").fit_transform(values)
    frame = pd.DataFrame(pcs, index=embedding.index[complete], columns=[f"{prefix}{i + 1}" for i in range(n_components)])
    return inverse_normal_frame(frame) if transform else frame
