"""A read-only ``(N, S, S, S)`` view of volume-cache entries that never holds more than the rows asked for.

Row ``i`` is the ``.npy`` file ``files[i]``, opened memory-mapped (``np.load(mmap_mode="r")``)
only while it is copied into the requested block and unmapped right after: resident memory
grows with the batch, not with the cohort, and the operating system's page cache shares the
file pages between processes. The object holds file paths only, so pickling it (DataLoader
workers, ``ddp_spawn``) sends paths, never arrays; each process opens the files itself.
Holding one open memmap per scan is avoided on purpose: every mapping keeps a file descriptor,
and a cohort of thousands of scans would exceed the usual limit of 1,024.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from alignome.errors import DataError


class CachedVolumes:
    """Cache entries as one array-like of shape ``(N, S, S, S)``: indexing reads only the rows asked for.

    Parameters
    ----------
    files
        The ``.npy`` cache entries, row ``i`` = ``files[i]`` (a file may appear more than once).
    size
        Edge ``S`` of every volume.
    dtype
        Dtype of every entry (the cache stores float16).

    Indexing with an integer returns one ``(S, S, S)`` array; with a slice, an integer
    array or a list, a new contiguous ``(k, S, S, S)`` array. Every returned array is a
    copy, never a view into a mapped file.
    """

    ndim = 4

    def __init__(self, files: Sequence[str | Path], size: int, dtype: np.dtype | type = np.float16) -> None:
        self.files = [str(f) for f in files]
        self.dtype = np.dtype(dtype)
        self.shape = (len(self.files), int(size), int(size), int(size))

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"CachedVolumes(shape={self.shape}, dtype={self.dtype})"

    def _mapped(self, row: int) -> np.ndarray:
        """Row ``row``'s entry, memory-mapped, after checking its shape and dtype (delete it to unmap)."""
        path = self.files[row]
        try:
            mapped = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read the cached volume: {exc}", file=path,
                            fix="rerun to rebuild the volume cache (a removed entry is rebuilt)") from None
        if mapped.shape != self.shape[1:] or mapped.dtype != self.dtype:
            raise DataError(f"cached volume has shape {mapped.shape} and dtype {mapped.dtype}, "
                            f"expected {self.shape[1:]} and {self.dtype}", file=path,
                            fix="use one preprocessing size for all scans, or clear the volume cache")
        return mapped

    def _read_into(self, out: np.ndarray, row: int) -> None:
        """Copy row ``row``'s entry into ``out``."""
        mapped = self._mapped(row)
        out[...] = mapped
        del mapped  # unmaps the file: its pages leave this process's resident memory

    def flat_voxels(self, rows: Sequence[int] | np.ndarray, start: int, stop: int) -> np.ndarray:
        """Voxels ``start:stop`` of each row's flattened (C-order) volume, as a new ``(len(rows), stop - start)`` array.

        Reads only that range of each file: a pass over every scan in voxel slabs holds one
        slab of the cohort at a time (:func:`alignome.evaluation.voxel_pca.voxel_pca`).
        """
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((len(rows), max(0, stop - start)), dtype=self.dtype)
        for position, row in enumerate(rows):
            mapped = self._mapped(int(row))
            out[position] = mapped.reshape(-1)[start:stop]
            del mapped
        return out

    def __getitem__(self, index: int | slice | Sequence[int] | np.ndarray) -> np.ndarray:
        if isinstance(index, (int, np.integer)):
            block = self[np.asarray([index])]
            return block[0]
        rows = np.arange(len(self))[index] if isinstance(index, slice) else np.asarray(index)
        if rows.dtype == bool or rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype, np.integer)):
            raise TypeError(f"index CachedVolumes with an int, a slice or a 1-d integer array, got {index!r}")
        rows = np.where(rows < 0, rows + len(self), rows)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"row index out of range for {len(self)} volumes")
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
        for position, row in enumerate(rows):
            self._read_into(out[position], int(row))
        return out

    def __array__(self, dtype: np.dtype | None = None, copy: bool | None = None) -> np.ndarray:
        raise TypeError("CachedVolumes does not convert itself to one in-RAM array; index the rows you need "
                        "(volumes[rows], or volumes[:] for all of them)")
