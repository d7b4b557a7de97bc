"""Check that visits, scans and genotypes describe the same subjects."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alignome.errors import DataError


def _few(ids: list[str], n: int = 5) -> str:
    shown = ", ".join(ids[:n])
    return f"[{shown}{', ...' if len(ids) > n else ''}]"


def check_subjects(
    visits: pd.Index,
    scans: pd.Index,
    genotypes: pd.Index | None,
    files: dict[str, Path],
    allow_missing_modality: bool,
) -> None:
    """Raise :class:`DataError` when the sources disagree on subjects.

    Parameters
    ----------
    visits, scans, genotypes
        Subject ids of each source (str); ``genotypes`` is None for a cohort without them.
    files
        Source name (``visits``, ``volumes``, ``genotypes``) -> file, for messages.
    allow_missing_modality
        Whether subjects with visits may lack scans or genotypes.

    Raises
    ------
    DataError
        A subject in scans or genotypes has no visits (always an error: no
        labels or demographics), or, unless allowed, a subject with visits
        lacks scans or genotypes.
    """
    known = set(visits)
    sources = [("volumes", scans)] + ([("genotypes", genotypes)] if genotypes is not None else [])
    for name, ids in sources:
        orphans = sorted(set(ids) - known)
        if orphans:
            raise DataError(
                f"{len(orphans)} subject(s) in {name} have no visits (after dropping rows without subject or age):"
                f" {_few(orphans)}",
                file=files[name],
                field="subject",
                fix=f"add their visits to {Path(files['visits']).name}, or remove them from {Path(files[name]).name}"
                + (" (e.g. `plink --keep` / `--remove`)" if name == "genotypes" else ""),
            )
    if allow_missing_modality:
        return
    problems = []
    for name, ids in sources:
        lacking = sorted(known - set(ids))
        if lacking:
            problems.append(f"{len(lacking)} subject(s) of visits lack {name} ({Path(files[name]).name}): {_few(lacking)}")
    if problems:
        raise DataError(
            "subjects differ between sources: " + "; ".join(problems),
            file=files["visits"],
            field="subject",
            fix="set `allow_missing_modality: true` in the recipe's data section to keep subjects with one modality"
            " missing (the gated fusion handles it), or remove those subjects from the visits",
        )
