"""Read GWAS summary statistics from PLINK, PLINK 2, METAL or any TSV into one standard frame.

The standard frame has the columns :data:`STANDARD_COLUMNS`, in file order:
``variant``, ``chrom`` (normalised as :func:`normalise_chrom`), ``pos``,
``effect_allele``, ``other_allele`` (upper case), ``beta`` (log odds ratio
for logistic/case-control results), ``se``, ``p``, ``n``. A column the
format does not carry is NA (e.g. ``other_allele`` of a ``.qassoc``).

Formats (``fmt``), detected from the header when ``"auto"``:

``plink-assoc``
    PLINK 1.9 ``--assoc`` case/control (``CHR SNP BP A1 ... A2 CHISQ P OR``):
    beta = ln(OR), se = |beta| / sqrt(CHISQ).
``plink-qassoc``
    PLINK 1.9 ``--assoc`` quantitative (``CHR SNP BP NMISS BETA SE R2 T P``);
    its effect allele is the ``.bim`` A1, which the file does not name:
    ``effect_allele`` is NA until :func:`alignome.genetics.harmonise.harmonise`.
``plink2-glm``
    PLINK 2 ``.glm.linear`` / ``.glm.logistic[.hybrid]``: rows with TEST = ADD;
    effect allele A1; other allele AX/OMITTED or the one of REF/ALT that is not A1;
    logistic OR → ln(OR) with ``LOG(OR)_SE``.
``metal``
    METAL output (``MarkerName Allele1 Allele2 Effect StdErr P-value ...``).
``tsv``
    Any delimited table; ``columns`` maps standard names to the file's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from alignome.errors import DataError

STANDARD_COLUMNS = ["variant", "chrom", "pos", "effect_allele", "other_allele", "beta", "se", "p", "n"]

_CHROM_ALIASES = {"23": "X", "24": "Y", "25": "XY", "26": "MT", "M": "MT", "MT": "MT", "X": "X", "Y": "Y",
                  "XY": "XY", "0": "0"}


def normalise_chrom(value: object, *, file: str | Path | None = None, row: int | None = None) -> str:
    """A chromosome code as PLINK accepts it, normalised.

    ``chr1``/``1`` → ``"1"``; ``X``/``23``/``chrX`` → ``"X"``; ``Y``/``24``;
    ``XY``/``25``; ``MT``/``M``/``26``/``chrM`` → ``"MT"``; ``0`` (unplaced).

    Raises
    ------
    DataError
        A code PLINK 1.9 would reject without ``--allow-extra-chr``.
    """
    text = str(value).strip()
    code = text.upper()
    if code.startswith("CHR"):
        code = code[3:]
    if code.isdigit():
        number = int(code)
        if 1 <= number <= 22:
            return str(number)
        code = str(number)
    if code in _CHROM_ALIASES:
        return _CHROM_ALIASES[code]
    raise DataError(
        f"chromosome code '{text}' is not one PLINK accepts (1-22, X, Y, XY, MT, 23-26, optionally 'chr'-prefixed)",
        file=file, field="chrom", row=row,
        fix="rename the contig (e.g. with `plink --update-chr`) or drop the rows of unplaced/alt contigs",
    )


def _row(values: pd.Series, label) -> int:
    """The row named in messages: index + 1 of an integer index (the file line, :func:`_read_table`), else the
    1-based position (a headerless file's line, e.g. a ``.bim`` indexed by variant id)."""
    if pd.api.types.is_integer_dtype(values.index):
        return int(label) + 1
    return int(np.flatnonzero(values.index == label)[0]) + 1


def normalise_chroms(values: pd.Series, file: str | Path | None = None) -> pd.Series:
    """Vectorised :func:`normalise_chrom` (NA stays NA; the row named: :func:`_row`)."""
    out = pd.Series(pd.NA, index=values.index, dtype=object)
    present = values.notna()
    cache: dict[str, str] = {}
    for index, value in values[present].items():
        key = str(value)
        if key not in cache:
            cache[key] = normalise_chrom(key, file=file, row=_row(values, index))
        out[index] = cache[key]
    return out


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError("file not found", file=path, fix="give the path of an existing summary-statistics file")
    if path.suffix.lower() == ".parquet":
        raise DataError(
            "summary statistics are read from text tables; a Parquet file may hold several traits",
            file=path,
            fix="give one trait's text table: `alignome gwas --mode single` writes PREFIX.TRAIT.glm.linear per trait",
        )
    with open(path) as handle:
        first = handle.readline()
    sep = "\t" if "\t" in first else (r"\s+" if not ("," in first and " " not in first.strip()) else ",")
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, engine="python", keep_default_na=False,
                            na_values=["NA", "nan", "NaN", "", "."])
    except pd.errors.EmptyDataError:
        raise DataError("empty summary-statistics file", file=path, fix="give a file with a header and rows") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = pd.RangeIndex(1, len(frame) + 1)  # the 0-based line of the file: index + 1 is a DataError's row
    return frame


def _line(frame: pd.DataFrame, position: int) -> int:
    """The file line (1-based, header counted) of the row at ``position`` (index + 1: see :func:`_read_table`)."""
    return int(frame.index[position]) + 1


def detect_format(columns: list[str]) -> str | None:
    """Guess the format of a summary-statistics header (None when not recognised).

    ``plink2-glm``: plink2's ``--glm`` reports (with ``TEST``) and ``alignome gwas --mode single``'s tables
    (the same columns without ``TEST``: one additive test per variant).
    """
    cols = set(columns)
    if ("#CHROM" in cols or "CHROM" in cols) and "ID" in cols and "A1" in cols and "P" in cols \
            and ("TEST" in cols or {"BETA", "SE", "T_STAT"} <= cols):
        return "plink2-glm"
    if {"MarkerName", "Allele1", "Allele2"} <= cols and "P-value" in cols:
        return "metal"
    if {"CHR", "SNP", "BP", "A1", "A2", "P"} <= cols and ("OR" in cols or "CHISQ" in cols):
        return "plink-assoc"
    if {"CHR", "SNP", "BP", "NMISS", "BETA", "SE", "P"} <= cols:
        return "plink-qassoc"
    return None


#: Columns of ``alignome gwas --mode multi``: one joint test of all traits per variant, no effect size.
JOINT_TEST_COLUMNS = {"D", "LRT", "P", "METHOD"}


def _refuse_joint_test(raw: pd.DataFrame, path: Path) -> None:
    """A multi-trait (joint) GWAS table has no per-trait effect to combine or rank by sign: say so, and what to give."""
    if JOINT_TEST_COLUMNS <= set(raw.columns) and "BETA" not in raw.columns:
        raise DataError(
            "this is a multi-trait GWAS table (one joint test of D traits per variant, columns D, LRT, P): "
            "it has no per-trait effect size or standard error to meta-analyse",
            file=path,
            field="LRT",
            fix="run `alignome gwas --mode single` to get one table per trait (with BETA and SE) and give those",
        )


def _need(frame: pd.DataFrame, path: Path, names: list[str], fmt: str) -> None:
    missing = [c for c in names if c not in frame.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing} for format '{fmt}'; the header has {list(frame.columns)[:20]}",
            file=path, field=missing[0],
            fix="give the file as the tool wrote it, or read it with fmt='tsv' and a column mapping "
                "(CLI: --columns variant=SNP,p=PVAL,...)",
        )


def _num(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() & frame[column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"'{frame[column].iloc[row]}' is not a number", file=path, field=column, row=_line(frame, row),
                        fix="give numbers (NA for missing)")
    return values.astype(float)


def _standard(path: Path, fmt: str, raw: pd.DataFrame, **cols: pd.Series | None) -> pd.DataFrame:
    n = len(raw)
    out = pd.DataFrame(index=raw.index)  # the file's lines, for messages
    for name in STANDARD_COLUMNS:
        value = cols.get(name)
        if value is None:
            out[name] = pd.Series([pd.NA] * n, index=out.index, dtype=object) if name in ("chrom", "effect_allele", "other_allele",
                                                                          "variant") else np.nan
        else:
            out[name] = pd.Series(value).set_axis(out.index)
    for name in ("effect_allele", "other_allele"):
        out[name] = out[name].map(lambda a: a.upper() if isinstance(a, str) else pd.NA).astype(object)
    out["chrom"] = normalise_chroms(out["chrom"], file=path)
    out.attrs["format"] = fmt
    out.attrs["file"] = str(path)
    return out


def _parse(path: Path, raw: pd.DataFrame, fmt: str, columns: dict[str, str] | None) -> pd.DataFrame:
    if fmt == "plink-assoc":
        _need(raw, path, ["CHR", "SNP", "BP", "A1", "A2", "P"], fmt)
        beta = se = None
        if "OR" in raw.columns:
            beta = np.log(_num(raw, "OR", path))
            if "CHISQ" in raw.columns:
                with np.errstate(divide="ignore", invalid="ignore"):
                    se = np.abs(beta) / np.sqrt(_num(raw, "CHISQ", path))
        return _standard(path, fmt, raw, variant=raw["SNP"], chrom=raw["CHR"], pos=_num(raw, "BP", path),
                         effect_allele=raw["A1"], other_allele=raw["A2"], beta=beta, se=se, p=_num(raw, "P", path))
    if fmt == "plink-qassoc":
        _need(raw, path, ["CHR", "SNP", "BP", "NMISS", "BETA", "SE", "P"], fmt)
        return _standard(path, fmt, raw, variant=raw["SNP"], chrom=raw["CHR"], pos=_num(raw, "BP", path),
                         beta=_num(raw, "BETA", path), se=_num(raw, "SE", path), p=_num(raw, "P", path),
                         n=_num(raw, "NMISS", path))
    if fmt == "plink2-glm":
        chrom = "#CHROM" if "#CHROM" in raw.columns else "CHROM"
        _need(raw, path, [chrom, "POS", "ID", "A1", "P"], fmt)
        if "TEST" in raw.columns:
            raw = raw[raw["TEST"] == "ADD"]
        other = None
        for name in ("AX", "OMITTED"):
            if name in raw.columns:
                other = raw[name]
        if other is None and {"REF", "ALT"} <= set(raw.columns):
            other = pd.Series(np.where(raw["A1"] == raw["ALT"], raw["REF"], raw["ALT"]), index=raw.index, dtype=object)
        if "BETA" in raw.columns:
            beta = _num(raw, "BETA", path)
        elif "OR" in raw.columns:
            beta = np.log(_num(raw, "OR", path))
        else:
            _need(raw, path, ["BETA"], fmt)
        se_col = "SE" if "SE" in raw.columns else "LOG(OR)_SE"
        _need(raw, path, [se_col], fmt)
        n = _num(raw, "OBS_CT", path) if "OBS_CT" in raw.columns else None
        return _standard(path, fmt, raw, variant=raw["ID"], chrom=raw[chrom], pos=_num(raw, "POS", path),
                         effect_allele=raw["A1"], other_allele=other, beta=beta, se=_num(raw, se_col, path),
                         p=_num(raw, "P", path), n=n)
    if fmt == "metal":
        pcol = "P-value"
        _need(raw, path, ["MarkerName", "Allele1", "Allele2", pcol], fmt)
        beta = _num(raw, "Effect", path) if "Effect" in raw.columns else None
        se = _num(raw, "StdErr", path) if "StdErr" in raw.columns else None
        n = _num(raw, "Weight", path) if "Weight" in raw.columns else None
        chrom = raw["CHR"] if "CHR" in raw.columns else None
        pos = _num(raw, "BP", path) if "BP" in raw.columns else None
        return _standard(path, fmt, raw, variant=raw["MarkerName"], chrom=chrom, pos=pos, effect_allele=raw["Allele1"],
                         other_allele=raw["Allele2"], beta=beta, se=se, p=_num(raw, pcol, path), n=n)
    if fmt == "tsv":
        mapping = {name: name for name in STANDARD_COLUMNS if name in raw.columns}
        mapping.update(columns or {})
        unknown = [k for k in mapping if k not in STANDARD_COLUMNS]
        if unknown:
            raise DataError(f"unknown standard column(s) {unknown} in the column mapping", file=path,
                            field=unknown[0], fix=f"map only {STANDARD_COLUMNS}")
        for name in ("variant", "p"):
            if name not in mapping:
                raise DataError(f"no column for '{name}'; the header has {list(raw.columns)[:20]}", file=path,
                                field=name, fix="name the format the tool wrote (CLI: --format plink-assoc, "
                                "plink-qassoc, plink2-glm or metal), or map the column: "
                                f"columns={{'{name}': 'YOUR_COLUMN'}} (CLI: --columns {name}=YOUR_COLUMN)")
        _need(raw, path, list(mapping.values()), fmt)
        kwargs = {}
        for name, column in mapping.items():
            kwargs[name] = _num(raw, column, path) if name in ("pos", "beta", "se", "p", "n") else raw[column]
        return _standard(path, fmt, raw, **kwargs)
    raise DataError(f"unknown summary-statistics format '{fmt}'", file=path, field="fmt",
                    fix="use one of auto, plink-assoc, plink-qassoc, plink2-glm, metal, tsv")


def validate_sumstats(frame: pd.DataFrame, file: str | Path | None = None) -> None:
    """Raise :class:`DataError` on missing variant ids or p-values, p outside (0, 1], duplicated ids (row: the
    frame's index + 1, the file line for a frame read here)."""
    file = file or frame.attrs.get("file")
    missing = frame["variant"].isna()
    if missing.any():
        raise DataError("missing variant id", file=file, field="variant", row=_line(frame, int(np.flatnonzero(missing)[0])),
                        fix="fill in or remove the row")
    p = frame["p"].to_numpy(dtype=float)
    bad = ~((p > 0) & (p <= 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"p-value {p[row]} is not a number in (0, 1] ({int(bad.sum())} such row(s))", file=file,
                        field="p", row=_line(frame, row),
                        fix="give p-values (not -log10 p) in (0, 1]; remove rows without a p-value "
                            "(PLINK writes NA for untestable variants)")
    dup = frame["variant"].duplicated(keep=False)
    if dup.any():
        first = frame.loc[dup, "variant"].iloc[0]
        rows = [_line(frame, i) for i in np.flatnonzero((frame["variant"] == first).to_numpy())]
        raise DataError(f"variant id '{first}' appears more than once (rows {rows[:5]})", file=file,
                        field="variant", row=rows[0],
                        fix="keep one row per variant (e.g. `plink2 --rm-dup`, or give multi-allelic sites unique ids)")


def read_sumstats_file(
    path: str | Path, fmt: str = "auto", columns: dict[str, str] | None = None, *, effects_needed: bool = False
) -> pd.DataFrame:
    """Read one summary-statistics file into the standard frame.

    Parameters
    ----------
    path
        The file (whitespace-, tab- or comma-delimited, with a header).
    fmt
        ``auto`` (from the header), ``plink-assoc``, ``plink-qassoc``,
        ``plink2-glm``, ``metal`` or ``tsv``.
    columns
        For ``tsv`` (or an unrecognised header): standard name → file column,
        e.g. ``{"variant": "rsid", "p": "PVAL", "effect_allele": "EA"}``.
    effects_needed
        The caller combines effect sizes (meta-analysis): a multi-trait joint-test
        table, which has none, is refused with the fix.

    Returns
    -------
    pandas.DataFrame
        :data:`STANDARD_COLUMNS`, file order; ``attrs["format"]`` names the format.

    Raises
    ------
    DataError
        Missing columns, non-numeric values, p outside (0, 1], duplicated ids,
        chromosome codes PLINK rejects.
    """
    path = Path(path)
    raw = _read_table(path)
    if raw.empty:
        raise DataError("the file has a header line but no data rows", file=path,
                        fix="give the summary statistics with their rows (was the run that wrote it cut short?)")
    if effects_needed:
        _refuse_joint_test(raw, path)
    if fmt == "auto":
        fmt = "tsv" if columns else (detect_format(list(raw.columns)) or "tsv")
    frame = _parse(path, raw, fmt, columns)
    validate_sumstats(frame, path)
    return frame.reset_index(drop=True)

