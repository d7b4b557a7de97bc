"""The packed 2-bit rows of a ``.bed``, read a block of variants at a time (memory flat in the variants)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from alignome.errors import DataError
from alignome.io.plink_files import PLINK_FIX
from alignome.io.plink_fileset import Fileset


def bed_blocks(fs: Fileset, block: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, raw)``: the ``.bed`` rows of variants ``start:start + k`` as a (k, width) uint8 array
    (one buffer, reused: consume each block before the next)."""
    width, m = fs.width, fs.m
    block = max(1, int(block))
    buffer = np.empty(min(block, max(m, 1)) * width, dtype=np.uint8)
    with open(fs.bed, "rb", buffering=0) as handle:
        handle.seek(3)
        for start in range(0, m, block):
            k = min(block, m - start)
            view = memoryview(buffer)[:k * width]
            got = 0
            while got < view.nbytes:
                read = handle.readinto(view[got:])
                if not read:
                    raise DataError(f"the .bed file ended early (variant {start + 1 + got // width})",
                                    file=fs.bed, fix=PLINK_FIX)
                got += read
            yield start, buffer[:k * width].reshape(k, width)
