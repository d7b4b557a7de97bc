"""Pairs of two imaging modalities of one subject, closest in days (paper 001).

Pretraining uses every pair in which one image is the other's closest image of the
other modality (both directions, duplicates once): a subject with T1 on days 0, 700 and
fALFF on days 5, 690 gives the pairs (0, 5) and (700, 690). Evaluation uses one pair per
subject. Subjects with a single modality give no pair; they are counted in the log.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from alignome.errors import DataError

log = logging.getLogger(__name__)

NEEDED = ("subject", "days", "modality")


def _check(manifest: pd.DataFrame, modalities: tuple[str, str]) -> None:
    missing = [c for c in NEEDED if c not in manifest.columns]
    if missing:
        raise DataError(f"the manifest lacks column(s) {', '.join(missing)}", field=missing[0],
                        fix="give one row per image with subject, days (since any fixed day of the subject) "
                            "and modality")
    if len(set(modalities)) != 2:
        raise DataError(f"pairing needs two different modalities, got {modalities!r}", field="modality",
                        fix="e.g. modalities=('T1w', 'fALFF')")
    days = pd.to_numeric(manifest["days"], errors="coerce")
    if days.isna().any():
        row = int(np.flatnonzero(days.isna().to_numpy())[0])
        raise DataError(f"days {manifest['days'].iloc[row]!r} is not a number", field="days", row=row + 2,
                        fix="write whole or fractional days since a fixed day of the subject")


def _nearest(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    """For each row of ``left`` the row of ``right`` of the same subject closest in days (earlier on ties)."""
    a = left.sort_values("days", kind="stable")
    b = right.sort_values("days", kind="stable").rename(columns={"days": "days_other", "row": "row_other"})
    merged = pd.merge_asof(a, b[["subject", "days_other", "row_other"]], left_on="days", right_on="days_other",
                           by="subject", direction="nearest")
    return merged.dropna(subset=["row_other"])


def pair_modalities(manifest: pd.DataFrame, modalities: tuple[str, str] = ("T1w", "fALFF"),
                    max_gap_days: float | None = None) -> pd.DataFrame:
    """Every pair of the two modalities closest in days, per subject (the pretraining pairs).

    Parameters
    ----------
    manifest
        One row per image with ``subject``, ``days`` and ``modality``; rows of other
        modalities are ignored.
    modalities
        The two modalities, first and second.
    max_gap_days
        Pairs further apart are dropped (counted in the log); ``None`` keeps all.

    Returns
    -------
    pandas.DataFrame
        ``subject``, ``row_a`` and ``row_b`` (index labels of the two images in
        ``manifest``), ``days_a``, ``days_b``, ``gap_days`` (absolute), and the manifest's
        ``diagnosis`` of the first modality's image when it has that column; sorted by
        subject, then ``days_a``, ``days_b``.
    """
    _check(manifest, modalities)
    work = pd.DataFrame({"subject": manifest["subject"].astype(str).to_numpy(),
                         "days": pd.to_numeric(manifest["days"]).to_numpy(float),
                         "row": np.asarray(manifest.index), "modality": manifest["modality"].astype(str).to_numpy()})
    first, second = (work[work["modality"] == m].drop(columns="modality") for m in modalities)
    ab = _nearest(first, second).rename(columns={"row": "row_a", "row_other": "row_b"})
    ba = _nearest(second, first).rename(columns={"row": "row_b", "row_other": "row_a"})
    pairs = pd.concat([ab[["subject", "row_a", "row_b"]], ba[["subject", "row_a", "row_b"]]], ignore_index=True)
    pairs = pairs.drop_duplicates(["row_a", "row_b"]).reset_index(drop=True)
    days = pd.Series(work["days"].to_numpy(), index=work["row"].to_numpy())
    pairs["days_a"] = days.loc[pairs["row_a"]].to_numpy()
    pairs["days_b"] = days.loc[pairs["row_b"]].to_numpy()
    pairs["gap_days"] = (pairs["days_a"] - pairs["days_b"]).abs()
    single = set(work.loc[work["modality"].isin(modalities), "subject"]) - set(pairs["subject"])
    if single:
        log.info("%d subject(s) have images of only one of %s and give no pair", len(single), " and ".join(modalities))
    if max_gap_days is not None:
        far = pairs["gap_days"] > max_gap_days
        if far.any():
            log.info("dropped %d pair(s) more than %g days apart", int(far.sum()), max_gap_days)
        pairs = pairs[~far]
    if "diagnosis" in manifest.columns:
        pairs["diagnosis"] = manifest.loc[pairs["row_a"], "diagnosis"].to_numpy()
    return pairs.sort_values(["subject", "days_a", "days_b"], kind="stable").reset_index(drop=True)


def evaluation_pairs(pairs: pd.DataFrame) -> pd.DataFrame:
    """One pair per subject for evaluation: its latest (largest ``days_a``, then the smaller gap)."""
    ordered = pairs.sort_values(["subject", "days_a", "gap_days"], ascending=[True, True, False], kind="stable")
    return ordered.groupby("subject", sort=True).tail(1).reset_index(drop=True)
