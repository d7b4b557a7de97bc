"""NIfTI cohorts: a manifest table or a BIDS-like folder -> a validated scan table.

Every file is opened and checked (:func:`alignome.io.nifti_check.check_nifti`)
in parallel; a row whose file is unusable is dropped and recorded in
``ImageCohort.drops`` with its reason, so nothing is lost silently. The scan
table has one row per usable scan, sorted by subject then visit, with a
``RangeIndex``: row ``i`` is volume ``i`` and embedding row ``i``.

BIDS-like folder layout read by :func:`read_bids_folder`::

    root/participants.tsv                      participant_id, [age], [diagnosis], [sex, ...]
    root/sub-<s>/sub-<s>_sessions.tsv          session_id, [age], [acq_time], [diagnosis]
    root/sub-<s>/ses-<t>/anat/sub-<s>_ses-<t>[_...]_<modality>.nii[.gz]

Age of a session: the ``age`` column of the subject's sessions file; else its
``acq_time`` (ISO date) plus the participant's ``age`` in participants.tsv,
taken as the age at the subject's first session; else, for a subject with a
single session, the participant's ``age``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed

from alignome.cohort.ages import _ages_from_dates, row_ages
from alignome.cohort.model import DropRecord
from alignome.io.nifti_check import check_nifti, reason_category
from alignome.io.tables import Table, as_id, read_raw, read_table
from alignome.cohort.visits import _map_labels
from alignome.diagnoses import default_diagnosis_map
from alignome.errors import DataError

log = logging.getLogger(__name__)

SCAN_COLUMNS = ["scan_id", "subject", "session", "age", "visit", "path", "modality", "diagnosis"]
_REQUIRED = ["subject", "path"]
_OPTIONAL = ["session", "age", "date", "baseline_age", "modality", "diagnosis", "sex"]
_EXAMPLES = 3


@dataclass
class ImageCohort:
    """A validated cohort of 3D scans.

    Attributes
    ----------
    scans
        One row per usable scan: ``scan_id`` (``f"{subject}_{session}"``),
        ``subject``, ``session``, ``age`` (years), ``visit`` (0-based order
        within the subject by age, then session), ``path`` (absolute),
        ``modality``, ``diagnosis`` (CN/MCI/AD or missing) and any covariate
        columns of the input. Sorted by subject, then visit; ``RangeIndex``.
    drops
        Every input row not used, grouped by reason, with counts.
    single_visit_subjects
        Subjects with a single usable scan: kept in ``scans`` (for evaluation)
        but without a positive pair for longitudinal training.
    truth
        Simulated ground truth aligned to ``scans`` (row ``i`` is scan ``i``),
        when given.
    """

    scans: pd.DataFrame
    drops: list[DropRecord] = field(default_factory=list)
    single_visit_subjects: list[str] = field(default_factory=list)
    truth: pd.DataFrame | None = None


# ----------------------------------------------------------------------------- readers


def read_image_manifest(
    path: str | Path,
    columns: dict[str, str] | None = None,
    modality: str | None = "T1w",
    diagnosis_map: dict[str, list[str]] | None = None,
    jobs: int = 2,
    truth: str | Path | None = None,
) -> ImageCohort:
    """Read a scan manifest (CSV/TSV/Parquet) and validate every NIfTI it names.

    Parameters
    ----------
    path
        The manifest. Needed columns: ``subject``, ``path`` (relative paths
        are relative to the manifest's folder) and ``age`` (years) or
        ``date`` (YYYY-MM-DD) + ``baseline_age`` (age at the subject's first
        date). Optional: ``session`` (default: the visit order, ``"00"``,
        ``"01"``, ...), ``modality``, ``diagnosis``; other columns are kept as
        covariates (numeric when every value is a number).
    columns
        alignome name -> your column name, for columns named differently.
    modality
        Keep rows of this modality (case-insensitive) when the manifest has a
        ``modality`` column; ``None`` keeps every row.
    diagnosis_map
        alignome class (CN/MCI/AD) -> your labels; default as in recipes.
    jobs
        Threads used to check the files.
    truth
        A simulated cohort's ground-truth table (with ``scan_id``).

    Returns
    -------
    ImageCohort

    Raises
    ------
    DataError
        Missing columns, unknown diagnosis labels, duplicated
        (subject, session) rows, or no usable row at all.
    """
    path = Path(path)
    table = read_table(
        path, "manifest", dict(columns or {}), _REQUIRED, _OPTIONAL,
        id_columns=("subject", "session", "path", "modality"),
    )
    cohort = _assemble(table, f"manifest ({path.name})", path.parent, modality, diagnosis_map, jobs)
    if truth is not None:
        cohort.truth = _read_truth(Path(truth), cohort.scans)
    return cohort


def read_bids_folder(
    root: str | Path,
    modality: str = "T1w",
    jobs: int = 2,
    diagnosis_map: dict[str, list[str]] | None = None,
) -> ImageCohort:
    """Read a BIDS-like folder of NIfTI scans (layout in the module docstring).

    Parameters
    ----------
    root
        The folder holding ``sub-*/ses-*/anat/*_<modality>.nii[.gz]``.
    modality
        The file-name suffix of the scans to read (``T1w``, ``T2w``, ...).
    jobs
        Threads used to check the files.
    diagnosis_map
        alignome class -> your labels; default as in recipes.

    Returns
    -------
    ImageCohort
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError("folder not found", file=root, fix="give the folder that holds the sub-*/ses-*/anat/ folders")
    found = sorted(
        p for p in root.glob(f"sub-*/ses-*/anat/*_{modality}.nii*") if p.name.endswith((".nii", ".nii.gz"))
    )
    if not found:
        others = sorted({p.name.split("_")[-1].split(".")[0] for p in root.glob("sub-*/ses-*/anat/*.nii*")})
        raise DataError(
            f"no sub-*/ses-*/anat/*_{modality}.nii[.gz] file"
            + (f"; modalities present: {others}" if others else ""),
            file=root,
            field="modality",
            fix="give the BIDS root folder and the modality suffix of the file names (e.g. T1w)"
            + ("" if others else "; a folder without ses-* levels is not read: write a manifest instead"),
        )
    rows = [{"subject": p.parts[-4], "session": p.parts[-3], "path": str(p), "modality": modality} for p in found]
    frame = pd.DataFrame(rows)
    source = f"BIDS folder ({root.name})"
    drops: list[DropRecord] = []
    extra = frame.duplicated(["subject", "session"], keep="first")
    if extra.any():
        names = [Path(p).name for p in frame.loc[extra, "path"]]
        drops.append(DropRecord(source, int(extra.sum()),
                                f"additional file(s) in the same session, kept the first by name: {_list(names)}"))
        frame = frame[~extra].reset_index(drop=True)
    frame = _bids_tables(root, frame)
    table = Table(frame=frame, path=root, section="bids", names={})
    return _assemble(table, source, root, modality, diagnosis_map, jobs, drops)


# ----------------------------------------------------------------------------- BIDS tables


def _read_tsv(path: Path, section: str, key: str) -> pd.DataFrame:
    frame = read_raw(path, section)
    if key not in frame.columns:
        raise DataError(f"missing column '{key}'; available columns: {list(frame.columns)}", file=path, field=key,
                        fix=f"the first column of a BIDS {path.name.split('_')[-1]} file is '{key}'")
    frame[key] = as_id(frame[key])
    return frame


def _bids_tables(root: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """Attach age, diagnosis and covariates from participants.tsv and sessions files."""
    people_file = root / "participants.tsv"
    people = (_read_tsv(people_file, "participants", "participant_id").set_index("participant_id")
              if people_file.is_file() else pd.DataFrame(index=pd.Index([], name="participant_id")))
    people = people[~people.index.duplicated()]
    sessions = []
    for subject in frame["subject"].unique():
        file = root / subject / f"{subject}_sessions.tsv"
        if file.is_file():
            sessions.append(_read_tsv(file, "sessions", "session_id").assign(subject=subject))
    visits = (pd.concat(sessions, ignore_index=True).rename(columns={"session_id": "session"})
              if sessions else pd.DataFrame(columns=["subject", "session"]))
    visits = visits.drop_duplicates(["subject", "session"])
    out = frame.merge(visits, on=["subject", "session"], how="left")
    person = people.reindex(out["subject"])
    session_age = pd.to_numeric(out.get("age"), errors="coerce") if "age" in out else None
    base_age = pd.to_numeric(person["age"], errors="coerce").to_numpy() if "age" in person else None
    age = pd.Series(float("nan"), index=out.index) if session_age is None else session_age.astype(float)
    if "acq_time" in out and base_age is not None:
        dated = Table(
            frame=pd.DataFrame({"subject": out["subject"], "date": [None if pd.isna(v) else str(v)[:10] for v in out["acq_time"]],
                                "baseline_age": base_age}, index=out.index),
            path=root, section="bids", names={"date": "acq_time (sessions.tsv)", "baseline_age": "age (participants.tsv)"},
        )
        age = age.fillna(_ages_from_dates(dated))
    if base_age is not None:
        single = out.groupby("subject")["session"].transform("size") == 1
        age = age.where(~(age.isna() & single), pd.Series(base_age, index=out.index))
    if age.isna().all():
        raise DataError(
            "no age for any scan",
            file=root,
            field="age",
            fix="add an 'age' column (years at the session) to sub-<label>/sub-<label>_sessions.tsv, or an 'acq_time'"
            " column there (YYYY-MM-DD) plus 'age' (years at the first session) in participants.tsv",
        )
    out["age"] = age
    if "diagnosis" not in out and "diagnosis" in person:
        out["diagnosis"] = person["diagnosis"].to_numpy()
    for column in person.columns:
        if column not in ("age", "diagnosis") and column not in out:
            out[column] = person[column].to_numpy()
    return out.drop(columns=[c for c in ("acq_time",) if c in out])


# ----------------------------------------------------------------------------- assembly


def _list(names: list[str]) -> str:
    shown = ", ".join(names[:_EXAMPLES])
    return shown + (f" and {len(names) - _EXAMPLES} more" if len(names) > _EXAMPLES else "")


def _row(label: object) -> int:
    return int(label) + 1  # type: ignore[call-overload]


def _ages(table: Table, frame: pd.DataFrame) -> pd.Series:
    """Float ages of ``frame``'s rows from ``age`` or ``date`` + ``baseline_age``."""
    return row_ages(replace(table, frame=frame))


def _where(table: Table, frame: pd.DataFrame, label: object) -> str:
    """A row for messages: its file name in a BIDS folder, its line in a manifest (header = line 1)."""
    if table.section == "bids":
        return Path(str(frame.at[label, "path"])).name
    return f"row {_row(label)}"


def _drop(table: Table, frame: pd.DataFrame, bad: pd.Series, drops: list[DropRecord], source: str,
          reason: str) -> pd.DataFrame:
    if bad.any():
        where = [_where(table, frame, i) for i in frame.index[bad.to_numpy()]]
        drops.append(DropRecord(source, int(bad.sum()), f"{reason} ({_list(where)})"))
    return frame[~bad.to_numpy()]


def _select_modality(table: Table, modality: str | None, drops: list[DropRecord], source: str) -> pd.DataFrame:
    frame = table.frame
    if not table.has("modality"):
        return frame.assign(modality=modality or "unknown")
    if modality is None:
        return frame.assign(modality=frame["modality"].fillna("unknown"))
    keep = frame["modality"].fillna("").str.lower() == modality.lower()
    if not keep.any():
        present = sorted(set(frame["modality"].dropna()))
        raise DataError(
            f"no row has modality '{modality}'; modalities present: {present[:10]}",
            file=table.path, field=table.user("modality"),
            fix="choose one of the modalities present (the `modality` option), or None to keep every row",
        )
    others = sorted(set(frame.loc[~keep, "modality"].fillna("(empty)")))
    frame = _drop(table, frame, ~keep, drops, source, f"modality other than {modality} ({_list(others)})")
    return frame.assign(modality=modality)


def _check_files(paths: list[str], jobs: int) -> dict[str, str | None]:
    unique = list(dict.fromkeys(paths))
    n_jobs = max(1, min(int(jobs), len(unique)))
    if n_jobs == 1:
        results = [check_nifti(p) for p in unique]
    else:
        # threads: reading is gzip + numpy work that releases the GIL, and no worker process
        # is left holding only nibabel when the preprocessing workers later need torch/MONAI
        results = Parallel(n_jobs=n_jobs, prefer="threads")(delayed(check_nifti)(p) for p in unique)
    return dict(zip(unique, results))


def _file_drops(table: Table, frame: pd.DataFrame, reasons: pd.Series, source: str) -> list[DropRecord]:
    bad = reasons.dropna()
    records = []
    categories = bad.map(reason_category)
    for category, count in categories.value_counts(sort=True).items():
        which = bad[categories == category]
        examples = [_where(table, frame, i) for i in which.index]
        if table.section != "bids":
            examples = [f"{Path(frame.at[i, 'path']).name} ({e})" for i, e in zip(which.index, examples)]
        detail = str(which.iloc[0])[len(str(category)) + 2: -1]
        first = f"; first: {detail}" if detail else ""
        records.append(DropRecord(source, int(count), f"{category}: {_list(examples)}{first}"))
    return records


def _covariates(frame: pd.DataFrame) -> pd.DataFrame:
    for column in frame.columns:
        if column in SCAN_COLUMNS:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        if (values.notna() == frame[column].notna()).all():
            frame[column] = values.astype(float)
    return frame


def _assemble(
    table: Table,
    source: str,
    base: Path,
    modality: str | None,
    diagnosis_map: dict[str, list[str]] | None,
    jobs: int,
    drops: list[DropRecord] | None = None,
) -> ImageCohort:
    """Turn a table of scans (alignome column names) into a validated ImageCohort."""
    drops = list(drops or [])
    n_rows = len(table.frame)
    frame = _select_modality(table, modality, drops, source)
    frame = _drop(table, frame, frame["subject"].isna(), drops, source, "no subject")
    frame = _drop(table, frame, frame["path"].isna(), drops, source, "no file path")
    frame = frame.assign(age=_ages(table, frame).astype(float)).drop(
        columns=[c for c in ("date", "baseline_age") if c in frame.columns])
    frame = _drop(table, frame, frame["age"].isna(), drops, source, "no age")
    if "session" in frame.columns:
        frame = _drop(table, frame, frame["session"].isna(), drops, source, "no session")
    else:
        order = frame.assign(_row=range(len(frame))).sort_values(["subject", "age", "_row"], kind="stable")
        frame = frame.assign(session=order.groupby("subject").cumcount().map("{:02d}".format).reindex(frame.index))
    dup = frame.duplicated(["subject", "session"], keep=False)
    if dup.any():
        first = frame[dup].iloc[0]
        same = frame.index[dup & (frame["subject"] == first["subject"]) & (frame["session"] == first["session"])]
        rows = [_row(i) for i in same]
        raise DataError(
            f"duplicated scan: subject {first['subject']} session {first['session']} appears in rows {rows}",
            file=table.path, field=table.user("session"), row=", ".join(map(str, rows)),
            fix="keep one row per subject and session (or give each scan its own session label)",
        )
    if table.has("diagnosis"):
        frame = frame.assign(diagnosis=_map_labels(table, frame, diagnosis_map or default_diagnosis_map()))
    else:
        frame = frame.assign(diagnosis=None)
    frame = frame.assign(path=[
        os.path.abspath(p if os.path.isabs(p) else base / p) for p in (os.path.expanduser(x) for x in frame["path"])
    ])
    verdicts = _check_files(list(frame["path"]), jobs) if len(frame) else {}
    reasons = frame["path"].map(verdicts)
    file_drops = _file_drops(table, frame, reasons, source)
    for record in file_drops:
        log.warning("%s", record)
    drops.extend(file_drops)
    frame = frame[reasons.isna().to_numpy()]
    if frame.empty:
        commonest = max(file_drops, key=lambda r: r.count) if file_drops else (
            max(drops, key=lambda r: r.count) if drops else None)
        raise DataError(
            f"no usable scan among {n_rows} row(s)"
            + (f"; commonest reason ({commonest.count} row(s)): {commonest.reason}" if commonest else ""),
            file=table.path,
            fix="check the file paths (relative paths are relative to the manifest's folder) and the files themselves",
        )
    frame = frame.assign(scan_id=frame["subject"].astype(str) + "_" + frame["session"].astype(str))
    if frame["scan_id"].duplicated().any():
        clash = frame.loc[frame["scan_id"].duplicated(keep=False), "scan_id"].iloc[0]
        raise DataError(f"two scans get the same scan_id '{clash}' (subject + '_' + session)", file=table.path,
                        fix="use subject or session labels that do not join into the same text")
    frame = frame.sort_values(["subject", "age", "session"], kind="stable")
    frame = frame.assign(visit=frame.groupby("subject").cumcount().astype(int))
    others = [c for c in frame.columns if c not in SCAN_COLUMNS]
    scans = _covariates(frame[SCAN_COLUMNS + others].reset_index(drop=True))
    counts = scans["subject"].value_counts()
    single = sorted(counts.index[counts == 1].astype(str))
    if single:
        log.info("%d subject(s) with a single usable scan (kept for evaluation, no positive pair): %s",
                 len(single), _list(single))
    return ImageCohort(scans=scans, drops=drops, single_visit_subjects=single)


def _read_truth(path: Path, scans: pd.DataFrame) -> pd.DataFrame:
    """The ground-truth table aligned to ``scans`` (row i is scan i)."""
    frame = read_raw(path, "truth")
    if "scan_id" not in frame.columns:
        raise DataError(f"missing column 'scan_id'; available columns: {list(frame.columns)}", file=path,
                        field="scan_id", fix="give the truth.csv written by `alignome simulate mri3d`")
    frame["scan_id"] = as_id(frame["scan_id"])
    frame = frame.drop_duplicates("scan_id").set_index("scan_id")
    if not scans["scan_id"].isin(frame.index).any():
        raise DataError("no scan_id of the manifest appears in the truth table", file=path, field="scan_id",
                        fix="give the truth.csv written together with this manifest")
    for column in frame.columns:
        values = pd.to_numeric(frame[column], errors="coerce")
        if (values.notna() == frame[column].notna()).all():
            frame[column] = values
    return frame.reindex(scans["scan_id"]).reset_index()
