"""Turn a cohort and one subject-wise fold into model inputs.

Every fitted transform (SNP encoding, volume and age scaling, education
scaling) sees the fold's training subjects only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from alignome.cohort.model import Cohort
from alignome.cohort.splits import SubjectFold
from alignome.genetics.encoding import PopulationFrequencyEncoder


@dataclass
class FittedTransforms:
    """Transforms fitted on one fold's training subjects."""

    snp_encoder: PopulationFrequencyEncoder | None  # None: a cohort without genotypes
    volume_scaler: StandardScaler
    age_mean: float
    age_std: float
    education_mean: float
    education_std: float
    train_subjects: frozenset[str]


@dataclass
class ModalityInputs:
    """Encoded inputs for a set of rows (scans or final visits)."""

    subject: np.ndarray
    snp: np.ndarray
    age: np.ndarray
    volumes: np.ndarray
    has_snp: np.ndarray
    has_mri: np.ndarray


@dataclass
class FoldInputs:
    """Everything one outer fold needs."""

    transforms: FittedTransforms
    pretrain: ModalityInputs
    final: pd.DataFrame
    final_inputs: ModalityInputs
    demographics: np.ndarray
    raw_features: np.ndarray
    raw_feature_names: list[str]
    embed_scans: pd.DataFrame
    embed_inputs: ModalityInputs


def _genotype_rows(cohort: Cohort, subjects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Genotype matrix rows for ``subjects`` (NaN rows where absent) and a presence mask."""
    G = cohort.genotypes.reindex(pd.Index(subjects.astype(str)))
    values = G.to_numpy(dtype=np.float32)
    present = np.isfinite(values).any(axis=1)
    return values, present


def fit_transforms(cohort: Cohort, pairs: pd.DataFrame, fold: SubjectFold) -> FittedTransforms:
    """Fit every data-dependent transform on the fold's training subjects only."""
    train = frozenset(fold.train)
    geno_subjects = np.array([s for s in cohort.genotypes.index.astype(str) if s in train])
    G, present = _genotype_rows(cohort, geno_subjects)
    snp_encoder = PopulationFrequencyEncoder().fit(G[present]) if cohort.genotypes.shape[1] else None
    train_scans = cohort.scans[cohort.scans["subject"].astype(str).isin(train)]
    volume_scaler = StandardScaler().fit(train_scans[cohort.regions].to_numpy(dtype=np.float64))
    ages = train_scans["age"].to_numpy(dtype=np.float64)
    edu = cohort.subjects.loc[cohort.subjects.index.astype(str).isin(train), "education"].astype(float)
    return FittedTransforms(
        snp_encoder=snp_encoder,
        volume_scaler=volume_scaler,
        age_mean=float(ages.mean()),
        age_std=float(ages.std() or 1.0),
        education_mean=float(edu.mean()) if edu.notna().any() else 0.0,
        education_std=float(edu.std()) if edu.notna().sum() > 1 and edu.std() > 0 else 1.0,
        train_subjects=train,
    )


def encode_rows(cohort: Cohort, tf: FittedTransforms, subjects: np.ndarray, ages: np.ndarray, scan_rows: np.ndarray) -> ModalityInputs:
    """Encode genotypes, age and volumes of rows given by subject, age and scan row (−1: no scan)."""
    G, has_snp = _genotype_rows(cohort, subjects)
    snp = np.zeros(G.shape, dtype=np.float32)
    if has_snp.any():
        snp[has_snp] = tf.snp_encoder.transform(G[has_snp])
    has_mri = scan_rows >= 0
    vol = np.zeros((len(subjects), len(cohort.regions)), dtype=np.float32)
    if has_mri.any():
        raw = cohort.scans.iloc[scan_rows[has_mri]][cohort.regions].to_numpy(dtype=np.float64)
        vol[has_mri] = tf.volume_scaler.transform(raw).astype(np.float32)
    age = ((np.asarray(ages, dtype=np.float64) - tf.age_mean) / tf.age_std).astype(np.float32)
    return ModalityInputs(np.asarray(subjects).astype(str), snp, age, vol, has_snp, has_mri)


def demographics(cohort: Cohort, tf: FittedTransforms, subjects: np.ndarray) -> np.ndarray:
    """[sex (0/1), education z-scored with training statistics]; unknown values → training mean."""
    info = cohort.subjects.reindex(pd.Index(subjects.astype(str)))
    sex = info["sex"].astype(float).fillna(0.5).to_numpy()
    edu = info["education"].astype(float).fillna(tf.education_mean).to_numpy()
    return np.column_stack([sex, (edu - tf.education_mean) / tf.education_std]).astype(np.float32)


def raw_features(cohort: Cohort, subjects: np.ndarray, ages: np.ndarray, scan_rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Concatenated raw features for classical baselines: volumes, allele counts, age, sex, education.

    Missing values stay NaN; the baseline's own imputer is fitted on training rows.
    """
    vol = np.full((len(subjects), len(cohort.regions)), np.nan)
    has = scan_rows >= 0
    vol[has] = cohort.scans.iloc[scan_rows[has]][cohort.regions].to_numpy(dtype=np.float64)
    G, _ = _genotype_rows(cohort, subjects)
    info = cohort.subjects.reindex(pd.Index(subjects.astype(str)))
    demo = np.column_stack([ages, info["sex"].astype(float), info["education"].astype(float)])
    names = list(cohort.regions) + list(cohort.genotypes.columns.astype(str)) + ["age", "sex", "education"]
    return np.column_stack([vol, G, demo]), names


def prepare_fold(cohort: Cohort, pairs: pd.DataFrame, final: pd.DataFrame, fold: SubjectFold) -> FoldInputs:
    """Fit transforms on the training subjects and encode pretraining, final-visit and embedding rows."""
    tf = fit_transforms(cohort, pairs, fold)
    train_pairs = pairs[pairs["subject"].astype(str).isin(tf.train_subjects)]
    pre = encode_rows(
        cohort, tf, train_pairs["subject"].to_numpy(), train_pairs["age"].to_numpy(), train_pairs["scan_row"].to_numpy()
    )
    keep = pre.has_snp & pre.has_mri
    pre = ModalityInputs(*(getattr(pre, f)[keep] for f in ModalityInputs.__dataclass_fields__))

    final = final.copy()
    final["split"] = np.where(final["subject"].astype(str).isin(tf.train_subjects), "train", "test")
    subj = final["subject"].astype(str).to_numpy()
    fin = encode_rows(cohort, tf, subj, final["age"].to_numpy(), final["scan_row"].to_numpy().astype(int))
    demo = demographics(cohort, tf, subj)
    raw, raw_names = raw_features(cohort, subj, final["age"].to_numpy(dtype=float), final["scan_row"].to_numpy().astype(int))

    test_set = set(fold.test)
    embed_scans = pairs[pairs["subject"].astype(str).isin(test_set)].copy()
    emb = encode_rows(
        cohort, tf, embed_scans["subject"].astype(str).to_numpy(), embed_scans["age"].to_numpy(), embed_scans["scan_row"].to_numpy()
    )
    return FoldInputs(tf, pre, final, fin, demo, raw, raw_names, embed_scans, emb)


@dataclass(frozen=True)
class TaskRows:
    """One task's rows of a prepared ``final`` table: training and test masks, each row's class index (−1: not in the task)."""

    train: np.ndarray
    test: np.ndarray
    y: np.ndarray
    n_classes: int

    @property
    def every_class_on_both_sides(self) -> bool:
        """Whether the training and the test rows each hold every class of the task."""
        return all(len(np.unique(self.y[side])) == self.n_classes for side in (self.train, self.test))


def task_rows(final: pd.DataFrame, classes: Sequence[str]) -> TaskRows:
    """The rows of ``final`` (with the ``split`` column :func:`prepare_fold` writes) whose diagnosis is in ``classes``."""
    y = final["diagnosis"].map({c: i for i, c in enumerate(classes)}).fillna(-1).to_numpy(dtype=int)
    in_task = y >= 0
    split = final["split"].to_numpy()
    return TaskRows(in_task & (split == "train"), in_task & (split == "test"), y, len(classes))
