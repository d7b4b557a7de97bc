"""A set of labelled character images (rendered glyphs or EMNIST)."""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

#: EMNIST ByClass's 62 classes in label order (0-9, A-Z, a-z); the rendered glyphs use them too.
BYCLASS: tuple[str, ...] = tuple(string.digits + string.ascii_uppercase + string.ascii_lowercase)


@dataclass(frozen=True)
class GlyphSet:
    """Character images with their classes.

    Attributes
    ----------
    images
        ``(n, size, size)`` uint8, white glyph on black, upright (row 0 is the top).
    labels
        ``(n,)`` int64 index into ``classes``.
    classes
        The characters, ``classes[label]``.
    """

    images: np.ndarray
    labels: np.ndarray
    classes: list[str]

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, rows: np.ndarray) -> "GlyphSet":
        """The glyphs at ``rows`` (an index array), same classes."""
        return GlyphSet(images=self.images[rows], labels=self.labels[rows], classes=self.classes)


def stratified_subsample(glyphs: GlyphSet, n: int, seed: int) -> GlyphSet:
    """``n`` glyphs drawn without replacement, each class in proportion to its share of ``glyphs``.

    Classes get ``floor(n · share)`` rows and the remainder goes to the classes with the largest
    fractional parts (ties by class order); the rows come back shuffled.
    """
    if not 0 <= n <= len(glyphs):
        raise ValueError(f"cannot draw {n} glyphs from a set of {len(glyphs)}")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(glyphs.labels, return_counts=True)
    exact = n * counts / counts.sum()
    take = np.floor(exact).astype(int)
    remainder = n - take.sum()
    take[np.argsort(-(exact - take), kind="stable")[:remainder]] += 1
    rows = [rng.choice(np.flatnonzero(glyphs.labels == c), size=k, replace=False) for c, k in zip(classes, take)]
    return glyphs.subset(rng.permutation(np.concatenate(rows)))
