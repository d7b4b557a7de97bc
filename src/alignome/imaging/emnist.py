"""EMNIST from its IDX files, as a :class:`GlyphSet` in the orientation of the rendered glyphs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from alignome.errors import DataError
from alignome.imaging.glyph_set import BYCLASS, GlyphSet
from alignome.io.idx import read_idx

MAPPING_FIX = "give the split's mapping file (emnist-<split>-mapping.txt: one 'label ascii-code' line per class)"


def read_mapping(path: str | Path) -> dict[int, str]:
    """EMNIST's ``emnist-<split>-mapping.txt``: label → character."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=path, fix=MAPPING_FIX)
    mapping: dict[int, str] = {}
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        try:
            label, code = int(parts[0]), int(parts[1])
        except (ValueError, IndexError):
            raise DataError(f"expected 'label ascii-code', got {line!r}", file=path, row=line_no,
                            fix=MAPPING_FIX) from None
        mapping[label] = chr(code)
    return mapping


def load_emnist(images_path: str | Path, labels_path: str | Path, mapping_path: str | Path | None = None) -> GlyphSet:
    """Read an EMNIST split (images and labels IDX files, gzip or not) into a :class:`GlyphSet`.

    EMNIST stores each image transposed (column-major); it is transposed back so characters stand
    upright as :func:`alignome.simulate.glyphs.render_glyphs` draws them. Without ``mapping_path``
    the labels are read as the ByClass split (0-9, A-Z, a-z); with it, classes are the mapping's
    characters in label order and labels are re-indexed into them.

    Raises
    ------
    DataError
        Images are not ``(n, h, w)``, counts differ, or a label is outside the classes.
    """
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise DataError(f"expected images (n, height, width), got shape {images.shape}", file=images_path,
                        fix="give the -images- file of the split (idx3)")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DataError(f"{labels.shape} labels for {images.shape[0]} images", file=labels_path,
                        fix="give the -labels- file of the same split as the images")
    labels = labels.astype(np.int64)
    if mapping_path is None:
        classes, index = list(BYCLASS), labels
    else:
        mapping = read_mapping(mapping_path)
        known = np.array(sorted(mapping))
        classes = [mapping[k] for k in known]
        index = np.searchsorted(known, labels)
        index[index >= known.size] = 0
        bad = np.flatnonzero(known[index] != labels)
        if bad.size:
            raise DataError(f"{bad.size} labels are not in the mapping (first: {labels[bad[0]]} at image "
                            f"{bad[0]})", file=labels_path, fix=MAPPING_FIX)
    if index.size and (index.min() < 0 or index.max() >= len(classes)):
        raise DataError(f"labels run from {index.min()} to {index.max()} but the ByClass split has "
                        f"{len(classes)} classes", file=labels_path, fix=MAPPING_FIX)
    upright = np.ascontiguousarray(images.transpose(0, 2, 1)).astype(np.uint8)
    return GlyphSet(images=upright, labels=index, classes=list(classes))
