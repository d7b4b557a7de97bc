"""Run a function over the variant blocks of a ``.bed`` file, locally or on Dask.

Every block task is self-contained: it opens the ``.bed`` itself (by path),
reads its variants ``start:stop`` for the given sample rows and applies a
module-level function.  Results come back in block order, so any reduction
over blocks (a sum, a concatenation) is done in the same order whatever ran
the tasks — the answer of a Dask run is bit-identical to the in-process one.

``scheduler``:

* ``None`` — in-process: blocks run on a small pool of threads (all the
  CPU cores this process may use, or ``threads`` / ``$ALIGNOME_THREADS``),
  BLAS held to one thread meanwhile (no oversubscription),
  at most ``2 × threads`` blocks in flight (memory flat in variants);
* ``"threads"`` / ``"processes"`` / ``"synchronous"`` — :func:`dask.delayed`
  per block, computed by that local Dask scheduler;
* a ``dask.distributed`` address (``"tcp://host:8786"``) or a
  ``distributed.Client`` — :meth:`Client.map` over a cluster (the ``.bed``
  path must be readable from the workers).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from functools import lru_cache
from itertools import islice, pairwise
from pathlib import Path
from typing import Any

import numpy as np

from alignome.errors import DataError

LOCAL_SCHEDULERS = ("threads", "processes", "synchronous")


def _stream(bed: str):
    return _stream_cached(bed, Path(bed).stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _stream_cached(bed: str, mtime_ns: int):
    from alignome.gwas.stream import open_bed_stream

    return open_bed_stream(Path(bed).with_suffix(""))


# .bed 2-bit codes (SNP-major, bed-reader's default count_A1=True): 00 → 2, 01 → missing, 10 → 1, 11 → 0
_BED_MAGIC = b"\x6c\x1b\x01"
_CODE_VALUES = np.array([2.0, np.nan, 1.0, 0.0])


@lru_cache(maxsize=1)
def _byte_table() -> np.ndarray:
    """The four float64 genotypes of every .bed byte (samples 4i … 4i+3), as 32-byte records for ``np.take``."""
    codes = (np.arange(256)[:, None] >> (2 * np.arange(4))[None, :]) & 3
    return np.ascontiguousarray(_CODE_VALUES[codes]).view("V32").ravel()


@lru_cache(maxsize=8)
def _square_table(samples: int = 4) -> np.ndarray:
    """Σ g² (uint8) over the first ``samples`` calls of every .bed byte, for complete data."""
    codes = (np.arange(256)[:, None] >> (2 * np.arange(samples))[None, :]) & 3
    return (np.nan_to_num(_CODE_VALUES[codes]) ** 2).sum(axis=1).astype(np.uint8)


@lru_cache(maxsize=8)
def _snp_major(bed: str, mtime_ns: int) -> bool:
    with open(bed, "rb") as handle:
        return handle.read(3) == _BED_MAGIC


def read_packed(bed: str | Path, start: int, stop: int) -> np.ndarray | None:
    """The raw bytes (stop − start, ⌈n/4⌉) uint8 of variants ``start:stop`` of a SNP-major ``.bed``.

    None where the file is not a standard SNP-major ``.bed`` (the caller falls back to bed-reader).
    """
    bed = str(bed)
    stream = _stream(bed)
    if not _snp_major(bed, Path(bed).stat().st_mtime_ns):
        return None
    n = len(stream.samples)
    width = (n + 3) // 4
    count = (stop - start) * width
    raw = np.fromfile(bed, dtype=np.uint8, count=count, offset=3 + start * width)
    if raw.size != count:
        raise DataError(f"the .bed file is truncated: variants {start}:{stop} are not all there", file=stream.bed,
                        fix="re-export the fileset (the .bed must hold ⌈samples/4⌉ bytes per .bim variant)")
    return raw.reshape(stop - start, width)


def decode_packed(raw: np.ndarray, n: int, rows: np.ndarray | None = None) -> np.ndarray:
    """Genotypes (float64, NaN missing; column-major n×m, or rows×m) of packed ``.bed`` bytes (m, ⌈n/4⌉).

    Equal to bed-reader's float64 decoding (A1 counted), one table lookup per byte.
    """
    m, width = raw.shape
    if rows is not None and not (rows.size == n and (rows == np.arange(n)).all()):
        # a subset (or reordering) of samples: gather their bytes, then one lookup per 2-bit code
        rows = np.asarray(rows, dtype=np.intp)
        codes = (np.take(raw, rows >> 2, axis=1) >> (2 * (rows & 3)).astype(np.uint8)) & 3
        return np.take(_CODE_VALUES, codes).T  # (m, rows) C order → F order, as bed-reader gives it
    full = np.take(_byte_table(), raw).view(np.float64).reshape(m, 4 * width)  # (m, 4·width), C order
    if 4 * width != n:
        full = np.ascontiguousarray(full[:, :n])
    return full.T


_SMALL_GEMM = 1_000_000  # chunks stay above OpenBLAS's small-matrix threshold (M·N·K ≤ 100³), as whole blocks do


class PackedBlock:
    """Variants ``start:stop`` of a ``.bed`` kept packed (2 bits per call) until a consumer needs them.

    Consumers that only need ``W @ G`` and the column sums of squares of a
    complete block (:func:`alignome.gwas._linalg.drop_downdate`) get them
    from :meth:`cross`, which decodes a few dozen variants at a time into a
    cache-sized buffer and multiplies them there, instead of writing the whole
    float64 block to memory and reading it back (about twice as fast); anything
    else calls :meth:`dense` (or ``np.asarray``), which is :func:`read_block`'s
    array.  The sums of squares of 0/1/2 calls are exact; the products are the
    same BLAS dot products over the same samples, which BLAS may round
    differently for a narrower set of columns (≲1e-12 relative, as changing
    ``block_size`` does).  A block's result does not depend on the scheduler.
    """

    def __init__(self, raw: np.ndarray, n: int, rows: np.ndarray | None = None):
        if rows is not None and rows.size == n and (rows == np.arange(n)).all():
            rows = None
        self.raw, self.n = raw, n
        self.rows = None if rows is None else np.asarray(rows, dtype=np.intp)
        self.shape = (n if self.rows is None else self.rows.size, raw.shape[0])
        self._dense: np.ndarray | None = None
        self._complete: bool | None = None

    def dense(self) -> np.ndarray:
        """The decoded block (float64, NaN missing, column-major), as :func:`read_block` returns it."""
        if self._dense is None:
            self._dense = decode_packed(self.raw, self.n, self.rows)
        return self._dense

    def __array__(self, dtype=None, copy=None):
        out = self.dense()
        return out if dtype is None else out.astype(dtype, copy=False)

    def complete(self) -> bool:
        """True when no selected sample has a missing call (code 01) in this block."""
        if self._complete is None:
            self._complete = self._has_no_missing()
        return self._complete

    def _has_no_missing(self) -> bool:
        raw = self.raw
        if self.rows is not None:
            codes = (np.take(raw, self.rows >> 2, axis=1) >> (2 * (self.rows & 3)).astype(np.uint8)) & 3
            return not (codes == 1).any()
        miss = (raw & ~(raw >> 1)) & 0x55  # low bit set, high bit clear
        if self.n % 4 and miss.size:
            miss[:, -1] &= (1 << (2 * (self.n % 4))) - 1  # padding calls of the last byte are not samples
        return not miss.any()

    def cross(self, w: np.ndarray, chunk_bytes: int = 1 << 21) -> tuple[np.ndarray, np.ndarray]:
        """``(w @ G, Σ G²)`` per column, for a complete block, decoded a cache-sized chunk at a time."""
        n_rows, m = self.shape
        out = np.empty((w.shape[0], m))
        sumsq = np.empty(m)
        # Chunks of ~chunk_bytes of float64, never so thin that BLAS switches to its small-matrix kernel
        # (OpenBLAS: M·N·K ≤ 100³); a short tail joins the chunk before it.
        thin = _SMALL_GEMM // max(w.shape[0] * n_rows, 1) + 1
        step = max(8, thin, chunk_bytes // (8 * max(n_rows, 1)))
        bounds = list(range(0, m, step))
        if len(bounds) > 1 and m - bounds[-1] < step:
            bounds.pop()
        bounds.append(m)
        width = self.raw.shape[1]
        table = _byte_table()
        longest = max((e - s for s, e in pairwise(bounds)), default=0)
        buf = np.empty((longest, width), dtype=table.dtype) if self.rows is None else None
        for s, e in pairwise(bounds):
            if buf is not None:
                part = np.take(table, self.raw[s:e], out=buf[: e - s], mode="clip").view(np.float64)  # unbuffered
                g = part.reshape(e - s, 4 * width)[:, : self.n].T
                if 4 * width != self.n:
                    g = np.asfortranarray(g)
            else:
                g = decode_packed(self.raw[s:e], self.n, self.rows)
            out[:, s:e] = w @ g
            if buf is None:
                sumsq[s:e] = np.einsum("ij,ij->j", g, g)
        if buf is not None and m:
            # Σ g² of 0/1/2 calls from the bytes (an exact integer, as the float sum is): no pass over the floats
            tail = self.n - 4 * (width - 1)  # calls in the last byte (the rest is padding)
            sumsq[:] = np.take(_square_table(), self.raw[:, : width - 1], mode="clip").sum(axis=1, dtype=np.uint32)
            sumsq += _square_table(tail)[self.raw[:, width - 1]]
        return out, sumsq


def read_block(bed: str | Path, rows: np.ndarray | None, start: int, stop: int) -> np.ndarray:
    """Genotypes (float64, NaN missing) of variants ``start:stop`` for sample ``rows``."""
    stream = _stream(str(bed))
    sel = None if rows is None else np.asarray(rows, dtype=np.intp)
    raw = read_packed(bed, start, stop)
    if raw is not None:
        return decode_packed(raw, len(stream.samples), sel)
    try:
        # decoded straight to float64 (0/1/2/NaN are exact), column-major: one variant per contiguous column
        return stream._handle.read(index=np.s_[np.s_[:] if sel is None else sel, start:stop], dtype="float64",
                                   order="F", num_threads=1)
    except (ValueError, OSError) as exc:
        raise DataError(f"bed-reader could not read variants {start}:{stop}: {exc}", file=stream.bed) from None


def _task(func: Callable, bed: str, rows, start: int, stop: int, args: tuple, kwargs: dict):
    if getattr(func, "accepts_packed", False):  # the consumer decodes (or not) itself: see PackedBlock
        raw = read_packed(bed, start, stop)
        if raw is not None:
            n = len(_stream(str(bed)).samples)
            return func(PackedBlock(raw, n, None if rows is None else np.asarray(rows, dtype=np.intp)), start,
                        stop, *args, **kwargs)
    return func(read_block(bed, rows, start, stop), start, stop, *args, **kwargs)


def block_ranges(n_variants: int, block_size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of consecutive blocks of at most ``block_size`` variants."""
    if block_size < 1:
        raise ValueError(f"block_size must be ≥ 1, got {block_size}")
    return [(s, min(s + block_size, n_variants)) for s in range(0, n_variants, block_size)]


def local_threads(threads: int | None = None) -> int:
    """Threads of the in-process scheduler: ``threads``, else ``$ALIGNOME_THREADS``, else the usable cores."""
    if threads is None:
        env = os.environ.get("ALIGNOME_THREADS", "").strip()
        if env:
            try:
                threads = int(env)
            except ValueError:
                raise ValueError(f"ALIGNOME_THREADS must be an integer, got {env!r}") from None
        else:
            try:
                threads = len(os.sched_getaffinity(0))
            except AttributeError:  # pragma: no cover - not on Linux
                threads = os.cpu_count() or 1
    if threads < 1:
        raise ValueError(f"threads must be ≥ 1, got {threads}")
    return threads


def _blas_limit():
    """Hold BLAS to one thread while the block workers run (each block's matrices are thin: BLAS threads
    gain little there, and on busy cores their spin-waiting costs up to 10×)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _client(scheduler: Any):
    """A ``distributed.Client`` for an address or Client, else None."""
    if scheduler is None or (isinstance(scheduler, str) and scheduler in LOCAL_SCHEDULERS):
        return None
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dependency missing
        raise DataError("the Dask backend needs `distributed`", fix="pip install dask distributed") from None
    if isinstance(scheduler, Client):
        return scheduler
    if isinstance(scheduler, str):
        return Client(scheduler, set_as_default=False)
    raise ValueError(f"scheduler must be None, {LOCAL_SCHEDULERS}, an address or a Client, got {scheduler!r}")


def map_blocks(
    func: Callable,
    bed: str | Path,
    rows: np.ndarray | None,
    n_variants: int,
    block_size: int,
    *args,
    scheduler: Any = None,
    threads: int | None = None,
    in_flight: int | None = None,
    **kwargs,
) -> Iterator:
    """``func(genotypes, start, stop, *args, **kwargs)`` for every block, in block order.

    ``func`` must be a module-level (picklable) function for process/cluster
    schedulers.  With ``scheduler=None`` blocks run on ``threads`` threads
    (:func:`local_threads`) and results are yielded in block order as they
    complete, at most ``2 × threads`` blocks held at a time.  With a Dask
    scheduler at most ``in_flight`` blocks (default: 4 × the cluster's
    threads) are submitted and not yet gathered, so neither the scheduler nor
    the workers hold the whole scan at once.  Each block's result does not
    depend on the thread, worker or scheduler that computed it.
    """
    bed = str(bed)
    ranges = block_ranges(n_variants, block_size)
    if scheduler is None:
        workers = min(local_threads(threads), max(len(ranges), 1))
        with _blas_limit():
            if workers <= 1:
                for start, stop in ranges:
                    yield _task(func, bed, rows, start, stop, args, kwargs)
                return
            _stream(bed)  # open (and cache) the fileset once, before the threads race to
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="alignome-block") as pool:
                pending: deque = deque()
                for start, stop in ranges:
                    pending.append(pool.submit(_task, func, bed, rows, start, stop, args, kwargs))
                    if len(pending) >= 2 * workers:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
        return
    client = _client(scheduler)
    if client is None:
        import dask

        shared = dask.delayed((rows, args, kwargs), pure=True)
        window = max(1, in_flight or 4 * local_threads(threads))
        for i in range(0, len(ranges), window):  # a bounded number of blocks per compute call
            tasks = [dask.delayed(_unpack_task, pure=True)(func, bed, shared, s, e) for s, e in ranges[i:i + window]]
            yield from dask.compute(*tasks, scheduler=scheduler)
        return
    owned = client is not scheduler
    try:
        [shared] = client.scatter([(rows, args, kwargs)], broadcast=True)
        window = max(1, in_flight or 4 * max(sum(client.nthreads().values()), 1))
        todo = iter(ranges)
        pending: deque = deque()

        def submit(start: int, stop: int) -> Any:
            return client.submit(_unpack_task, func, bed, shared, start, stop, pure=False)

        for start, stop in islice(todo, window):
            pending.append(submit(start, stop))
        # in block order, at most `window` blocks submitted and not yet gathered: a cluster
        # never holds the whole scan's tasks or results at once
        while pending:
            future = pending.popleft()
            yield future.result()
            future.release()
            following = next(todo, None)
            if following is not None:
                pending.append(submit(*following))
    finally:
        if owned:
            client.close()


def _unpack_task(func: Callable, bed: str, shared: tuple, start: int, stop: int):
    rows, args, kwargs = shared
    return _task(func, bed, rows, start, stop, args, kwargs)
