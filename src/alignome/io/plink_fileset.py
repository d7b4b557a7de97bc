"""The one reader of a PLINK 1 binary fileset's ``.fam`` and ``.bim`` (and the checks of its ``.bed``).

:func:`read_fileset` reads and checks a fileset: files present, six columns, unique sample
and variant ids, whole-number positions, SNP-major magic bytes, ``.bed`` size matching samples × variants. It gives
a :class:`Fileset` of plain lists of str; arrays (:meth:`Fileset.positions`,
:meth:`Fileset.kinds`, :meth:`Fileset.sex`) and a pandas table (:meth:`Fileset.variants_frame`)
are made when asked for. Readers that keep a column as byte spans (clumping: a ``.bim`` of
millions of lines) use the parts: :func:`read_fam_columns`, :func:`read_bim_fields`,
:func:`check_variant_ids`, :func:`bim_positions`.

Importing this module imports neither NumPy nor pandas (``alignome variants clump`` runs
without them where the C kernel is built); the methods that return arrays import NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alignome.io.chromosomes import chromosome_kind
from alignome.errors import DataError
from alignome.io.fields import Strings, check_unique, file_line, parse_numbers, read_columns, read_fields
from alignome.io.plink_files import check_bed, fileset_paths

SAMPLE_ID_FIX = "give each sample one row in the .fam file (e.g. `plink --keep`)"
VARIANT_ID_FIX = "give each variant a unique id (e.g. `plink2 --set-all-var-ids` or `--rm-dup`)"
POSITION_FIX = "write each variant's base-pair position in column 4 as a whole number (0 where it is unknown, as PLINK does)"


def read_fam_columns(fam: Path) -> list[list[str]]:
    """The six columns of a ``.fam`` (FID, IID, father, mother, sex, phenotype) as lists of str; IIDs unique."""
    columns = read_columns(fam, 6, ".fam")
    check_unique(columns[1], fam, "subject (IID)", SAMPLE_ID_FIX)
    return columns


def check_variant_ids(ids: list[str], bim: Path) -> None:
    """Raise :class:`DataError` naming the first repeated variant id of the ``.bim`` and its rows."""
    check_unique(ids, bim, "variant id", VARIANT_ID_FIX)


def read_bim_fields(bim: Path, wanted: tuple[int, ...]) -> list[Strings]:
    """Columns ``wanted`` (0-based) of a ``.bim`` as byte spans.

    Plain ASCII text is split by :func:`alignome.io.fields.read_fields`; anything else (non-ASCII text, a row
    of another width, to name it, or an empty file) goes through :func:`alignome.io.fields.read_columns`.
    """
    columns = read_fields(bim.read_bytes(), 6, wanted)
    if columns is None or not len(columns[0]):
        text = read_columns(bim, 6, ".bim")
        columns = [Strings.from_list(text[c]) for c in wanted]
    return columns


def bim_positions(pos: Strings, bim: Path):
    """The ``.bim`` column 4 as int64 (an ``array``), or a :class:`DataError` naming the line that is not a whole
    number (PLINK 1.9 and plink2 refuse such a fileset too)."""
    values, bad = parse_numbers(pos, decimal=False)
    if bad >= 0:
        raise DataError(f"position '{pos[bad]}' is not a whole number", file=bim, field="position (column 4)",
                        row=file_line(bim, bad), fix=POSITION_FIX)
    return values


def check_positions(pos: list[str], bim: Path) -> None:
    """:func:`bim_positions` of a column of str; plain digits (the usual case) pass without parsing."""
    text = "".join(pos)
    if not (text.isascii() and text.isdigit() and max(map(len, pos), default=0) < 19):
        bim_positions(Strings.from_list(pos), bim)


def founder_flags(fid: list[str], iid: list[str], pat: list[str], mat: list[str]) -> bytes:
    """PLINK founders of a ``.fam`` (one byte per sample, 1 for a founder): neither parent's (FID, id) is a
    sample of the file."""
    if set(iid).isdisjoint(pat) and set(iid).isdisjoint(mat):  # no parent is a sample (the usual case)
        return bytes([1]) * len(fid)
    sample = set(zip(fid, iid))
    return bytes((f, p) not in sample and (f, m) not in sample for f, p, m in zip(fid, pat, mat))


def founder_mask(fam):
    """PLINK founders (:func:`founder_flags`) of a ``.fam`` (a DataFrame with columns 0–3, or a list of its
    columns), as a boolean NumPy array."""
    import numpy as np

    flags = founder_flags(*(list(map(str, fam[c])) for c in (0, 1, 2, 3)))
    return np.frombuffer(flags, dtype=np.uint8).astype(bool)


def sex_codes(column: list[str]):
    """A ``.fam`` sex column as int8: 1 male, 2 female, 0 unknown (any other code)."""
    import numpy as np

    code = np.array(column, dtype=object)
    return np.select([code == "1", code == "2"], [1, 2], 0).astype(np.int8)


@dataclass
class Fileset:
    """A PLINK 1 binary fileset's ``.bed`` path, ``.fam`` and ``.bim`` columns (str lists).

    Attributes
    ----------
    bed
        Path of the ``.bed`` (checked: SNP-major, ⌈n/4⌉ bytes per variant).
    fam
        The six ``.fam`` columns.
    chrom, ids, pos, a1, a2
        ``.bim`` columns 1, 2, 4, 5 (A1, the counted allele) and 6.
    """

    bed: Path
    fam: list[list[str]]
    chrom: list[str]
    ids: list[str]
    pos: list[str]
    a1: list[str]
    a2: list[str]

    @property
    def n(self) -> int:
        """Number of samples."""
        return len(self.fam[1])

    @property
    def m(self) -> int:
        """Number of variants."""
        return len(self.ids)

    @property
    def width(self) -> int:
        """Bytes of one variant's row of the ``.bed``."""
        return (self.n + 3) // 4

    def kinds(self):
        """Boolean X, Y and MT masks over the variants (:func:`alignome.io.chromosomes.chromosome_kind`)."""
        import numpy as np

        number = {"X": 0, "Y": 1, "MT": 2}
        codes = {code: number.get(chromosome_kind(code), -1) for code in set(self.chrom)}
        kind = np.fromiter(map(codes.__getitem__, self.chrom), dtype=np.int8, count=len(self.chrom))
        return kind == 0, kind == 1, kind == 2

    def positions(self):
        """Base-pair positions as int64 (whole numbers: checked by :func:`read_fileset`)."""
        import numpy as np

        return np.fromiter(map(int, self.pos), dtype=np.int64, count=len(self.pos))

    def sex(self):
        """The samples' sex (:func:`sex_codes` of ``.fam`` column 5)."""
        return sex_codes(self.fam[4])

    def variants_frame(self):
        """The variants as a pandas DataFrame indexed by id (``variant``), columns ``chrom``, ``pos``
        (:meth:`positions`), ``a1`` and ``a2``."""
        import numpy as np
        import pandas as pd

        text = lambda column: np.array(column, dtype=object)  # noqa: E731
        return pd.DataFrame({"chrom": text(self.chrom), "pos": self.positions(), "a1": text(self.a1),
                             "a2": text(self.a2)},
                            index=pd.Index(text(self.ids), name="variant", dtype=object))


def read_fileset(prefix: str | Path, field: str = "bfile") -> Fileset:
    """Read and check the fileset ``prefix`` (a ``.bed/.bim/.fam`` suffix is dropped).

    Checks: files present, six columns, unique sample and variant ids, whole-number positions, SNP-major
    magic bytes, ``.bed`` size matching samples × variants. ``field`` is named in the error of a missing file.
    """
    bed, bim, fam = fileset_paths(prefix, field=field)
    fam_columns = read_fam_columns(fam)
    chrom, ids, _, pos, a1, a2 = read_columns(bim, 6, ".bim")
    check_variant_ids(ids, bim)
    check_positions(pos, bim)
    check_bed(bed, len(fam_columns[1]), len(ids))
    return Fileset(bed=bed, fam=fam_columns, chrom=chrom, ids=ids, pos=pos, a1=a1, a2=a2)

