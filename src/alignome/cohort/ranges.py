"""Physical ranges of a cohort's values, and what happens outside them (README: "Your own cohort").

* An **age** outside :data:`AGE_YEARS` (visits, volumes, scan manifests, BIDS) is an error naming
  the row: a wrong age moves a scan to another visit's diagnosis or out of its 90-day window, and
  it most often means a wrong column or unit (months, days), which every row shares.
* An **MMSE** outside :data:`MMSE_POINTS` is set to missing and counted (``drops`` in
  ``metrics.json`` and the log): the visit's diagnosis stays usable, and sentinel codes such as
  ADNI's -1/-4 for "not done" mean exactly that.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alignome.cohort.model import DropRecord
from alignome.errors import DataError
from alignome.io.tables import Table

AGE_YEARS = (0.0, 130.0)
MMSE_POINTS = (0.0, 30.0)
_SHOWN = 3


def _outside(values: pd.Series, bounds: tuple[float, float]) -> pd.Series:
    return values.notna() & ((values < bounds[0]) | (values > bounds[1]))


def _where(table: Table, label: object) -> str:
    """A row for messages: its file in a BIDS folder, else its 1-based data row."""
    if table.section == "bids" and "path" in table.frame.columns:
        return Path(str(table.frame.at[label, "path"])).name
    return f"row {int(label) + 1}"  # type: ignore[call-overload]


def check_ages(table: Table, ages: pd.Series) -> pd.Series:
    """Return ``ages`` (years) unchanged, or raise :class:`DataError` naming the first row outside :data:`AGE_YEARS`."""
    bad = _outside(ages, AGE_YEARS)
    if bad.any():
        label = ages.index[bad.to_numpy()][0]
        field = table.user("age") if table.has("age") else f"{table.user('baseline_age')} + {table.user('date')}"
        raise DataError(
            f"age {ages[label]:g} years is outside {AGE_YEARS[0]:g}–{AGE_YEARS[1]:g}"
            f" ({int(bad.sum())} such row(s) in all) at {_where(table, label)}",
            file=table.path,
            field=field,
            row=None if table.section == "bids" else int(label) + 1,  # type: ignore[call-overload]
            fix="give ages in years (not months or days) and check the column mapping of the data section;"
            " leave the cell empty for an unknown age (the row is then dropped and counted)",
        )
    return ages


def missing_outside(table: Table, values: pd.Series, name: str, bounds: tuple[float, float],
                    drops: list[DropRecord]) -> pd.Series:
    """``values`` with those outside ``bounds`` set to missing, counted in ``drops`` with their rows."""
    bad = _outside(values, bounds)
    if not bad.any():
        return values
    shown = [f"{_where(table, label)}: {values[label]:g}" for label in values.index[bad.to_numpy()][:_SHOWN]]
    more = f" and {int(bad.sum()) - _SHOWN} more" if bad.sum() > _SHOWN else ""
    drops.append(DropRecord(
        source=f"{table.section} ({table.path.name})",
        count=int(bad.sum()),
        reason=f"{table.user(name)} outside {bounds[0]:g}–{bounds[1]:g} set to missing, the rest of the row kept"
        f" ({'; '.join(shown)}{more})",
        unit=f"{table.user(name)} value(s)",
    ))
    return values.mask(bad)
