"""SNP encodings as scikit-learn transformers, fitted on training subjects only."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from alignome.errors import DataError


def _genotype_classes(X: np.ndarray) -> np.ndarray:
    """Round allele counts / dosages to the genotype classes 0, 1, 2 (NaN kept)."""
    X = np.asarray(X, dtype=np.float64)
    finite = X[np.isfinite(X)]
    if finite.size and (finite.min() < 0 or finite.max() > 2):
        raise DataError(
            f"genotype values must lie in [0, 2]; found {finite.min():g}..{finite.max():g}",
            field="genotypes",
            fix="give allele counts 0/1/2 (or dosages) of the effect allele",
        )
    return np.rint(X)


class PopulationFrequencyEncoder(BaseEstimator, TransformerMixin):
    """Ko et al. (2022) population-probability encoding used by paper 000.

    Each genotype value g ∈ {0, 1, 2} of SNP j becomes the frequency of that
    genotype at SNP j among the subjects seen by :meth:`fit` (the training
    subjects — pass one row per subject). A missing genotype becomes the
    expected encoded value Σ_g f_jg², i.e. the training mean of the encoding.
    A genotype never seen in training encodes as 0.

    Attributes
    ----------
    frequencies_ : ndarray of shape (n_snps, 3)
        Genotype frequencies f_jg among the fitting subjects (rows sum to 1).
    n_subjects_seen_ : int
        Number of rows used for fitting.
    """

    def fit(self, X: np.ndarray, y: object = None) -> "PopulationFrequencyEncoder":
        G = _genotype_classes(X)
        if G.ndim != 2 or G.shape[0] == 0:
            raise DataError("need a 2-D genotype matrix with at least one subject", field="genotypes")
        counts = np.stack([(G == g).sum(axis=0) for g in (0, 1, 2)], axis=1).astype(np.float64)
        called = counts.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            freq = np.where(called > 0, counts / np.maximum(called, 1), 1.0 / 3.0)
        self.frequencies_ = freq
        self.n_subjects_seen_ = int(G.shape[0])
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "frequencies_")
        G = _genotype_classes(X)
        if G.shape[1] != self.frequencies_.shape[0]:
            raise DataError(
                f"expected {self.frequencies_.shape[0]} SNP columns, got {G.shape[1]}",
                field="genotypes",
                fix="transform the same variants the encoder was fitted on",
            )
        out = np.empty(G.shape, dtype=np.float32)
        missing_value = (self.frequencies_**2).sum(axis=1)
        for g in (0, 1, 2):
            mask = G == g
            out[mask] = np.broadcast_to(self.frequencies_[:, g], G.shape)[mask]
        nan = ~np.isfinite(G)
        out[nan] = np.broadcast_to(missing_value, G.shape)[nan]
        return out


class AdditiveEncoder(BaseEstimator, TransformerMixin):
    """Allele counts as they are, missing values replaced by the training mean."""

    def fit(self, X: np.ndarray, y: object = None) -> "AdditiveEncoder":
        G = np.asarray(X, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(G, axis=0) if G.shape[0] else np.zeros(G.shape[1])
        self.means_ = np.where(np.isfinite(mean), mean, 0.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "means_")
        G = np.array(X, dtype=np.float32)
        nan = ~np.isfinite(G)
        G[nan] = np.broadcast_to(self.means_.astype(np.float32), G.shape)[nan]
        return G


class OneHotEncoder(BaseEstimator, TransformerMixin):
    """Three indicator columns per SNP (genotype classes 0, 1, 2 of the counted allele).

    Output column ``3·j + g`` is 1 when SNP j has genotype g. A missing
    genotype becomes the training genotype frequencies (f_j0, f_j1, f_j2) —
    the expected indicator vector — so no subject's row is dropped.

    Attributes
    ----------
    frequencies_ : ndarray of shape (n_snps, 3)
        Genotype frequencies among the fitting (training) subjects.
    """

    def fit(self, X: np.ndarray, y: object = None) -> "OneHotEncoder":
        self.frequencies_ = PopulationFrequencyEncoder().fit(X).frequencies_
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "frequencies_")
        G = _genotype_classes(X)
        if G.ndim != 2 or G.shape[1] != self.frequencies_.shape[0]:
            raise DataError(f"expected {self.frequencies_.shape[0]} SNP columns, got {G.shape[-1]}",
                            field="genotypes", fix="transform the same variants the encoder was fitted on")
        out = np.stack([(G == g).astype(np.float32) for g in (0, 1, 2)], axis=2)
        nan = ~np.isfinite(G)
        out[nan] = np.broadcast_to(self.frequencies_[None, :, :], out.shape)[nan]
        return out.reshape(G.shape[0], -1)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "frequencies_")
        names = input_features if input_features is not None else [f"x{j}" for j in range(len(self.frequencies_))]
        return np.array([f"{name}_{g}" for name in names for g in (0, 1, 2)], dtype=object)


class StandardisedEncoder(BaseEstimator, TransformerMixin):
    """(g − mean_j) / sd_j with the training mean and standard deviation of each SNP.

    Missing genotypes become 0 (the training mean). ``sd_j`` is the population
    standard deviation (ddof = 0) of the called training genotypes; a SNP that
    is monomorphic in training (sd = 0) is encoded as 0.

    Attributes
    ----------
    means_, scales_ : ndarray of shape (n_snps,)
        Training mean and standard deviation.
    """

    def fit(self, X: np.ndarray, y: object = None) -> "StandardisedEncoder":
        G = np.asarray(X, dtype=np.float64)
        if G.ndim != 2 or G.shape[0] == 0:
            raise DataError("need a 2-D genotype matrix with at least one subject", field="genotypes")
        with warnings.catch_warnings():  # all-missing SNPs: nanmean warns, gives NaN -> 0 below
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(G, axis=0)
            sd = np.nanstd(G, axis=0)
        self.means_ = np.where(np.isfinite(mean), mean, 0.0)
        self.scales_ = np.where(np.isfinite(sd), sd, 0.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "means_")
        G = np.asarray(X, dtype=np.float64)
        if G.ndim != 2 or G.shape[1] != self.means_.shape[0]:
            raise DataError(f"expected {self.means_.shape[0]} SNP columns, got {G.shape[-1]}",
                            field="genotypes", fix="transform the same variants the encoder was fitted on")
        with np.errstate(invalid="ignore", divide="ignore"):
            Z = np.where(self.scales_ > 0, (G - self.means_) / np.where(self.scales_ > 0, self.scales_, 1.0), 0.0)
        Z[~np.isfinite(G)] = 0.0
        return Z.astype(np.float32)
