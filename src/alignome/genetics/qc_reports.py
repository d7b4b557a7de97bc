"""The files of a QC run: PLINK's lists and reports (``.snplist``, ``.irem``, ``.hwe``, ``.frq``, ``.lmiss``,
``.imiss``) written byte for byte as PLINK 1.9 writes them, and ``.removed.tsv``/``.qc.log``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from alignome.genetics.qc import QCResult
from alignome.io.fields import bed_kernel


def _format_g(values: np.ndarray, precision: int, nan_text: str) -> list[str]:
    """``format(x, '.Pg')`` of each value (``nan_text`` where not finite), each distinct value formatted once."""
    values = np.asarray(values, dtype=np.float64)
    spec = f".{precision}g"
    if values.size == 0:
        return []
    if np.signbit(values[values == 0]).any():  # -0.0 prints as -0, but np.unique merges it with 0.0
        return [format(x, spec) if math.isfinite(x) else nan_text for x in values.tolist()]
    unique, inverse = np.unique(values, return_inverse=True)
    text = np.array([format(x, spec) if math.isfinite(x) else nan_text for x in unique.tolist()], dtype=object)
    return text[inverse.ravel()].tolist()


def _rows(columns: list[tuple]) -> bytes:
    """The rows of a text table: row r is, over ``columns``, prefix + cell, then a newline.

    Each column is ``(prefix, kind, data)``: kind ``"s"`` (list of str), ``"c"`` (one str for every row),
    ``"i"`` (integers), ``"g"`` (floats as ``%.4g``, ``NA`` where not finite) or ``"g6"`` (``%.6g``, empty
    where not finite). The kernel's ``text_rows`` writes them where it is built, else Python, the same bytes.
    """
    spec = []
    for prefix, kind, data in columns:
        if kind in ("i", "g", "g6"):
            data = np.ascontiguousarray(data, dtype=np.int64 if kind == "i" else np.float64)
        precision, nan_text = {"g": (4, "NA"), "g6": (6, "")}.get(kind, (0, ""))
        spec.append((prefix, kind[0], data, precision, nan_text))
    kernel = bed_kernel()
    if kernel is not None:
        return kernel.text_rows(spec)
    sizes = [len(data) for _, kind, data, _, _ in spec if kind != "c"]
    n = sizes[0] if sizes else 0
    cells = []
    for _, kind, data, precision, nan_text in spec:
        if kind == "s":
            cells.append(data)
        elif kind == "c":
            cells.append([data] * n)
        elif kind == "i":
            cells.append(list(map(str, data.tolist())))
        else:
            cells.append(_format_g(data, precision, nan_text))
    template = "".join(prefix.replace("%", "%%") + "%s" for prefix, *_ in spec) + "\n"
    return "".join(map(template.__mod__, zip(*cells))).encode()


def _write_table(path: Path, header: str | None, columns: list[tuple]) -> None:
    with open(path, "wb") as handle:
        if header is not None:
            handle.write(f"{header}\n".encode())
        handle.write(_rows(columns))


def _texts(values) -> list[str]:
    return values if isinstance(values, list) else np.asarray(values, dtype=object).tolist()


def write_qc(result: QCResult, out: str | Path) -> dict[str, Path]:
    """Write PLINK-style lists and reports of a QC run.

    Files: ``OUT.snplist`` (kept variants, as ``--write-snplist``),
    ``OUT.irem`` (FID IID of samples removed by ``--mind``, as PLINK),
    ``OUT.keep`` (FID IID of kept samples, for ``plink --keep``),
    ``OUT.removed.tsv`` (variant, reason, value of each removed variant),
    ``OUT.hwe``, ``OUT.frq``, ``OUT.lmiss``, ``OUT.imiss`` (whitespace tables
    with PLINK 1.9's column names, numbers to 4 significant digits) and
    ``OUT.qc.log`` (the counts).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = {ext: Path(f"{out}.{ext}") for ext in ("snplist", "irem", "keep", "removed.tsv", "hwe", "frq",
                                                   "lmiss", "imiss", "qc.log")}
    _write_table(paths["snplist"], None, [("", "s", list(result.kept_variants))])
    for name, mask in (("irem", ~result._keep), ("keep", result._keep)):
        fid, iid = result._sample_ids(mask)
        _write_table(paths[name], None, [("", "s", _texts(fid)), ("\t", "s", _texts(iid))])
    removed = result._removed_variant_columns()
    ids, reasons, values = _texts(removed["variant"]), _texts(removed["reason"]), removed["value"]
    joined = "\n".join(ids)
    if any(c in joined for c in '\t"\r') or joined.count("\n") != max(len(ids) - 1, 0) or np.isinf(values).any():
        import csv  # quoting (and inf) exactly as pandas' to_csv(sep="\t", float_format="%.6g") writes them

        with open(paths["removed.tsv"], "w", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(["variant", "reason", "value"])
            writer.writerows(zip(ids, reasons, [format(x, ".6g") if not math.isnan(x) else "" for x in values.tolist()]))
    else:
        _write_table(paths["removed.tsv"], "variant\treason\tvalue",
                     [("", "s", ids), ("\t", "s", reasons), ("\t", "g6", values)])
    v = result.stats._variants.columns
    chrom, variant, a1, a2 = _texts(v["chrom"]), _texts(v["variant"]), _texts(v["a1"]), _texts(v["a2"])
    _write_table(paths["hwe"], " CHR SNP TEST A1 A2 GENO O(HET) E(HET) P",
                 [("", "s", chrom), (" ", "s", variant), (" ", "c", "ALL"), (" ", "s", a1), (" ", "s", a2),
                  (" ", "i", v["hom1"]), ("/", "i", v["het"]), ("/", "i", v["hom2"]), (" ", "g", v["o_het"]),
                  (" ", "g", v["e_het"]), (" ", "g", v["p_hwe"])])
    _write_table(paths["frq"], " CHR SNP A1 A2 MAF NCHROBS",
                 [("", "s", chrom), (" ", "s", variant), (" ", "s", a1), (" ", "s", a2), (" ", "g", v["maf"]),
                  (" ", "i", v["nchrobs"])])
    _write_table(paths["lmiss"], " CHR SNP N_MISS N_GENO F_MISS",
                 [("", "s", chrom), (" ", "s", variant), (" ", "i", v["n_miss"]), (" ", "i", v["n_geno"]),
                  (" ", "g", v["f_miss"])])
    s = result.stats._samples.columns
    _write_table(paths["imiss"], " FID IID MISS_PHENO N_MISS N_GENO F_MISS",
                 [("", "s", _texts(s["fid"])), (" ", "s", _texts(s["iid"])), (" ", "c", "N"),
                  (" ", "i", s["n_miss"]), (" ", "i", s["n_geno"]), (" ", "g", s["f_miss"])])
    c = result.counts
    log = [f"{c['mind']} people removed due to missing genotype data (--mind).",
           f"{c['geno']} variants removed due to missing genotype data (--geno).",
           f"--hwe: {c['hwe']} variants removed due to Hardy-Weinberg exact test.",
           f"{c['maf']} variants removed due to minor allele threshold(s) (--maf).",
           f"{c['variants_kept']} variants and {c['samples_kept']} people pass filters and QC."]
    paths["qc.log"].write_text("\n".join(log) + "\n")
    return paths
