"""Subject and age of each row: direct ages or dates plus the age at the first date."""

from __future__ import annotations

import pandas as pd

from alignome.cohort.model import DropRecord
from alignome.cohort.ranges import check_ages
from alignome.io.tables import Table, numeric
from alignome.errors import DataError

DAYS_PER_YEAR = 365.25
TIME_COLUMNS = ["age", "date", "baseline_age"]


def _dates(table: Table) -> pd.Series:
    raw = table.frame["date"]
    parsed = pd.to_datetime(raw, format="ISO8601", errors="coerce")
    bad = parsed.isna() & raw.notna()
    if bad.any():
        label = raw.index[bad.to_numpy().nonzero()[0][0]]
        raise DataError(
            f"'{raw[label]}' is not an ISO date (YYYY-MM-DD)",
            file=table.path,
            field=table.user("date"),
            row=int(label) + 1,
            fix="write dates as YYYY-MM-DD, or give ages in years as an `age` column",
        )
    return parsed


def _ages_from_dates(table: Table) -> pd.Series:
    """Age = baseline_age + days since the subject's first date / 365.25."""
    frame = table.frame
    dates = _dates(table)
    baseline = numeric(table, "baseline_age")
    work = pd.DataFrame({"subject": frame["subject"], "date": dates, "baseline": baseline})
    work = work[work["subject"].notna() & work["date"].notna()]
    spread = work.groupby("subject")["baseline"].agg(["min", "max"])
    differs = spread.index[(spread["max"] - spread["min"]).abs() > 1e-6]
    if len(differs):
        subject = differs[0]
        rows = [int(i) + 1 for i in work.index[work["subject"] == subject]]
        raise DataError(
            f"subject {subject} has different baseline ages in rows {rows[:5]}",
            file=table.path,
            field=table.user("baseline_age"),
            fix="baseline_age must be the age at the subject's first date, the same on every row;"
            " give per-visit ages as an `age` column instead",
        )
    first = work.groupby("subject")["date"].transform("min")
    base = work.groupby("subject")["baseline"].transform("first")
    ages = base + (work["date"] - first).dt.days / DAYS_PER_YEAR
    return ages.reindex(frame.index)


def row_ages(table: Table) -> pd.Series:
    """Float age of every row of ``table``: its ``age`` column, or ``date`` + ``baseline_age``.

    Raises
    ------
    DataError
        If the table has neither, naming its columns and the mapping to set; or if an
        age lies outside :data:`alignome.cohort.ranges.AGE_YEARS`, naming the row.
    """
    if table.has("age"):
        return check_ages(table, numeric(table, "age"))
    if table.has("date") and table.has("baseline_age"):
        return check_ages(table, _ages_from_dates(table))
    raise DataError(
        f"no age information: needs an 'age' column, or 'date' and 'baseline_age'; available columns: "
        f"{[table.user(c) for c in table.frame.columns]}",
        file=table.path,
        field="age",
        fix=f"set `columns: {{age: <your column>}}` (or `date:` and `baseline_age:`) in the data section ({table.section})",
    )


def resolve_ages(table: Table, what: str, drops: list[DropRecord]) -> pd.DataFrame:
    """Give each row of ``table`` a float ``age``; drop rows without subject or age.

    Parameters
    ----------
    table
        A table with ``subject`` and either ``age`` or ``date`` + ``baseline_age``.
    what
        What a row is (``visit``, ``scan``), for messages.
    drops
        Dropped rows are recorded here.

    Returns
    -------
    pandas.DataFrame
        ``table.frame`` without ``date``/``baseline_age``, with ``age`` (float),
        restricted to usable rows; index still the 0-based file row.
    """
    ages = row_ages(table)
    frame = table.frame
    frame = frame.drop(columns=[c for c in TIME_COLUMNS if c in frame.columns]).assign(age=ages.astype(float))
    keep = frame["subject"].notna() & frame["age"].notna()
    if not keep.all():
        drops.append(
            DropRecord(
                source=f"{table.section} ({table.path.name})",
                count=int((~keep).sum()),
                reason=f"{what} row(s) without subject or age (first at row {int(frame.index[~keep][0]) + 1})",
            )
        )
    frame = frame[keep]
    check_unique(frame, table, what)
    return frame


def check_unique(frame: pd.DataFrame, table: Table, what: str) -> None:
    """Raise :class:`DataError` if a subject has two rows at the same age."""
    key = pd.DataFrame({"subject": frame["subject"], "age": frame["age"].round(6)})
    dup = key.duplicated(keep=False)
    if dup.any():
        first = key[dup].iloc[0]
        rows = [int(i) + 1 for i in key.index[dup & (key["subject"] == first["subject"]) & (key["age"] == first["age"])]]
        dated = table.has("date") or "date" in table.names
        when = table.user("date") if dated else table.user("age")
        fix = f"remove or merge the duplicate {what} rows (one row per subject and {when})"
        if not dated and float(first["age"]).is_integer():
            fix += (f"; if they are distinct {what}s, the ages are whole years: give fractional ages (baseline age + "
                    "days since baseline / 365.25) or ISO dates, as `columns: {date: <dates>, baseline_age: <age at "
                    "the first date>}` (README: \"Ages in whole years\")")
        raise DataError(
            f"duplicated {what}: subject {first['subject']} at age {first['age']:.3f} appears in rows "
            f"{rows[0]} and {rows[1]}",
            file=table.path,
            field=when,
            row=f"{rows[0]} and {rows[1]}",
            fix=fix,
        )
