"""Regional volumes: a table of scans, or FreeSurfer stats listed in a manifest."""

from __future__ import annotations

import pandas as pd

from alignome.cohort.ages import resolve_ages
from alignome.cohort.freesurfer import read_stats_dir
from alignome.cohort.model import DropRecord
from alignome.io.tables import Table, numeric, read_table
from alignome.cohort.sources import VolumesSource
from alignome.errors import DataError

_TIME = ["age", "date", "baseline_age"]
_SHOWN = 3  # rows with an empty cell named in a drop record


def _region_columns(table: Table, frame: pd.DataFrame, regions: list[str] | None) -> list[str]:
    if regions is not None:
        missing = [r for r in regions if r not in frame.columns]
        if missing:
            raise DataError(
                f"region column(s) {missing} listed in `regions` are missing; available columns: {list(table.frame.columns)}",
                file=table.path,
                field=missing[0],
                fix="correct the `regions` list under volumes in the recipe's data section",
            )
        return list(regions)
    chosen = []
    for column in frame.columns:
        if column in ("subject", "age"):
            continue
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce")
        present = int(raw.notna().sum())
        if present and values.notna().sum() * 2 > present:
            chosen.append(column)
    if not chosen:
        raise DataError(
            "no numeric region columns found",
            file=table.path,
            field="regions",
            fix="list the region columns as `regions: [...]` under volumes in the recipe's data section",
        )
    return chosen


def _drop_incomplete(scans: pd.DataFrame, regions: list[str], source: str, drops: list[DropRecord]) -> pd.DataFrame:
    complete = scans[regions].notna().all(axis=1)
    if not complete.all():
        empty = scans.loc[~complete, regions].isna()
        cells = [f"row {int(label) + 1}: {', '.join(r for r in regions if empty.at[label, r])}" for label in empty.index]
        more = f" and {len(cells) - _SHOWN} more row(s)" if len(cells) > _SHOWN else ""
        drops.append(
            DropRecord(
                source=source,
                count=int((~complete).sum()),
                reason=f"scan(s) with a missing region value ({'; '.join(cells[:_SHOWN])}{more})",
            )
        )
    return scans[complete]


def _finish(scans: pd.DataFrame, regions: list[str]) -> pd.DataFrame:
    scans = scans[["subject", "age", *regions]].sort_values(["subject", "age"], kind="stable")
    return scans.reset_index(drop=True)


def read_volumes_table(source: VolumesSource, drops: list[DropRecord]) -> tuple[pd.DataFrame, list[str]]:
    """Read a volumes table (one row per scan).

    Regions are the columns listed in ``source.regions``, or else every column
    (other than subject and the age/date columns) whose values are mostly
    numeric; a non-numeric value in a region column is an error. Identifier
    columns that look numeric (e.g. an image id) would count as regions, so
    list ``regions`` explicitly for real data.
    """
    table = read_table(source.path, "volumes", source.columns, ["subject"], _TIME)
    frame = resolve_ages(table, "scan", drops)
    regions = _region_columns(table, frame, source.regions)
    for region in regions:
        frame[region] = numeric(table, region, frame)
    frame = _drop_incomplete(frame, regions, f"volumes ({table.path.name})", drops)
    return _finish(frame, regions), regions


def read_freesurfer(source: VolumesSource, drops: list[DropRecord]) -> tuple[pd.DataFrame, list[str]]:
    """Read FreeSurfer stats for every scan listed in ``source.freesurfer_manifest``.

    The manifest has columns subject, age (or date and baseline_age) and
    ``stats_dir`` (relative paths are relative to the manifest's folder).
    Regions are the union over scans; a scan lacking one is dropped (recorded).
    """
    path = source.freesurfer_manifest
    table = read_table(path, "volumes", source.columns, ["subject", "stats_dir"], _TIME, id_columns=("subject",))
    frame = resolve_ages(table, "scan", drops)
    records = []
    for label, stats_dir in frame["stats_dir"].items():
        if stats_dir is None or stats_dir != stats_dir:
            raise DataError("empty stats_dir", file=path, field=table.user("stats_dir"), row=int(label) + 1,
                            fix="give each scan's FreeSurfer subject directory")
        folder = (path.parent / str(stats_dir).strip()).resolve()
        if not folder.is_dir():
            raise DataError(f"FreeSurfer directory {folder} not found", file=path, field=table.user("stats_dir"),
                            row=int(label) + 1, fix="correct stats_dir (relative to the manifest's folder)")
        records.append(read_stats_dir(folder))
    volumes = pd.DataFrame.from_records(records, index=frame.index)
    regions = list(volumes.columns)
    scans = pd.concat([frame[["subject", "age"]], volumes], axis=1)
    scans = _drop_incomplete(scans, regions, f"volumes ({path.name})", drops)
    return _finish(scans, regions), regions


def read_volumes(source: VolumesSource, drops: list[DropRecord]) -> tuple[pd.DataFrame, list[str]]:
    """Scans and region names from a volumes table or FreeSurfer manifest."""
    if source.freesurfer_manifest is not None:
        return read_freesurfer(source, drops)
    return read_volumes_table(source, drops)
