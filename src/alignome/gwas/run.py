"""Genome-wide scan: match samples, stream ``.bed`` blocks, write PLINK2-style tables."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from alignome.errors import DataError
from alignome.gwas.blocks import _stream, map_blocks
from alignome.gwas.packed import PackedBlock
from alignome.gwas.multitrait import METHODS, multitrait_assoc
from alignome.gwas.singletrait import linear_assoc
from alignome.gwas.stream import open_bed_stream

SINGLE_COLUMNS = ["#CHROM", "POS", "ID", "REF", "ALT", "A1", "OBS_CT", "BETA", "SE", "T_STAT", "P"]
MULTI_COLUMNS = ["#CHROM", "POS", "ID", "REF", "ALT", "A1", "OBS_CT", "D", "LRT", "P", "METHOD"]


@dataclass(frozen=True)
class SampleMatch:
    """How many samples each input has and how many the scan uses."""

    fam: int
    pheno: int
    covar: int | None
    overlap: int
    used: int

    def describe(self) -> str:
        """One line for logs."""
        cov = "" if self.covar is None else f", {self.covar} in covariates"
        return (f"{self.fam} samples in .fam, {self.pheno} with phenotypes{cov}; {self.overlap} in common, "
                f"{self.used} with complete phenotypes/covariates")


def _keyed(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """Index ``frame`` by IID (an ``IID``/``#IID`` column, else its index), numeric columns only."""
    frame = frame.copy()
    for col in ("IID", "#IID"):
        if col in frame.columns:
            frame = frame.set_index(col)
            break
    frame.index = pd.Index(frame.index.astype(str), name="IID")
    frame = frame.drop(columns=[c for c in ("FID", "#FID") if c in frame.columns])
    if frame.index.duplicated().any():
        dup = frame.index[frame.index.duplicated()][0]
        raise DataError(f"duplicated IID '{dup}' in the {what} table", field="IID", fix="give each sample one row")
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataError(f"non-numeric {what} column(s) {bad[:5]}", field=str(bad[0]),
                        fix=f"keep only numeric {what} columns (encode categories as 0/1 columns)")
    if frame.shape[1] == 0:
        raise DataError(f"the {what} table has no value columns", fix=f"give at least one numeric {what} column")
    return frame.astype(np.float64)


def _annotation(variants: pd.DataFrame, sl: slice) -> dict[str, np.ndarray]:
    v = variants.iloc[sl]
    return {"#CHROM": v["chrom"].to_numpy(), "POS": v["pos"].to_numpy(), "ID": v["id"].to_numpy(),
            "REF": v["ref"].to_numpy(), "ALT": v["alt"].to_numpy(), "A1": v["alt"].to_numpy()}


def _assoc_block(g: np.ndarray, start: int, stop: int, y: np.ndarray, x: np.ndarray | None, mode: str,
                 method: str, missing: str, traits: list[str]) -> list[dict]:
    """Test one block of variants; columns without annotation (added by the caller)."""
    if mode == "multi":
        r = multitrait_assoc(y, g, x, method=method, missing=missing)
        cols = {"OBS_CT": r.obs_ct, "D": np.full(stop - start, r.n_traits), "LRT": r.stat, "P": r.p,
                "METHOD": np.full(stop - start, r.method, dtype=object)}
        for k, name in enumerate(traits):
            cols[f"BETA_{name}"] = r.beta[k]
        return [cols]
    # traits with the same samples are tested together: the genotype block is projected once for all of them
    finite = np.isfinite(y)
    groups: dict[bytes, list[int]] = {}
    for k in range(len(traits)):
        groups.setdefault(np.packbits(finite[:, k]).tobytes(), []).append(k)
    parts: list[dict | None] = [None] * len(traits)
    for ks in groups.values():
        keep = finite[:, ks[0]]
        if keep.all():
            r = linear_assoc(y[:, ks], g, x, missing=missing)
        else:
            sub = g.take_rows(keep) if isinstance(g, PackedBlock) else g[keep]
            r = linear_assoc(y[keep][:, ks], sub, None if x is None else x[keep], missing=missing)
        for i, k in enumerate(ks):
            parts[k] = {"PHENO": traits[k], "OBS_CT": r.obs_ct, "BETA": r.beta[i], "SE": r.se[i], "T_STAT": r.t[i],
                        "P": r.p[i]}
    return parts


_assoc_block.accepts_packed = True  # map_blocks hands it a PackedBlock: products come from the .bed bytes


def _open_stream(bfile: str | Path):
    """The fileset's :class:`BedStream`, shared with the block tasks of this process (opened once)."""
    prefix = Path(bfile)
    if prefix.suffix in (".bed", ".bim", ".fam"):
        prefix = prefix.with_suffix("")
    bed = Path(f"{prefix}.bed")
    if bed.is_file():
        return _stream(str(bed))
    return open_bed_stream(bfile)  # raises the DataError that names the missing file


@dataclass(frozen=True)
class TrainedOverlap:
    """Overlap of the GWAS samples with the samples the embeddings were trained on."""

    trained: int
    overlap: int
    excluded: int

    def describe(self) -> str:
        """One line for logs."""
        if self.excluded:
            return (f"excluded {self.excluded} GWAS sample(s) that the embeddings were trained on "
                    f"({self.trained} training IDs listed)")
        if self.overlap:
            return (f"WARNING: {self.overlap} GWAS sample(s) were in the embedding training set "
                    f"({self.trained} training IDs listed): associations on them are optimistic; "
                    f"use --exclude-trained to drop them")
        return f"no GWAS sample is among the {self.trained} training IDs"


def run_gwas(
    bfile: str | Path,
    pheno: pd.DataFrame,
    covar: pd.DataFrame | None = None,
    *,
    mode: str = "multi",
    method: str = "lrt",
    block_size: int = 1000,
    missing: str = "drop",
    genetic_pcs: int = 0,
    pca_seed: int = 0,
    trained_on: Iterable[str] | None = None,
    exclude_trained: bool = False,
    scheduler: Any = None,
    threads: int | None = None,
    out: str | Path | None = None,
) -> pd.DataFrame:
    """Scan every variant of a PLINK fileset against the phenotypes.

    Parameters
    ----------
    bfile
        PLINK 1 binary prefix (``.bed/.bim/.fam``).
    pheno
        Traits keyed by IID (index, or an ``IID`` column; ``FID`` ignored).
    covar
        Covariates keyed the same way, or None (an intercept is always fitted).
    mode
        "multi": one joint D-trait test per variant (samples with any missing
        trait dropped); "single": a plink2 ``--glm`` t-test per trait column
        (each trait uses its own non-missing samples).
    method
        Multi-trait statistic: "lrt" (paper 003), "ml" or "wilks".
    block_size
        Variants read and tested at a time.
    missing
        "drop" (per-variant, like plink2) or "mean" for missing genotypes.
    genetic_pcs
        K > 0 adds the top K genetic PCs (:func:`alignome.gwas.pca.genetic_pcs`,
        computed on the samples the scan uses, seeded by ``pca_seed``) to the
        covariates as ``GPC1..GPCK``.
    trained_on
        IIDs the embeddings were trained on: the overlap with the GWAS samples
        is counted (``attrs["trained"]``) and warned about.
    exclude_trained
        Drop the ``trained_on`` samples from the scan.
    scheduler
        None (in-process), "threads"/"processes"/"synchronous" (local Dask),
        a ``dask.distributed`` address or Client: see :mod:`alignome.gwas.blocks`.
        Results are identical whatever runs the blocks.
    threads
        With ``scheduler=None``: threads testing blocks in parallel (default
        ``$ALIGNOME_THREADS``, else every usable core); BLAS is held to one
        thread meanwhile.  Results do not depend on it.
    out
        Output prefix.  Single: ``{out}.{pheno}.glm.linear`` per trait and
        ``{out}.single.parquet``; multi: ``{out}.multi.tsv`` and
        ``{out}.multi.parquet``; with genetic PCs also ``{out}.eigenvec``.

    Returns
    -------
    pandas.DataFrame
        Single mode: ``PHENO`` + :data:`SINGLE_COLUMNS`; multi mode:
        :data:`MULTI_COLUMNS` + ``BETA_<trait>``.  ``attrs["samples"]`` holds
        the :class:`SampleMatch`, ``attrs["trained"]`` a :class:`TrainedOverlap`
        (or None), ``attrs["genetic_pcs"]`` the :class:`~alignome.gwas.pca.GeneticPCs`
        (or None).  A1 is the ``.bim`` column-5 allele (ALT).
    """
    if mode not in ("multi", "single"):
        raise ValueError(f"mode must be 'multi' or 'single', got {mode!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if genetic_pcs < 0:
        raise ValueError(f"genetic_pcs must be ≥ 0, got {genetic_pcs}")
    stream = _open_stream(bfile)
    ph = _keyed(pheno, "phenotype")
    cv = None if covar is None else _keyed(covar, "covariate")
    common = stream.samples[stream.samples.isin(ph.index)]
    if cv is not None:
        common = common[common.isin(cv.index)]
    if len(common) == 0:
        raise DataError(
            f"no sample IID of the .fam file is in the phenotype{'/covariate' if cv is not None else ''} table "
            f"(.fam: {list(stream.samples[:3])}…, phenotypes: {list(ph.index[:3])}…)",
            file=stream.bed.with_suffix(".fam"), field="IID",
            fix="key the phenotype (and covariate) table by the .fam IIDs (column 2)")
    ok = np.ones(len(common), dtype=bool)
    if cv is not None:
        ok &= np.isfinite(cv.loc[common].to_numpy()).all(axis=1)
    ymat = ph.loc[common].to_numpy()
    if mode == "multi":
        ok &= np.isfinite(ymat).all(axis=1)
    else:
        ok &= np.isfinite(ymat).any(axis=1)
    used = common[ok]
    trained = None
    if trained_on is not None:
        train_ids = pd.Index(pd.unique(pd.Index([str(t) for t in trained_on])))
        overlap = int(used.isin(train_ids).sum())
        if exclude_trained:
            used = used[~used.isin(train_ids)]
        trained = TrainedOverlap(trained=len(train_ids), overlap=overlap, excluded=overlap if exclude_trained else 0)
        if overlap and not exclude_trained:
            warnings.warn(trained.describe(), UserWarning, stacklevel=2)
    elif exclude_trained:
        raise ValueError("exclude_trained needs trained_on (the training sample IDs)")
    match = SampleMatch(fam=len(stream.samples), pheno=len(ph), covar=None if cv is None else len(cv),
                        overlap=len(common), used=len(used))
    if len(used) == 0:
        raise DataError("no sample has complete phenotypes and covariates"
                        + (" outside the training set" if trained and trained.excluded else ""), field="IID",
                        fix="check for missing values (NaN) in the phenotype/covariate tables")
    rows = stream.samples.get_indexer(used)
    y = ph.loc[used].to_numpy()
    x = None if cv is None else cv.loc[used].to_numpy()
    pcs = None
    if genetic_pcs:
        from alignome.gwas.pca import genetic_pcs as compute_pcs

        pcs = compute_pcs(bfile, genetic_pcs, used, seed=pca_seed, block_size=block_size, scheduler=scheduler)
        gpc = pcs.scores.to_numpy()
        x = gpc if x is None else np.hstack([x, gpc])
    traits = [str(c) for c in ph.columns]
    m = len(stream.variants)
    results = map_blocks(_assoc_block, stream.bed, rows, m, block_size, y, x, mode, method, missing, traits,
                         scheduler=scheduler, threads=threads)
    # gather the per-block columns (block order), then build one frame per trait: no per-block DataFrames
    columns: list[dict[str, list]] = []
    for cols_list in results:
        if not columns:
            columns = [{k: [] for k in cols if k != "PHENO"} for cols in cols_list]
        for store, cols in zip(columns, cols_list):
            for k, v in store.items():
                v.append(cols[k])
    # string annotation converted to pandas' str dtype once, not once per trait frame
    ann = {k: pd.array(v, dtype="str") if v.dtype == object else v
           for k, v in _annotation(stream.variants, slice(0, m)).items()}
    if not columns:  # no variant at all
        empty = MULTI_COLUMNS if mode == "multi" else ["PHENO", *SINGLE_COLUMNS]
        result = pd.DataFrame({c: [] for c in empty})
    elif mode == "multi":
        result = pd.DataFrame({**ann, **{k: np.concatenate(v) for k, v in columns[0].items()}})
    else:
        # all traits in one frame (trait-major rows), column by column: no per-trait frames to concatenate; the
        # string columns are repeated as chunks of the same Arrow data, not rebuilt from Python objects
        n_traits = len(columns)

        def repeat(v):
            if isinstance(v, pd.api.extensions.ExtensionArray):
                return pd.concat([pd.Series(v, copy=False)] * n_traits, ignore_index=True)
            return np.tile(v, n_traits)

        names = pd.array(traits[:n_traits], dtype="str")
        result = pd.DataFrame({
            "PHENO": pd.concat([pd.Series(names.take(np.full(m, i))) for i in range(n_traits)], ignore_index=True),
            **{k: repeat(v) for k, v in ann.items()},
            **{k: np.concatenate([np.concatenate(store[k]) for store in columns]) for k in columns[0]},
        })
    result.attrs["samples"] = match
    result.attrs["trained"] = trained
    result.attrs["genetic_pcs"] = pcs
    if out is not None:
        write_results(result, out, mode)
        if pcs is not None:
            outp = Path(out)
            frame = pcs.scores.reset_index().rename(columns={"IID": "#IID"})
            frame.to_csv(outp.parent / f"{outp.name}.eigenvec", sep="\t", index=False, float_format="%.8g")
    return result


def _write_tsv(frame: pd.DataFrame, path: Path) -> None:
    """Tab-separated, unquoted, ``NA`` for missing, floats in shortest round-trip form (pyarrow's writer)."""
    import pyarrow as pa
    from pyarrow import csv

    arrays = []
    for name in frame.columns:
        column = frame[name]
        try:
            arr = pa.array(column, from_pandas=True)  # NaN → null → "NA"
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arr = pa.array([None if v is None or (isinstance(v, float) and v != v) else str(v) for v in column],
                           type=pa.string())
        arrays.append(arr)
    table = pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])
    options = csv.WriteOptions(include_header=True, delimiter="\t", quoting_style="none", quoting_header="none",
                               null_string="NA")
    csv.write_csv(table, str(path), write_options=options)


def _trait_frames(result: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """``result.groupby("PHENO", sort=False)`` without the grouping pass when each trait is one contiguous run
    of rows (as :func:`run_gwas` builds it): the same frames, sliced."""
    pheno = result["PHENO"].to_numpy()
    if len(pheno):
        cuts = np.flatnonzero(pheno[1:] != pheno[:-1]) + 1
        starts = np.concatenate([[0], cuts])
        names = pheno[starts]
        if len(set(names.tolist())) == len(names):
            stops = np.concatenate([cuts, [len(pheno)]])
            return [(name, result.iloc[a:b]) for name, a, b in zip(names, starts, stops)]
    return list(result.groupby("PHENO", sort=False))


def write_results(result: pd.DataFrame, out: str | Path, mode: str) -> list[Path]:
    """Write ``result`` as TSV (plink2-like) and Parquet; return the paths written.

    The files are written concurrently (pyarrow formats and compresses outside the GIL).
    """
    from concurrent.futures import ThreadPoolExecutor

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[pd.DataFrame, Path]] = []
    if mode == "single":
        for name, frame in _trait_frames(result):
            jobs.append((frame.drop(columns="PHENO"), out.parent / f"{out.name}.{name}.glm.linear"))
        parquet = out.parent / f"{out.name}.single.parquet"
    else:
        jobs.append((result, out.parent / f"{out.name}.multi.tsv"))
        parquet = out.parent / f"{out.name}.multi.parquet"

    def write_parquet() -> None:
        frame = result.copy(deep=False)  # copy-on-write: the column set below does not touch ``result``
        frame["#CHROM"] = frame["#CHROM"].astype(str)
        frame.attrs = {}
        frame.to_parquet(parquet, index=False)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="alignome-write") as pool:
        futures = [pool.submit(write_parquet)] + [pool.submit(_write_tsv, frame, path) for frame, path in jobs]
        for fut in futures:
            fut.result()
    return [path for _, path in jobs] + [parquet]
