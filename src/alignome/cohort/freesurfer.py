"""Parse FreeSurfer ``aseg.stats`` and ``?h.aparc.stats`` files into region volumes."""

from __future__ import annotations

from pathlib import Path

from alignome.errors import DataError


def _table_rows(path: Path, value_column: str) -> dict[str, float]:
    """Rows of the ``# ColHeaders`` table: StructName -> value of ``value_column``."""
    headers: list[str] | None = None
    out: dict[str, float] = {}
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if line.startswith("# ColHeaders"):
            headers = line.split()[2:]
            if value_column not in headers or "StructName" not in headers:
                raise DataError(
                    f"the ColHeaders line lacks '{value_column}' or 'StructName': {headers}",
                    file=path,
                    field=value_column,
                    row=f"line {number}",
                    fix="give stats files written by FreeSurfer (mri_segstats / mris_anatomical_stats)",
                )
            continue
        if line.startswith("#") or not line.strip() or headers is None:
            continue
        fields = line.split()
        if len(fields) < len(headers):
            raise DataError(
                f"expected {len(headers)} fields, found {len(fields)}",
                file=path,
                row=f"line {number}",
                fix="the stats file looks truncated; rerun FreeSurfer's stats for this subject",
            )
        try:
            out[fields[headers.index("StructName")]] = float(fields[headers.index(value_column)])
        except ValueError:
            raise DataError(
                f"non-numeric {value_column} '{fields[headers.index(value_column)]}'",
                file=path,
                field=value_column,
                row=f"line {number}",
                fix="the stats file looks corrupt; rerun FreeSurfer's stats for this subject",
            ) from None
    if headers is None:
        raise DataError(
            "no '# ColHeaders' line found",
            file=path,
            fix="give stats files written by FreeSurfer (aseg.stats, lh.aparc.stats, rh.aparc.stats)",
        )
    return out


def parse_aseg(path: Path) -> dict[str, float]:
    """Volumes (mm^3) from an ``aseg.stats`` file.

    Parameters
    ----------
    path
        ``<subject>/stats/aseg.stats``.

    Returns
    -------
    dict
        ``StructName`` -> ``Volume_mm3`` for each segmentation row, plus each
        ``# Measure`` line in mm^3 under its short name (e.g. ``eTIV``,
        ``BrainSegVol``).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path, fix="check stats_dir in the FreeSurfer manifest")
    volumes = _table_rows(path, "Volume_mm3")
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("# Measure"):
            parts = [p.strip() for p in line[len("# Measure"):].split(",")]
            if len(parts) >= 5 and parts[4] == "mm^3":
                try:
                    volumes[parts[1]] = float(parts[3])
                except ValueError:
                    continue
    return volumes


def parse_aparc(path: Path, hemisphere: str) -> dict[str, float]:
    """Cortical grey-matter volumes from ``lh.aparc.stats`` / ``rh.aparc.stats``.

    Returns
    -------
    dict
        ``ctx-<hemisphere>-<StructName>`` -> ``GrayVol`` (mm^3).
    """
    return {f"ctx-{hemisphere}-{name}": value for name, value in _table_rows(Path(path), "GrayVol").items()}


def read_stats_dir(stats_dir: Path) -> dict[str, float]:
    """All regional volumes of one FreeSurfer subject directory.

    Parameters
    ----------
    stats_dir
        The subject directory (holding ``stats/``) or its ``stats`` folder.
    """
    stats_dir = Path(stats_dir)
    folder = stats_dir / "stats" if (stats_dir / "stats").is_dir() else stats_dir
    volumes = parse_aseg(folder / "aseg.stats")
    for hemisphere in ("lh", "rh"):
        aparc = folder / f"{hemisphere}.aparc.stats"
        if aparc.is_file():
            volumes.update(parse_aparc(aparc, hemisphere))
    return volumes
