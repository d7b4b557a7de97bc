"""Genome-wide scan: match samples, stream ``.bed`` blocks, write PLINK2-style tables."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from alignome.errors import DataError
from alignome.gwas.blocks import _stream, block_ranges, map_blocks
from alignome.gwas.multitrait import METHODS, multitrait_assoc
from alignome.gwas.packed import PackedBlock
from alignome.gwas.sex_chromosomes import HAPLOID, chromosome_runs, samples_tested
from alignome.gwas.singletrait import linear_assoc
from alignome.gwas.stream import Variants, open_bed_stream
from alignome.gwas.testable import (
    SkippedTrait,
    check_multi_trait_size,
    check_some_left,
    constant_traits,
    empty_traits,
)
from alignome.gwas.traits import TraitTable, as_trait_table
from alignome.gwas.writer import ResultWriter, annotation_arrays, annotation_columns

if TYPE_CHECKING:
    import pandas as pd

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


@dataclass
class _ScanSetup:
    """Everything a scan needs once the samples are matched: the fileset, Y, X and their .fam rows."""

    stream: Any
    rows: np.ndarray
    y: np.ndarray
    x: np.ndarray | None
    traits: list[str]
    sex: np.ndarray
    samples: SampleMatch
    trained: TrainedOverlap | None
    pcs: Any
    skipped: list[SkippedTrait]


def _setup(bfile, pheno, covar, mode, method, genetic_pcs, pca_seed, trained_on, exclude_trained, block_size,
           scheduler) -> _ScanSetup:
    """Check the arguments, match samples across .fam, phenotypes and covariates, add genetic PCs."""
    if mode not in ("multi", "single"):
        raise ValueError(f"mode must be 'multi' or 'single', got {mode!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if genetic_pcs < 0:
        raise ValueError(f"genetic_pcs must be ≥ 0, got {genetic_pcs}")
    stream = _open_stream(bfile)
    ph = as_trait_table(pheno, "phenotype")
    cv = None if covar is None else as_trait_table(covar, "covariate")
    n_fam = len(stream.samples)
    # for each .fam sample, its row in the phenotype (covariate) table, −1 where it has none
    ph_row = _rows_by_fam(stream, ph)
    cv_row = None if cv is None else _rows_by_fam(stream, cv)
    common = np.flatnonzero((ph_row >= 0) & (True if cv_row is None else cv_row >= 0))  # .fam rows, .fam order
    if len(common) == 0:
        raise DataError(
            f"no sample IID of the .fam file is in the phenotype{'/covariate' if cv is not None else ''} table "
            f"(.fam: {list(stream.samples[:3])}…, phenotypes: {list(ph.ids[:3])}…)",
            file=stream.bed.with_suffix(".fam"), field="IID",
            fix="key the phenotype (and covariate) table by the .fam IIDs (column 2)")
    ok = np.ones(len(common), dtype=bool)
    if cv is not None:
        ok &= np.isfinite(cv.values[cv_row[common]]).all(axis=1)
    # traits without a value are skipped (plink2 does too); so are those constant on the samples used, below
    skipped = empty_traits(ph.values[ph_row[common[ok]]], ph.names)
    kept = [k for k, name in enumerate(ph.names) if name not in {s.name for s in skipped}]
    check_some_left(ph.names, skipped)
    ymat = ph.values[ph_row[common]][:, kept]
    if mode == "multi":
        ok &= np.isfinite(ymat).all(axis=1)
    else:
        ok &= np.isfinite(ymat).any(axis=1)
    used = common[ok]
    trained = None
    if trained_on is not None:
        train_ids = {str(t) for t in trained_on}
        in_training = np.fromiter((iid in train_ids for iid in stream.samples[used]), dtype=bool, count=len(used))
        overlap = int(in_training.sum())
        if exclude_trained:
            used = used[~in_training]
        trained = TrainedOverlap(trained=len(train_ids), overlap=overlap, excluded=overlap if exclude_trained else 0)
        if overlap and not exclude_trained:
            warnings.warn(trained.describe(), UserWarning, stacklevel=2)
    elif exclude_trained:
        raise ValueError("exclude_trained needs trained_on (the training sample IDs)")
    match = SampleMatch(fam=n_fam, pheno=len(ph), covar=None if cv is None else len(cv),
                        overlap=len(common), used=len(used))
    if len(used) == 0:
        raise DataError("no sample has complete phenotypes and covariates"
                        + (" outside the training set" if trained and trained.excluded else ""), field="IID",
                        fix="check for missing values (NaN) in the phenotype/covariate tables")
    y = ph.values[ph_row[used]][:, kept]
    constant = constant_traits(y, [ph.names[k] for k in kept])
    skipped += constant
    check_some_left(ph.names, skipped)
    if constant:
        kept = [k for k in kept if ph.names[k] not in {s.name for s in constant}]
        y = ph.values[ph_row[used]][:, kept]
        if mode == "single":  # samples with a value of a tested trait only
            some = np.isfinite(y).any(axis=1)
            used, y = used[some], y[some]
            match = replace(match, used=len(used))
    rows = used
    x = None if cv is None else cv.values[cv_row[used]]
    pcs = None
    if genetic_pcs:
        from alignome.gwas.pca import genetic_pcs as compute_pcs

        pcs = compute_pcs(bfile, genetic_pcs, stream.samples[used], seed=pca_seed, block_size=block_size,
                          scheduler=scheduler)
        gpc = pcs.scores.to_numpy()
        x = gpc if x is None else np.hstack([x, gpc])
    if mode == "multi":
        check_multi_trait_size(len(rows), 0 if x is None else x.shape[1], len(kept))
    return _ScanSetup(stream=stream, rows=rows, y=y, x=x, traits=[ph.names[k] for k in kept], sex=stream.sex[rows],
                      samples=match, trained=trained, pcs=pcs, skipped=skipped)


def _rows_by_fam(stream, table: TraitTable) -> np.ndarray:
    """For each ``.fam`` sample, its row in ``table`` (−1 where the table has none)."""
    fam_row = stream.sample_rows(table.ids)
    rows = np.full(len(stream.samples), -1, dtype=np.intp)
    present = fam_row >= 0
    rows[fam_row[present]] = np.flatnonzero(present)
    return rows


def _scan_blocks(setup: _ScanSetup, mode: str, method: str, missing: str, block_size: int, scheduler: Any,
                 threads: int | None):
    """``(start, stop, parts)`` of every variant block, in block order (parts: one dict, or one per trait).

    The sex chromosomes are scanned with their own samples and covariates (:mod:`alignome.gwas.sex_chromosomes`).
    """
    stream = setup.stream
    for first, last, kind in chromosome_runs(stream.variants["chrom"]):
        keep, sex_covariate = samples_tested(kind, setup.sex)
        if keep is None:  # e.g. chrY without males: no test
            for start, stop in block_ranges(last, block_size, first):
                yield start, stop, _untested(mode, method, setup.traits, stop - start)
            continue
        y, x = setup.y[keep], None if setup.x is None else setup.x[keep]
        if sex_covariate is not None:
            x = sex_covariate[:, None] if x is None else np.column_stack([x, sex_covariate])
        results = map_blocks(_assoc_block, stream.bed, setup.rows[keep], last, block_size, y, x, mode, method,
                             missing, setup.traits, scheduler=scheduler, threads=threads, first=first)
        for (start, stop), parts in zip(block_ranges(last, block_size, first), results):
            yield start, stop, (_per_haploid_copy(parts) if kind in HAPLOID else parts)


def _per_haploid_copy(parts: list[dict]) -> list[dict]:
    """Effects per copy of a haploid call (0/1, as plink2 counts chrY/chrMT) from those per stored count (0/2)."""
    return [{k: 2.0 * v if k in ("BETA", "SE") or k.startswith("BETA_") else v for k, v in cols.items()}
            for cols in parts]


def _untested(mode: str, method: str, traits: list[str], k: int) -> list[dict]:
    """Result columns of ``k`` variants that have no sample to test."""
    nan, zero = np.full(k, np.nan), np.zeros(k, dtype=np.int64)
    if mode == "multi":
        return [{"OBS_CT": zero, "D": np.full(k, len(traits)), "LRT": nan, "P": nan,
                 "METHOD": np.full(k, method, dtype=object), **{f"BETA_{t}": nan for t in traits}}]
    return [{"PHENO": t, "OBS_CT": zero, "BETA": nan, "SE": nan, "T_STAT": nan, "P": nan} for t in traits]


def _write_eigenvec(pcs, out: str | Path) -> Path:
    outp = Path(out)
    path = outp.parent / f"{outp.name}.eigenvec"
    frame = pcs.scores.reset_index().rename(columns={"IID": "#IID"})
    frame.to_csv(path, sep="\t", index=False, float_format="%.8g")
    return path


def run_gwas(
    bfile: str | Path,
    pheno: pd.DataFrame | TraitTable,
    covar: pd.DataFrame | TraitTable | None = None,
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
        Traits keyed by IID (index, or an ``IID`` column; ``FID`` ignored), or a
        :class:`~alignome.gwas.traits.TraitTable`.
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
        Output prefix, written block by block as the scan goes (:class:`~alignome.gwas.writer.ResultWriter`).
        Single: ``{out}.{pheno}.glm.linear`` per trait and
        ``{out}.single.parquet``; multi: ``{out}.multi.tsv`` and
        ``{out}.multi.parquet``; with genetic PCs also ``{out}.eigenvec``.

    Returns
    -------
    pandas.DataFrame
        Single mode: ``PHENO`` + :data:`SINGLE_COLUMNS`; multi mode:
        :data:`MULTI_COLUMNS` + ``BETA_<trait>``.  ``attrs["samples"]`` holds
        the :class:`SampleMatch`, ``attrs["trained"]`` a :class:`TrainedOverlap`
        (or None), ``attrs["genetic_pcs"]`` the :class:`~alignome.gwas.pca.GeneticPCs`
        (or None), ``attrs["skipped"]`` the traits left out (no values, or constant:
        :class:`~alignome.gwas.testable.SkippedTrait`, as plink2 skips them).  A1 is the ``.bim`` column-5 allele (ALT).
    """
    import pandas as pd

    setup = _setup(bfile, pheno, covar, mode, method, genetic_pcs, pca_seed, trained_on, exclude_trained,
                   block_size, scheduler)
    stream, traits, m = setup.stream, setup.traits, len(setup.stream.variants)
    writer = None if out is None else ResultWriter(out, mode, traits, annotation_columns(stream.variants))
    # gather the per-block columns (block order), then build one frame for all traits: no per-block DataFrames
    columns: list[dict[str, list]] = []
    with writer or nullcontext():
        for start, stop, cols_list in _scan_blocks(setup, mode, method, missing, block_size, scheduler, threads):
            if writer is not None:
                writer.add(start, stop, cols_list)
            if not columns:
                columns = [{k: [] for k in cols if k != "PHENO"} for cols in cols_list]
            for store, cols in zip(columns, cols_list):
                for k, v in store.items():
                    v.append(cols[k])
    # string annotation converted to pandas' str dtype once, not once per trait frame
    ann = {k: pd.array(v, dtype="str") if v.dtype == object else v
           for k, v in annotation_arrays(stream.variants).items()}
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
    result.attrs["samples"] = setup.samples
    result.attrs["trained"] = setup.trained
    result.attrs["genetic_pcs"] = setup.pcs
    result.attrs["skipped"] = setup.skipped
    if out is not None and setup.pcs is not None:
        _write_eigenvec(setup.pcs, out)
    return result


@dataclass
class GwasScan:
    """A scan written to files by :func:`scan_gwas`: what the report needs, memory O(variants · tests).

    Attributes
    ----------
    mode, method, traits
        As passed to :func:`scan_gwas`.
    variants
        The variants (``.bim`` order, :class:`~alignome.gwas.stream.Variants`): ``variants["ID"]``,
        ``variants["#CHROM"]``, … as arrays; ``len(variants)`` variants.
    p
        P of every variant per test: the key "multi" (multi mode) or each trait (single mode).
    samples, trained, genetic_pcs, skipped
        As ``run_gwas``'s ``attrs``.
    files
        The result files written.
    """

    mode: str
    method: str
    traits: list[str]
    variants: Variants
    p: dict[str, np.ndarray]
    samples: SampleMatch
    trained: TrainedOverlap | None
    genetic_pcs: Any
    files: list[Path]
    skipped: list[SkippedTrait]

    @property
    def n_variants(self) -> int:
        return len(self.variants)

    def test_frame(self, name: str) -> pd.DataFrame:
        """``#CHROM POS ID P`` of one test (a trait, or "multi"), one row per variant."""
        import pandas as pd

        v = self.variants
        return pd.DataFrame({"#CHROM": v.chrom, "POS": v.pos, "ID": v.id, "P": self.p[name]})

    def smallest_p(self) -> tuple[float, str] | None:
        """The smallest P of all tests and its variant ID; None when no test has a P."""
        best = None
        for p in self.p.values():
            if np.isfinite(p).any():
                i = int(np.nanargmin(p))
                if best is None or p[i] < best[0]:
                    best = (float(p[i]), str(self.variants["ID"][i]))
        return best


def scan_gwas(bfile: str | Path, pheno: pd.DataFrame | TraitTable, covar: pd.DataFrame | TraitTable | None = None, *,
              out: str | Path,
              mode: str = "multi", method: str = "lrt", block_size: int = 1000, missing: str = "drop",
              genetic_pcs: int = 0, pca_seed: int = 0, trained_on: Iterable[str] | None = None,
              exclude_trained: bool = False, scheduler: Any = None, threads: int | None = None) -> GwasScan:
    """:func:`run_gwas` for scans of any size: results go to the files of ``out`` as blocks finish.

    Same arguments, tests and files as :func:`run_gwas`; instead of the whole result
    table it keeps only each test's P per variant (8 bytes per variant and test), for
    λGC, plots, loci and recovery (:func:`alignome.gwas.report.report_gwas`).
    """
    setup = _setup(bfile, pheno, covar, mode, method, genetic_pcs, pca_seed, trained_on, exclude_trained,
                   block_size, scheduler)
    names = ["multi"] if mode == "multi" else setup.traits
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in names}
    with ResultWriter(out, mode, setup.traits, annotation_columns(setup.stream.variants)) as writer:
        for start, stop, parts in _scan_blocks(setup, mode, method, missing, block_size, scheduler, threads):
            writer.add(start, stop, parts)
            for name, cols in zip(names, parts):
                chunks[name].append(np.asarray(cols["P"], dtype=np.float64))
    files = writer.paths
    if setup.pcs is not None:
        files.append(_write_eigenvec(setup.pcs, out))
    p = {name: np.concatenate(c) if c else np.zeros(0) for name, c in chunks.items()}
    return GwasScan(mode=mode, method=method, traits=setup.traits, variants=setup.stream.variants, p=p,
                    samples=setup.samples, trained=setup.trained, genetic_pcs=setup.pcs, files=files,
                    skipped=setup.skipped)


