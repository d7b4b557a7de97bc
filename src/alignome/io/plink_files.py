"""The files of a PLINK 1 binary fileset and the checks every reader makes (no NumPy, no pandas: light to import)."""

from __future__ import annotations

from pathlib import Path

from alignome.errors import DataError

PLINK_FIX = "give the prefix of a complete PLINK fileset (.bed/.bim/.fam written together, e.g. by `plink --make-bed`)"
BED_MAGIC = b"\x6c\x1b\x01"  # SNP-major PLINK 1 .bed


def fileset_paths(prefix: str | Path, field: str = "bfile") -> tuple[Path, Path, Path]:
    """``(bed, bim, fam)`` of ``prefix`` (a ``.bed/.bim/.fam`` suffix is dropped); a clear error if one is missing."""
    prefix = Path(prefix)
    if prefix.suffix in (".bed", ".bim", ".fam"):
        prefix = prefix.with_suffix("")
    paths = tuple(Path(f"{prefix}.{ext}") for ext in ("bed", "bim", "fam"))
    for path in paths:
        if not path.is_file():
            raise DataError("file not found", file=path, field=field, fix=PLINK_FIX)
    return paths  # type: ignore[return-value]


def check_bed(bed: Path, n_samples: int, n_variants: int) -> None:
    """Raise unless ``bed`` is SNP-major and holds ⌈n/4⌉ bytes per variant of the ``.bim``."""
    expected = 3 + ((n_samples + 3) // 4) * n_variants
    with open(bed, "rb") as handle:
        magic = handle.read(3)
    if magic != BED_MAGIC:
        raise DataError("not a SNP-major PLINK .bed file (wrong magic bytes)", file=bed, fix=PLINK_FIX)
    size = bed.stat().st_size
    if size != expected:
        raise DataError(f"the .bed file has {size} bytes but {n_samples} samples (.fam) × {n_variants} variants "
                        f"(.bim) need {expected}: the file is truncated or does not belong to this .bim/.fam",
                        file=bed, fix=PLINK_FIX)
