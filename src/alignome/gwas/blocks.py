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
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from alignome.blas import one_blas_thread
from alignome.io.plink_files import BED_MAGIC
from alignome.errors import DataError
from alignome.gwas.packed import PackedBlock, decode_packed

LOCAL_SCHEDULERS = ("threads", "processes", "synchronous")


def _stream(bed: str):
    return _stream_cached(bed, Path(bed).stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _stream_cached(bed: str, mtime_ns: int):
    from alignome.gwas.stream import open_bed_stream

    return open_bed_stream(Path(bed).with_suffix(""))


@lru_cache(maxsize=8)
def _snp_major(bed: str, mtime_ns: int) -> bool:
    with open(bed, "rb") as handle:
        return handle.read(3) == BED_MAGIC


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


def block_ranges(n_variants: int, block_size: int, first: int = 0) -> list[tuple[int, int]]:
    """``(start, stop)`` of consecutive blocks of at most ``block_size`` variants over ``first:n_variants``."""
    if block_size < 1:
        raise ValueError(f"block_size must be ≥ 1, got {block_size}")
    return [(s, min(s + block_size, n_variants)) for s in range(first, n_variants, block_size)]


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
    first: int = 0,
    **kwargs,
) -> Iterator:
    """``func(genotypes, start, stop, *args, **kwargs)`` for every block of variants ``first:n_variants``, in order.

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
    ranges = block_ranges(n_variants, block_size, first)
    if scheduler is None:
        workers = min(local_threads(threads), max(len(ranges), 1))
        with one_blas_thread():
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
