"""A persistent on-disk cache of preprocessed volumes, keyed by file content + settings.

Each volume is stored once as ``<cache_dir>/<key>.npy`` (float16, written to a
temporary file and renamed into place, so a reader never sees half a file), beside
``<key>.sha256``, the SHA-256 of its bytes: an entry whose bytes no longer match (a
file overwritten in place, a disk error) or that has no checksum is rebuilt, and
counted as rebuilt, never as a hit.
The key is the SHA-256 of a cache format version, the settings as JSON, the versions of
the libraries that compute the output (:func:`output_libraries`) and the SHA-256 of the
file's bytes: editing a file, changing a setting or upgrading one of those libraries gives
a new key (and a rebuild), renaming or moving a file does not. Training and evaluation
read the entries back memory-mapped, a batch at a time (:meth:`VolumeCache.volumes`).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from alignome.checkpoint import atomic_write_bytes
from alignome.errors import AlignomeError, DataError
from alignome.imaging.ants_runtime import ANTS_PACKAGE, import_ants, library_version
from alignome.imaging.cached_volumes import CachedVolumes
from alignome.imaging.preprocess import preprocess_volume
from alignome.imaging.settings import PreprocessSettings

CACHE_FORMAT = "alignome-volume-cache/1"  # bump whenever preprocess_volume changes its output
_CHUNK = 1 << 20
#: Libraries whose version can change a preprocessed volume: reading, resampling, the foreground mask.
LIBRARIES = ("nibabel", "monai", "torch", "scipy", "numpy")


def output_libraries(settings: PreprocessSettings) -> dict[str, str | None]:
    """Versions of the libraries that compute a volume under ``settings`` (ANTsPy and nilearn's
    template too when raw-T1 steps run)."""
    names = LIBRARIES + ((ANTS_PACKAGE, "nilearn") if settings.steps else ())
    return {name: library_version(name) for name in names}


@dataclass(frozen=True)
class CacheStats:
    """What :meth:`VolumeCache.build` did: distinct volumes found intact, built, and the time taken.

    ``rebuilt`` counts the built entries that were present but failed their checksum.
    """

    hits: int
    built: int
    seconds: float
    rebuilt: int = 0


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes, read in 1 MB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_file(target: Path) -> Path:
    """Where the SHA-256 of the cache entry ``target`` is stored."""
    return target.with_suffix(".sha256")


def _build_one(source: str, target: str, settings: PreprocessSettings) -> str:
    """Preprocess ``source`` and store it at ``target`` (float16, atomic). Runs in a worker thread."""
    try:
        volume = preprocess_volume(source, settings)
    except AlignomeError:  # already names its field and fix
        raise
    except Exception as exc:  # report which file, whatever MONAI raised
        raise DataError(
            f"preprocessing failed: {type(exc).__name__}: {exc}",
            file=source,
            fix="check the file with alignome.io.nifti_check.check_nifti, or drop it from the cohort",
        ) from None
    buffer = io.BytesIO()
    np.save(buffer, volume.astype(np.float16), allow_pickle=False)
    atomic_write_bytes(Path(target), buffer.getvalue())
    atomic_write_bytes(checksum_file(Path(target)), hashlib.sha256(buffer.getvalue()).hexdigest().encode())
    return source


class VolumeCache:
    """Preprocessed volumes on disk, computed once per (file content, settings).

    Parameters
    ----------
    cache_dir
        Folder of the ``.npy`` files (created if needed); may be shared by
        runs with different settings.
    settings
        The preprocessing settings.
    """

    def __init__(self, cache_dir: str | Path, settings: PreprocessSettings) -> None:
        if settings.steps:
            import_ants()  # a missing ANTsPy is said once, before any scan is read
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        libraries = json.dumps(output_libraries(settings), sort_keys=True)
        self._prefix = f"{CACHE_FORMAT}\n{settings.model_dump_json()}\n{libraries}\n".encode()
        self._digests: dict[str, tuple[int, int, str]] = {}
        self._intact: dict[Path, tuple[int, int]] = {}  # entries whose checksum matched, by mtime and size

    def _digest(self, path: str | Path) -> str:
        """The file's SHA-256, memoised by path, modification time and size."""
        name = os.path.abspath(path)
        try:
            stat = os.stat(name)
        except OSError:
            raise DataError("file not found", file=name, fix="check the scan table's paths") from None
        seen = self._digests.get(name)
        if seen is not None and seen[0] == stat.st_mtime_ns and seen[1] == stat.st_size:
            return seen[2]
        digest = file_sha256(name)
        self._digests[name] = (stat.st_mtime_ns, stat.st_size, digest)
        return digest

    def intact(self, target: Path) -> bool:
        """Whether the cache entry ``target`` exists and its bytes match its stored SHA-256 (memoised by mtime, size)."""
        try:
            stat = os.stat(target)
            if self._intact.get(target) == (stat.st_mtime_ns, stat.st_size):
                return True
            expected = checksum_file(target).read_text().strip()
            ok = hashlib.sha256(target.read_bytes()).hexdigest() == expected
        except (OSError, UnicodeDecodeError):
            return False
        if ok:
            self._intact[target] = (stat.st_mtime_ns, stat.st_size)
        return ok

    def key(self, path: str | Path) -> str:
        """Cache key of ``path``: SHA-256 of format version + settings JSON + library versions + file content digest."""
        return hashlib.sha256(self._prefix + self._digest(path).encode()).hexdigest()

    def file(self, path: str | Path) -> Path:
        """Where the preprocessed ``path`` is (or will be) stored."""
        return self.cache_dir / f"{self.key(path)}.npy"

    def build(self, paths: Iterable[str | Path], jobs: int = 2, progress: bool = True) -> CacheStats:
        """Preprocess every volume of ``paths`` not yet in the cache.

        Parameters
        ----------
        paths
            NIfTI files.
        jobs
            Worker threads (each with one torch thread); 1 runs in the calling thread.
        progress
            Show a progress bar while building.

        Returns
        -------
        CacheStats
            ``hits`` and ``built`` count distinct cache entries (a file listed
            twice counts once).
        """
        start = time.perf_counter()
        todo: dict[Path, str] = {}
        present: set[Path] = set()
        rebuilt = 0
        for path in paths:
            target = self.file(path)
            if target in todo or target in present:
                continue
            if self.intact(target):
                present.add(target)
            else:
                rebuilt += target.is_file()
                todo[target] = os.path.abspath(path)
        hits = len(present)
        if todo:
            self._run(todo, jobs, progress)
        return CacheStats(hits=hits, built=len(todo), seconds=time.perf_counter() - start, rebuilt=rebuilt)

    def _run(self, todo: dict[Path, str], jobs: int, progress: bool) -> None:
        n_jobs = max(1, min(int(jobs), len(todo)))
        items = [(source, str(target)) for target, source in todo.items()]
        if n_jobs == 1:
            self._consume((_build_one(s, t, self.settings) for s, t in items), len(items), progress)
            return
        import torch
        from joblib import Parallel, delayed

        # threads, not processes: decoding and resampling release the GIL, and a thread starts in
        # microseconds where a process spends seconds importing torch and MONAI (measured:
        # benchmarks/mri3d_speed.md); one torch thread each keeps the cores from being oversubscribed
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            runner = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator_unordered")
            self._consume(runner(delayed(_build_one)(s, t, self.settings) for s, t in items), len(items), progress)
        finally:
            torch.set_num_threads(previous)

    @staticmethod
    def _consume(results: Iterable[str], total: int, progress: bool) -> None:
        """Drain the build results, with a progress bar when asked."""
        if not progress:
            for _ in results:
                pass
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        columns = (TextColumn("[bold]preprocessing volumes"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns) as bar:
            task = bar.add_task("preprocessing", total=total)
            for _ in results:
                bar.advance(task)

    def load(self, path: str | Path) -> np.ndarray:
        """The preprocessed volume of ``path``, (S, S, S) float16, memory-mapped (built if missing)."""
        target = self.file(path)
        if not self.intact(target):  # missing, or its bytes changed since written: rebuilt, never trusted
            self.build([path], jobs=1, progress=False)
        return np.load(target, mmap_mode="r", allow_pickle=False)

    def volumes(self, paths: Iterable[str | Path], jobs: int = 1) -> CachedVolumes:
        """The volumes of ``paths`` as a read-only ``(N, S, S, S)`` view; row ``i`` is ``paths[i]``.

        Missing or damaged entries are built first (with ``jobs`` threads); rows are read
        memory-mapped when indexed, so nothing of the cohort is held in RAM.
        """
        paths = list(paths)
        self.build(paths, jobs=jobs, progress=False)
        return CachedVolumes([self.file(path) for path in paths], self.settings.size)

    def stack(self, paths: Iterable[str | Path], jobs: int = 1) -> np.ndarray:
        """All volumes of ``paths`` in one in-RAM ``(N, S, S, S)`` float16 array (small cohorts, comparisons)."""
        return self.volumes(paths, jobs=jobs)[:]
