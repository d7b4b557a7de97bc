"""Write a genome scan's results block by block: plink2-style TSV and Parquet, memory flat in variants.

:class:`ResultWriter` takes each variant block's result columns as the scan yields
them (in block order) and appends them to the output files, a few tens of thousands
of rows at a time: one ``{out}.multi.tsv`` (multi mode) or one
``{out}.{trait}.glm.linear`` per trait (single mode), plus ``{out}.multi.parquet`` /
``{out}.single.parquet`` (single: a ``PHENO`` column; rows in block order, every
trait of a block before the next block).  Formatting and compression run outside the
GIL on writing threads, so writing overlaps the block workers' computing.

The TSVs are written as plink2 writes its ``.glm.linear`` files: floats with six
significant digits (``%.6g``, :mod:`alignome.gwas.tsv`), missing values as ``NA``, so
they can be compared with plink2's line by line.  The Parquet files keep every value at
full precision (missing values as nulls): read those for further computation.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from alignome.gwas.arrow_arrays import column, repeated
from alignome.gwas.tsv import format_rows, header

#: Rows buffered per output file before they are handed to the writing threads (a Parquet row group each).
ROWS_PER_WRITE = 1 << 15
#: Hand-overs being written at a time; the scan waits beyond that (memory: this many × the rows of one).
MAX_HANDOVERS = 3
WRITING_THREADS = 3


def annotation_arrays(variants) -> dict[str, np.ndarray]:
    """The variant columns of every result row (``#CHROM POS ID REF ALT A1``; A1 is ALT, the ``.bim``'s
    column-5 allele that is counted) of a :class:`~alignome.gwas.stream.BedStream`'s variants (any mapping
    of ``chrom pos id ref alt`` to arrays, a DataFrame included)."""
    alt = np.asarray(variants["alt"])
    return {"#CHROM": np.asarray(variants["chrom"]), "POS": np.asarray(variants["pos"]),
            "ID": np.asarray(variants["id"]), "REF": np.asarray(variants["ref"]), "ALT": alt, "A1": alt}


def annotation_columns(variants) -> dict[str, pa.Array]:
    """:func:`annotation_arrays` as whole-``.bim`` Arrow arrays (text columns as strings).

    Converted once and sliced per block (zero-copy), not rebuilt from Python strings per block and trait.
    """
    arrays = annotation_arrays(variants)
    alt = column(arrays["ALT"])  # A1 is ALT: converted once
    return {name: alt if name in ("ALT", "A1") else column(values) for name, values in arrays.items()}


#: Parquet columns with few distinct values, dictionary-encoded (a variant ID column is not worth it).
_FEW_VALUES = ("PHENO", "#CHROM", "REF", "ALT", "A1", "METHOD", "D")
#: Parquet columns with min/max statistics per row group, for readers that filter on them (e.g. P < 5e-8);
#: statistics on every column cost a third of the Parquet writing time.
_FILTERED = ("PHENO", "#CHROM", "POS", "P")


class ResultWriter:
    """Append per-block results of a scan to its TSV and Parquet files (see the module docstring).

    Use as a context manager; :meth:`add` once per block in block order.  Files are
    written under a ``.partial`` suffix and renamed when the writer closes after a
    complete scan; a scan that fails leaves no result file behind.
    """

    def __init__(self, out: str | Path, mode: str, traits: list[str], annotation: dict[str, pa.Array],
                 rows_per_write: int = ROWS_PER_WRITE):
        if mode not in ("multi", "single"):
            raise ValueError(f"mode must be 'multi' or 'single', got {mode!r}")
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        self.mode, self.traits, self.annotation = mode, list(traits), annotation
        self.rows_per_write = rows_per_write
        if mode == "multi":
            self.tsv_paths = [out.parent / f"{out.name}.multi.tsv"]
            self.parquet_path = out.parent / f"{out.name}.multi.parquet"
        else:
            self.tsv_paths = [out.parent / f"{out.name}.{t}.glm.linear" for t in self.traits]
            self.parquet_path = out.parent / f"{out.name}.single.parquet"
        self._pending: list[list[dict[str, np.ndarray]]] = [[] for _ in self.tsv_paths]
        self._span: tuple[int, int] | None = None  # variants queued
        self._tsv: list[BinaryIO | None] = [None] * len(self.tsv_paths)
        self._parquet: pq.ParquetWriter | None = None
        self._pool = ThreadPoolExecutor(max_workers=WRITING_THREADS, thread_name_prefix="alignome-write")
        self._handovers: deque[list[Future]] = deque()  # futures of each hand-over not yet waited for
        self._last: list[Future] = []  # each file's latest write

    @property
    def paths(self) -> list[Path]:
        """Every file this writer writes."""
        return [*self.tsv_paths, self.parquet_path]

    def add(self, start: int, stop: int, parts: list[dict[str, np.ndarray]]) -> None:
        """Queue the result columns of variants ``start:stop``: one dict (multi) or one per trait (single).

        Blocks must come in order, each starting where the previous one stopped.
        """
        if len(parts) != len(self.tsv_paths):
            raise ValueError(f"expected {len(self.tsv_paths)} result part(s) per block, got {len(parts)}")
        if self._span is not None and start != self._span[1]:
            raise ValueError(f"blocks must come in order: variants {start}:{stop} after …:{self._span[1]}")
        self._span = (start if self._span is None else self._span[0], stop)
        for pending, cols in zip(self._pending, parts):
            pending.append({k: v for k, v in cols.items() if k != "PHENO"})
        if self._span[1] - self._span[0] >= self.rows_per_write:
            self.flush()

    def _queued(self) -> tuple[dict[str, pa.Array], list[dict[str, np.ndarray]]]:
        """The queued variants' annotation (Arrow slices) and each file's result columns (one array each)."""
        start, stop = self._span
        ann = {k: a.slice(start, stop - start) for k, a in self.annotation.items()}
        results = []
        for pending in self._pending:
            results.append({k: np.concatenate([c[k] for c in pending]) for k in pending[0]})
            pending.clear()
        self._span = None
        return ann, results

    def _open_tsv(self, i: int, names: list[str]) -> None:
        handle = open(_partial(self.tsv_paths[i]), "wb")
        handle.write(header(names))
        self._tsv[i] = handle

    def flush(self) -> None:
        """Hand the queued rows to the writing threads; waits only while ``MAX_HANDOVERS`` are being written."""
        if self._span is None:
            return
        self._wait(keep=MAX_HANDOVERS - 1)  # bounds the rows held in memory
        ann, results = self._queued()
        count = len(next(iter(ann.values())))
        for i, cols in enumerate(results):
            if self._tsv[i] is None:
                self._open_tsv(i, [*ann, *cols])
        tables = [pa.table({**ann, **{k: column(v) for k, v in cols.items()}}) for cols in results]
        if self.mode == "single":
            parquet_tables = [t.add_column(0, "PHENO", repeated(name, t.num_rows)) for t, name in zip(tables, self.traits)]
        else:
            parquet_tables = tables
        if self._parquet is None:
            schema = parquet_tables[0].schema
            self._parquet = pq.ParquetWriter(str(_partial(self.parquet_path)), schema,
                                             use_dictionary=[c for c in _FEW_VALUES if c in schema.names],
                                             write_statistics=[c for c in _FILTERED if c in schema.names])
        # one task per file (formatting and compression run outside the GIL, beside the block workers); a file's
        # task first waits for that file's previous task, which the pool (first in, first out) has already started
        jobs = [(_write_tsv, [handle, [*ann.values(), *cols.values()], count])
                for handle, cols in zip(self._tsv, results)]
        jobs.append((lambda ts: [self._parquet.write_table(t) for t in ts], [parquet_tables]))
        futures = []
        for i, (write, args) in enumerate(jobs):
            previous = self._last[i] if i < len(self._last) else None
            futures.append(self._pool.submit(_after, previous, write, *args))
        self._last = futures
        self._handovers.append(futures)

    def _wait(self, keep: int = 0) -> None:
        """Wait for the oldest hand-overs until at most ``keep`` are still being written."""
        while len(self._handovers) > keep:
            for future in self._handovers.popleft():
                future.result()

    def close(self, complete: bool = True) -> None:
        """Write what is queued, close the files and give them their names (``complete``) or remove them.

        A write that fails (a full disk) removes the partial files too, then raises its error.
        """
        try:
            if complete:
                self.flush()
            self._wait()
        except BaseException:
            complete = False
            raise
        finally:
            self._pool.shutdown()
            self._finish(complete)

    def _finish(self, complete: bool) -> None:
        for writer in [*self._tsv, self._parquet]:
            if writer is not None:
                try:
                    writer.close()
                except OSError:
                    if complete:
                        raise
        for path in self.paths:
            if _partial(path).exists():
                if complete:
                    # an older result is removed first: ext4 (auto_da_alloc) flushes a file renamed over another
                    # to disk before the rename returns, a synchronous write per file
                    path.unlink(missing_ok=True)
                    os.replace(_partial(path), path)
                else:
                    _partial(path).unlink()

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(complete=exc_type is None)


def _write_tsv(handle: BinaryIO, columns: list, count: int) -> None:
    """Append ``count`` rows of ``columns`` (the variant annotation, then the results)."""
    handle.write(format_rows(columns, count))


def _after(previous: Future | None, write, *args) -> None:
    """``write(*args)`` once ``previous`` (the same file's earlier write) is done."""
    if previous is not None:
        previous.result()
    write(*args)


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")
