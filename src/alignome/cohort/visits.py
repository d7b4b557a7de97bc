"""Clinical visits -> per-assessment table and per-subject demographics."""

from __future__ import annotations

import pandas as pd

from alignome.cohort.ages import resolve_ages
from alignome.cohort.model import DropRecord
from alignome.cohort.ranges import MMSE_POINTS, missing_outside
from alignome.io.tables import Table, numeric, read_table
from alignome.cohort.sources import VisitsSource
from alignome.errors import DataError

_REQUIRED = ["subject"]
_OPTIONAL = ["age", "date", "baseline_age", "diagnosis", "mmse", "sex", "education"]


def _map_labels(table: Table, frame: pd.DataFrame, diagnosis_map: dict[str, list[str]]) -> pd.Series:
    lookup = {str(label).strip(): klass for klass, labels in diagnosis_map.items() for label in labels}
    text = pd.Series([None if pd.isna(v) else str(v).strip() or None for v in frame["diagnosis"]],
                     index=frame.index, dtype=object)
    mapped = pd.Series([None if v is None else lookup.get(v, "?") for v in text], index=frame.index, dtype=object)
    unknown = (mapped == "?").to_numpy()
    if unknown.any():
        label = text.index[unknown.nonzero()[0][0]]
        others = sorted(set(text[unknown]))
        raise DataError(
            f"unknown diagnosis label '{text[label]}' (unknown labels: {others[:10]})",
            file=table.path,
            field=table.user("diagnosis"),
            row=int(label) + 1,
            fix=f"add it to `diagnosis_map` in the recipe's data section under CN, MCI or AD, e.g."
            f" `diagnosis_map: {{MCI: [MCI, EMCI, LMCI, '{text[label]}']}}` (the map replaces the default: list every label)",
        )
    return mapped


def _map_sex(table: Table, frame: pd.DataFrame, sex_map: dict[str, int]) -> pd.Series:
    lookup = {str(k).strip(): float(v) for k, v in sex_map.items()}
    out = pd.Series(float("nan"), index=frame.index)
    for label, value in frame["sex"].items():
        if pd.isna(value):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        if not text:
            continue
        if text not in lookup:
            raise DataError(
                f"unknown sex value '{text}'",
                file=table.path,
                field=table.user("sex"),
                row=int(label) + 1,
                fix=f"add it to `sex_map` under visits in the recipe's data section (0 female, 1 male), e.g. `sex_map: {{'{text}': 0}}`",
            )
        out[label] = lookup[text]
    return out


def _subjects(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Per-subject sex and education: each subject's first non-missing value."""
    order = frame.sort_values(["subject", "age"], kind="stable")
    spread = order.groupby("subject")["sex"].agg(["min", "max"])
    differs = spread.index[(spread["min"] != spread["max"]) & spread["min"].notna()]
    if len(differs):
        subject = differs[0]
        rows = [int(i) + 1 for i in order.index[order["subject"] == subject]]
        raise DataError(
            f"subject {subject} has different sex values across rows {rows[:6]}",
            file=table.path,
            field=table.user("sex"),
            fix="correct the sex column so that each subject has one value",
        )
    subjects = order.groupby("subject").agg(sex=("sex", "first"), education=("education", "first"))
    subjects.index = subjects.index.astype(object)
    subjects.index.name = "subject"
    return subjects.astype(float)


def read_visits(
    source: VisitsSource, diagnosis_map: dict[str, list[str]], drops: list[DropRecord]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the visits table.

    Parameters
    ----------
    source
        The recipe's ``data.visits``.
    diagnosis_map
        alignome class (CN/MCI/AD) -> the user's labels.
    drops
        Rows dropped are recorded here.

    Returns
    -------
    assessments, subjects
        As documented in :class:`alignome.cohort.model.Cohort`.
    """
    table = read_table(source.path, "visits", source.columns, _REQUIRED, _OPTIONAL)
    frame = resolve_ages(table, "visit", drops)
    empty = pd.Series(float("nan"), index=frame.index)
    no_labels = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    full = pd.DataFrame(
        {
            "subject": frame["subject"],
            "age": frame["age"],
            "diagnosis": _map_labels(table, frame, diagnosis_map) if table.has("diagnosis") else no_labels,
            "mmse": missing_outside(table, numeric(table, "mmse", frame), "mmse", MMSE_POINTS, drops)
            if table.has("mmse") else empty,
            "sex": _map_sex(table, frame, source.sex_map) if table.has("sex") else empty,
            "education": numeric(table, "education", frame) if table.has("education") else empty,
        }
    )
    subjects = _subjects(table, full)
    assessments = full[["subject", "age", "diagnosis", "mmse"]].sort_values(["subject", "age"], kind="stable")
    return assessments.reset_index(drop=True), subjects
