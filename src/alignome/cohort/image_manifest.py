"""Your own 2-D images with genotypes: a manifest, a PLINK fileset and a variant panel.

The manifest (CSV/TSV/Parquet) has a ``subject`` and a ``path`` column (relative paths are relative
to the manifest's folder), one row per subject; every other column is a numeric covariate. Images
are PNG, JPEG or NPY, grayscale or RGB, any size (:func:`alignome.io.image_files.read_image_file`);
all are stretched to ``size × size`` and given one channel count (RGB when any image is RGB, unless
``channels`` says otherwise), which the log states. The panel's variants are read from the fileset
as counts of the ``.bim`` A1 allele, and their effects are aligned to A1 by
:func:`alignome.genetics.harmonise.harmonise` (matched by id; strand-ambiguous SNPs kept).

What cannot be used is counted, never dropped silently: subjects without genotypes and panel
variants missing from the ``.bim`` go into ``drops`` (and the log); an unreadable image, a
duplicated subject or a bad covariate is an error naming the file, the row and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from alignome.cohort.genotypes import open_plink
from alignome.cohort.model import DropRecord
from alignome.errors import ConfigError, DataError
from alignome.genetics.panel import EFFECT_COLUMN, panel_effects, read_panel
from alignome.imaging.resize import match_channels, resize_square
from alignome.io.image_files import read_image_file
from alignome.io.tables import Table, numeric, read_table

log = logging.getLogger(__name__)

RANDOM_INIT = "random"  # the one projector initialisation that does not read the panel's effects


@dataclass
class ImageGenotypeData:
    """Images, covariates and panel genotypes of the subjects that have all three.

    Attributes
    ----------
    subjects
        Subject ids (str), in manifest order.
    manifest_rows
        The manifest line (header = line 1) of each subject.
    images
        ``(n, C, size, size)`` float32.
    covariates
        Numeric covariate columns of the manifest, indexed by subject (NaN where empty).
    genotypes
        ``(n, S)`` float32 counts of each panel variant's ``.bim`` A1 (NaN where missing).
    panel
        The panel rows in use (variants in the ``.bim``), panel order, ``effect_allele`` = A1 and
        ``beta`` aligned to it (NaN where the panel has none).
    bfile
        The fileset's ``.bed``.
    drops
        Subjects and variants not used, with counts and reasons.
    """

    subjects: pd.Index
    manifest_rows: np.ndarray
    images: np.ndarray
    covariates: pd.DataFrame
    genotypes: np.ndarray
    panel: pd.DataFrame
    bfile: Path
    drops: list[DropRecord] = field(default_factory=list)


def check_panel_effects(panel: pd.DataFrame, init: str, file: str | Path | None = None) -> None:
    """Raise unless every panel variant has an effect size when the projector ``init`` reads them.

    Every initialisation but ``"random"`` reads the panel's ``beta`` column.

    Raises
    ------
    ConfigError
        Effects asked for but missing (all, or from the row named).
    """
    if init == RANDOM_INIT:
        return
    missing = np.isnan(panel_effects(panel))
    if not missing.any():
        return
    first = int(np.flatnonzero(missing)[0])
    what = "has no effect sizes" if missing.all() else \
        f"lacks the effect size of {int(missing.sum())} variant(s) (first: {panel['variant'].iloc[first]})"
    raise ConfigError(
        f"the projector init '{init}' starts from the panel's GWAS effects, but the panel {what}",
        file=file, field=EFFECT_COLUMN, row=first + 2 if not missing.all() else None,
        fix="choose a panel with a beta column (`alignome variants select` from summary statistics with effect "
            f"sizes), or set the projector init to '{RANDOM_INIT}'",
    )


def _manifest(path: Path, columns: dict[str, str] | None) -> Table:
    table = read_table(path, "manifest", dict(columns or {}), ["subject", "path"], id_columns=("subject", "path"))
    frame = table.frame
    for name in ("subject", "path"):
        empty = frame[name].isna()
        if empty.any():
            raise DataError(f"empty {name}", file=path, field=table.user(name), row=int(frame.index[empty][0]) + 1,
                            fix=f"fill in the {name} of every row, or remove the row")
    repeated = frame["subject"].duplicated(keep=False)
    if repeated.any():
        first = frame.loc[repeated, "subject"].iloc[0]
        lines = [int(i) + 1 for i in frame.index[frame["subject"] == first]]
        raise DataError(f"subject '{first}' has {len(lines)} rows (lines {lines[:5]})", file=path,
                        field=table.user("subject"), row=lines[0],
                        fix="give one image per subject (choose one, e.g. one eye)")
    return table


def _read_images(table: Table, rows: pd.Index, size: int, channels: int | None) -> np.ndarray:
    """Every image resized as soon as it is read, so only ``size``² pixels per image stay in memory.

    Without ``channels``, grayscale images become RGB when any image is RGB; repeating a channel
    commutes with the per-channel resize, so that choice can wait until all are read.
    """
    folder = table.path.parent
    resized, shapes = [], []
    for row in rows:
        image_path = Path(table.frame.at[row, "path"])
        image_path = image_path if image_path.is_absolute() else folder / image_path
        try:
            image = read_image_file(image_path)
        except DataError as error:
            raise DataError(f"{error.problem}: {image_path}", file=table.path, field=table.user("path"),
                            row=int(row) + 1, fix=error.fix) from None
        shapes.append(image.shape)
        resized.append(resize_square(match_channels(image, channels) if channels else image, size))
    wanted = channels or (3 if any(shape[0] == 3 for shape in shapes) else 1)
    stretched = sum(1 for shape in shapes if abs(shape[1] / shape[2] - 1.0) > 0.05)
    log.info("images resized to %d×%d with %d channel(s) (bilinear) from %d size(s), e.g. %s%s", size, size,
             wanted, len(set(shapes)), shapes[0][1:] if shapes else "-",
             f"; {stretched} non-square image(s) stretched" if stretched else "")
    out = np.empty((len(resized), wanted, size, size), dtype=np.float32)
    for i, image in enumerate(resized):
        out[i] = match_channels(image, wanted)
    return out


def _panel_genotypes(panel: pd.DataFrame, variants: pd.DataFrame, source: str,
                     drops: list[DropRecord]) -> pd.DataFrame:
    """Panel rows found in the ``.bim`` with ``effect_allele`` = A1 and aligned ``beta``; the rest counted."""
    from alignome.genetics.harmonise import harmonise

    bim = variants.copy()
    for name in ("a1", "a2"):
        bim[name] = bim[name].astype(str).str.upper()
    alleles = [a.upper() if isinstance(a, str) else None for a in panel["effect_allele"]]
    frame = pd.DataFrame({"variant": panel["variant"].astype(str).to_numpy(),
                          "effect_allele": np.array(alleles, dtype=object), "other_allele": None,
                          "beta": panel_effects(panel)})
    result = harmonise(frame, bim, drop_ambiguous=False)
    for outcome, reason in (("not_in_bim", "panel variant(s) missing from the .bim"),
                            ("mismatch", "panel variant(s) whose effect allele is neither .bim allele")):
        count = result.counts.get(outcome, 0)
        if count:
            examples = list(result.outcome.index[result.outcome.to_numpy() == outcome][:3])
            drops.append(DropRecord(source, count, f"{reason} (e.g. {examples})", "variant(s)"))
    kept = panel.set_index(panel["variant"].astype(str)).loc[result.sumstats["variant"]].reset_index(drop=True)
    kept["effect_allele"] = result.sumstats["effect_allele"].to_numpy()
    kept[EFFECT_COLUMN] = result.sumstats["beta"].to_numpy(dtype=float)
    return kept


def load_image_manifest(manifest: str | Path, bfile: str | Path, panel: pd.DataFrame | str | Path, *,
                        size: int = 64, channels: int | None = None,
                        columns: dict[str, str] | None = None,
                        projector_init: str | None = None) -> ImageGenotypeData:
    """Read the manifest's images, the panel's genotypes and the covariates of subjects that have both.

    Parameters
    ----------
    manifest
        The manifest table (module docstring).
    bfile
        PLINK 1 fileset prefix.
    panel
        A panel TSV (:func:`alignome.genetics.panel.read_panel`) or its frame.
    size
        Side of the square images given to the encoder.
    channels
        1 or 3; ``None``: 3 when any image is RGB, else 1.
    columns
        alignome name (``subject``, ``path``) → your column name.
    projector_init
        When given, :func:`check_panel_effects` runs on the panel variants in use before any image
        is read, so a panel without the effects this init needs fails in seconds.

    Raises
    ------
    DataError
        Unreadable images, repeated subjects, bad covariates, or nothing left to use.
    """
    if channels not in (None, 1, 3):
        raise ConfigError(f"channels = {channels}", field="channels",
                          fix="use 1 (grayscale), 3 (RGB) or leave it unset")
    manifest = Path(manifest)
    panel_file = None if isinstance(panel, pd.DataFrame) else Path(panel)
    panel_frame = panel if isinstance(panel, pd.DataFrame) else read_panel(panel_file)
    if "variant" not in panel_frame.columns:
        raise DataError("the panel has no 'variant' column", file=panel_file, field="variant",
                        fix="give a panel as `alignome variants select` writes it")
    for name, empty in ((EFFECT_COLUMN, np.nan), ("effect_allele", None)):
        if name not in panel_frame.columns:
            panel_frame = panel_frame.assign(**{name: empty})
    table = _manifest(manifest, columns)
    drops: list[DropRecord] = []
    genotypes = open_plink(Path(bfile))
    fam_name = genotypes.path.with_suffix(".fam").name
    genotyped = table.frame["subject"].isin(genotypes.subjects)
    if not genotyped.any():
        raise DataError(f"none of the {len(genotyped)} manifest subjects is a sample of the genotypes "
                        f"(e.g. {list(table.frame['subject'][:3])})", file=manifest, field=table.user("subject"),
                        fix=f"use the IIDs of {fam_name} (its second column) as subject ids")
    if not genotyped.all():
        missing = table.frame.loc[~genotyped, "subject"]
        drops.append(DropRecord(f"manifest ({manifest.name})", int((~genotyped).sum()),
                                f"subject(s) without genotypes in {fam_name} (e.g. {list(missing[:3])}, line "
                                f"{int(missing.index[0]) + 1})"))
    rows = table.frame.index[genotyped.to_numpy()]
    in_use = _panel_genotypes(panel_frame, genotypes.variants, f"panel ({panel_file.name if panel_file else 'table'})",
                              drops)
    if in_use.empty:
        raise DataError("none of the panel's variants is in the genotypes", file=panel_file or genotypes.path,
                        field="variant", fix="use the same variant ids in the panel and the .bim (e.g. rsIDs)")
    if projector_init is not None:
        check_panel_effects(in_use, projector_init, panel_file)
    for record in drops:
        log.warning("%s", record)
    subjects = pd.Index(table.frame.loc[rows, "subject"].to_numpy(dtype=object), dtype=object)
    dosage = genotypes.read(list(in_use["variant"])).loc[subjects].to_numpy(dtype=np.float32)
    covariate_names = [c for c in table.frame.columns if c not in ("subject", "path")]
    covariates = pd.DataFrame({c: numeric(table, c, table.frame.loc[rows]).to_numpy() for c in covariate_names},
                              index=subjects)
    return ImageGenotypeData(subjects=subjects, manifest_rows=np.asarray(rows, dtype=np.int64) + 1,
                             images=_read_images(table, rows, size, channels), covariates=covariates,
                             genotypes=dosage, panel=in_use, bfile=genotypes.path, drops=drops)
