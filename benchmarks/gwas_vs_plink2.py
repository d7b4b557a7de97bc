"""Same D traits through ``plink2 --glm`` and ``alignome gwas`` (single and multi mode), in one run.

Simulates once (msprime, via :mod:`alignome.simulate.genotypes`; cached under
``benchmarks/out/``) a PLINK fileset of ``--variants`` common SNPs × ``--samples``
samples with a little genotype missingness, ``--traits`` correlated quantitative
traits driven by a few causal variants, and 3 covariates.  Then, each as a child
process (wall clock; CPU times from ``os.wait4``; peak RSS from GNU ``time -f %M``):

* ``plink2 --glm hide-covar omit-ref`` on the D traits (``--threads T``);
* ``alignome gwas --mode single`` on the same D traits (``ALIGNOME_THREADS=T``);
* ``alignome gwas --mode multi`` (one joint D-trait test per variant).

for T = ``--threads`` and, with ``--single-thread``, also T = 1.  alignome runs
through its CLI with ``--no-plots --no-loci`` (plink2 draws no plots either); both
tools read the same ``.bed/.bim/.fam``, phenotype and covariate files and write
their per-variant tables.  Single-mode results are checked against plink2's on a
random sample of variants (plink2 prints 6 significant digits).

Writes ``benchmarks/results/gwas_vs_plink2.json`` and ``.md`` (with a clearly
marked extrapolation to 500,000 samples × 10 million variants on a Dask cluster).

Usage::

    python benchmarks/gwas_vs_plink2.py [--samples 5000] [--variants 100000] [--traits 10]
        [--threads 2] [--single-thread] [--missing-rate 0.002] [--check-variants 5000]
        [--with-complete] [--scale-variants 500000]
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024.0

# msprime defaults of alignome.simulate.genotypes: θ = 4·Ne·μ = 5e-4 per bp; sites with minor-allele
# frequency ≥ 0.05 among ~10⁴ haplotypes ≈ θ·ln(19) ≈ 1.5e-3 per bp.
COMMON_SNPS_PER_BP = 1.4e-3


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--variants", type=int, default=100_000)
    ap.add_argument("--traits", type=int, default=10)
    ap.add_argument("--causal", type=int, default=5, help="causal variants shared by the traits")
    ap.add_argument("--missing-rate", type=float, default=0.002, help="fraction of genotypes set missing")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="threads of both tools in the main comparison")
    ap.add_argument("--single-thread", action="store_true", help="also time both tools with one thread")
    ap.add_argument("--block-size", type=int, default=1000, help="alignome --block-size")
    ap.add_argument("--plink-memory", type=int, default=4096, help="plink2 --memory (MiB)")
    ap.add_argument("--check-variants", type=int, default=5000, help="variants per trait compared with plink2")
    ap.add_argument("--segment-snps", type=int, default=5000, help="common SNPs per msprime segment")
    ap.add_argument("--cache", type=Path, default=ROOT / "benchmarks" / "out")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--name", default="gwas_vs_plink2", help="stem of the result files")
    ap.add_argument("--scale-variants", type=int, default=0,
                    help="also compare both tools on a second simulation of this many variants without missing "
                         "genotypes (e.g. 500000), where fixed start-up costs no longer dominate")
    ap.add_argument("--with-complete", action="store_true",
                    help="also run the comparison on the same simulation without missing genotypes (plink2's "
                         "fast path) and report it in the same files")
    return ap.parse_args(argv)


# ----------------------------------------------------------------------------- data


def simulate(args: argparse.Namespace) -> tuple[Path, dict]:
    """Simulate (or reuse) the fileset, phenotypes and covariates; return (directory, metadata)."""
    from alignome.simulate.genotypes import simulate_genotypes, write_plink

    n, m, d = args.samples, args.variants, args.traits
    key = f"n{n}_m{m}_d{d}_c{args.causal}_miss{args.missing_rate:g}_s{args.seed}"
    out = args.cache / f"gwas_vs_plink2_{key}"
    meta_path = out / "meta.json"
    if meta_path.is_file():
        return out, json.loads(meta_path.read_text())
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    n_seg = max(1, math.ceil(m / args.segment_snps))
    per_seg = math.ceil(m / n_seg)
    length = int(1.6 * per_seg / COMMON_SNPS_PER_BP)  # slack: thinning keeps exactly per_seg where possible
    segments = tuple((1 + i % 22, 1_000_000 + (i // 22) * (length + 1_000_000)) for i in range(n_seg))
    geno = simulate_genotypes(n, args.seed, n_snps=m, segments=segments, segment_length_bp=length)
    rng = np.random.default_rng(args.seed + 1)
    if geno.n_variants < m:
        raise SystemExit(f"msprime gave {geno.n_variants} common SNPs < {m}: raise --segment-snps slack")
    if geno.n_variants > m:  # drop a random surplus, keep file order
        keep = np.sort(rng.choice(geno.n_variants, size=m, replace=False))
        geno = dataclasses.replace(geno, dosage=np.ascontiguousarray(geno.dosage[:, keep]), **{
            a: getattr(geno, a)[keep] for a in ("chromosome", "bp_position", "variant_id", "allele_1", "allele_2")})
    # chromosome by chromosome (segments cycle over the 22 autosomes; plink2 refuses a split chromosome)
    order = np.lexsort((geno.bp_position, geno.chromosome.astype(int)))
    geno = dataclasses.replace(geno, dosage=np.ascontiguousarray(geno.dosage[:, order]), **{
        a: getattr(geno, a)[order] for a in ("chromosome", "bp_position", "variant_id", "allele_1", "allele_2")})
    t_sim = time.perf_counter() - t0
    dosage = geno.dosage  # int8 (n, m)
    # causal variants (before missingness): standardised counts
    causal = np.sort(rng.choice(m, size=args.causal, replace=False))
    gc = dosage[:, causal].astype(float)
    gc = (gc - gc.mean(0)) / gc.std(0)
    # a little missingness: bed-reader writes int8 −127 as a missing call
    n_missing = int(round(args.missing_rate * n * m))
    flat = rng.choice(n * m, size=n_missing, replace=False) if n_missing else np.zeros(0, dtype=np.int64)
    dosage.reshape(-1)[flat] = -127
    iids = [f"s{i:06d}" for i in range(n)]
    write_plink(out / "g", geno, iids, rng.integers(1, 3, size=n))
    # covariates and D correlated traits: each causal variant explains ~0.5% of a trait's variance
    age = rng.normal(70.0, 8.0, n)
    male = rng.integers(0, 2, n).astype(float)
    pc1 = rng.normal(size=n)
    effects = rng.normal(size=(args.causal, d)) * np.sqrt(0.005) * (rng.random((args.causal, d)) < 0.7)
    mix = rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
    noise = rng.normal(size=(n, d)) @ mix
    noise /= noise.std(0)
    y = gc @ effects + 0.03 * (age - 70.0)[:, None] + 0.2 * male[:, None] + 0.1 * pc1[:, None] + noise
    traits = [f"T{k + 1}" for k in range(d)]
    pheno = pd.DataFrame(y, columns=traits)
    pheno.insert(0, "IID", iids)
    pheno.insert(0, "FID", iids)
    pheno.to_csv(out / "pheno.tsv", sep="\t", index=False, float_format="%.8g")
    covar = pd.DataFrame({"FID": iids, "IID": iids, "AGE": age, "MALE": male, "PC1": pc1})
    covar.to_csv(out / "covar.tsv", sep="\t", index=False, float_format="%.8g")
    meta = {"samples": n, "variants": m, "traits": d, "covariates": 3, "missing_rate": args.missing_rate,
            "missing_calls": n_missing, "causal_variants": [str(geno.variant_id[j]) for j in causal],
            "segments": n_seg, "segment_length_bp": length, "simulate_s": round(t_sim, 1),
            "bed_bytes": (out / "g.bed").stat().st_size, "seed": args.seed}
    meta_path.write_text(json.dumps(meta, indent=2))
    return out, meta


# ----------------------------------------------------------------------------- runs


def run_child(cmd: list[str], env: dict | None = None, log: Path | None = None) -> dict:
    """Run ``cmd`` as a child process; wall time, CPU times and peak RSS of that child.

    Peak RSS comes from ``/usr/bin/time -f %M`` (GNU time) when present: Linux carries a process's
    ``ru_maxrss`` across fork + exec, so the rusage of a child forked from this (possibly large)
    Python process would report at least the parent's own peak.  GNU time is a small process, so
    the tool it executes starts from a negligible high-water mark.
    """
    gnu_time = Path("/usr/bin/time")
    rss_file = (log or Path(os.devnull)).with_suffix(".maxrss") if log else None
    full = [str(gnu_time), "-f", "%M", "-o", str(rss_file), *cmd] if gnu_time.exists() and rss_file else cmd
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    with open(log or os.devnull, "w") as handle:
        proc = subprocess.Popen(full, stdout=handle, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text()[-3000:] if log else ""
        raise RuntimeError(f"{' '.join(cmd)} failed with {proc.returncode}:\n{tail}")
    if full is not cmd:
        peak_kib = float(rss_file.read_text().split()[-1])
        rss_source = "GNU time %M"
    else:
        peak_kib = usage.ru_maxrss
        rss_source = "rusage (includes the parent's high-water mark)"
    return {"wall_s": wall, "user_s": usage.ru_utime, "sys_s": usage.ru_stime,
            "cpu_util": (usage.ru_utime + usage.ru_stime) / wall, "peak_rss_mib": peak_kib / MIB,
            "rss_source": rss_source, "load_before": load}


def warm_page_cache(path: Path, chunk: int = 1 << 24) -> None:
    """Read ``path`` through once, so that every timed run starts with the ``.bed`` in the page cache.

    This machine reclaims cached pages in the background, so without this whichever tool runs first
    after a pause reads the file from disk and the comparison measures the disk.
    """
    with open(path, "rb", buffering=0) as handle:
        while handle.read(chunk):
            pass


def alignome_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "alignome"
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "alignome"]


def run_all(args: argparse.Namespace, data: Path, meta: dict) -> list[dict]:
    plink2 = shutil.which("plink2") or os.environ.get("PLINK2")
    if not plink2:
        raise SystemExit("plink2 not found (Debian: apt-get install plink2)")
    work = data / "runs"
    work.mkdir(exist_ok=True)
    threads = [args.threads] + ([1] if args.single_thread and args.threads != 1 else [])
    rows = []
    units = meta["variants"] * meta["samples"] * meta["traits"]
    for t in threads:
        env = {**os.environ, "ALIGNOME_THREADS": str(t), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1"}
        jobs = [
            ("plink2 --glm", "single", [plink2, "--bfile", "g", "--pheno", "pheno.tsv", "--covar", "covar.tsv",
                                        "--glm", "hide-covar", "omit-ref", "--threads", str(t),
                                        "--memory", str(args.plink_memory), "--out", f"runs/plink2_t{t}"], None),
            ("alignome gwas", "single", [*alignome_cmd(), "gwas", "--bfile", "g", "--pheno", "pheno.tsv",
                                         "--covar", "covar.tsv", "--mode", "single", "--block-size",
                                         str(args.block_size), "--no-plots", "--no-loci",
                                         "--out", f"runs/alignome_single_t{t}"], env),
            ("alignome gwas", "multi", [*alignome_cmd(), "gwas", "--bfile", "g", "--pheno", "pheno.tsv",
                                        "--covar", "covar.tsv", "--mode", "multi", "--block-size",
                                        str(args.block_size), "--no-plots", "--no-loci",
                                        "--out", f"runs/alignome_multi_t{t}"], env),
        ]
        for tool, mode, cmd, e in jobs:
            log = work / f"{tool.split()[0]}_{mode}_t{t}.log"
            warm_page_cache(data / "g.bed")
            print(f"[{time.strftime('%H:%M:%S')}] {tool} ({mode}, {t} thread{'s' if t > 1 else ''}) …", flush=True)
            cwd = os.getcwd()
            os.chdir(data)
            try:
                res = run_child(cmd, env=e, log=log)
            finally:
                os.chdir(cwd)
            res.update({"tool": tool, "mode": mode, "threads": t,
                        "tests": meta["variants"] * (meta["traits"] if mode == "single" else 1),
                        "variants_samples_traits_per_s": units / res["wall_s"]})
            print(f"    wall {res['wall_s']:.2f} s, peak RSS {res['peak_rss_mib']:.0f} MiB", flush=True)
            rows.append(res)
    for r in rows:
        ref = next(x for x in rows if x["tool"].startswith("plink2") and x["threads"] == r["threads"])
        r["ratio_to_plink2"] = r["wall_s"] / ref["wall_s"]
    return rows


def check_against_plink2(args: argparse.Namespace, data: Path, meta: dict) -> dict:
    """Compare alignome single mode with plink2 on a random sample of variants of every trait."""
    t = args.threads
    rng = np.random.default_rng(args.seed + 7)
    sample = np.sort(rng.choice(meta["variants"], size=min(args.check_variants, meta["variants"]), replace=False))
    worst = {c: 0.0 for c in ("BETA", "SE", "T_STAT", "P")}
    compared = mismatches = same_text = texts = 0
    obs_equal = ids_equal = True
    full = pd.read_parquet(data / "runs" / f"alignome_single_t{t}.single.parquet")  # full precision
    for k in range(meta["traits"]):
        trait = f"T{k + 1}"
        ref = pd.read_csv(data / "runs" / f"plink2_t{t}.{trait}.glm.linear", sep="\t", na_values=["NA"])
        mine = full[full["PHENO"] == trait].reset_index(drop=True)
        ids_equal &= len(ref) == len(mine) and bool((ref["ID"].to_numpy() == mine["ID"].to_numpy()).all())
        # the TSVs as text: both print 6 significant digits
        ref_text = pd.read_csv(data / "runs" / f"plink2_t{t}.{trait}.glm.linear", sep="\t", dtype=str,
                               keep_default_na=False).iloc[sample]
        mine_text = pd.read_csv(data / "runs" / f"alignome_single_t{t}.{trait}.glm.linear", sep="\t", dtype=str,
                                keep_default_na=False).iloc[sample]
        for col in worst:
            same_text += int((ref_text[col].to_numpy() == mine_text[col].to_numpy()).sum())
            texts += len(sample)
        ref, mine = ref.iloc[sample], mine.iloc[sample]
        obs_equal &= bool((ref["OBS_CT"].to_numpy() == mine["OBS_CT"].to_numpy()).all())
        for col in worst:
            a, b = mine[col].to_numpy(float), ref[col].to_numpy(float)
            both = np.isfinite(a) & np.isfinite(b)
            mismatches += int((np.isfinite(a) != np.isfinite(b)).sum())
            rel = np.abs(a[both] - b[both]) / np.maximum(np.abs(b[both]), 1e-300)
            worst[col] = max(worst[col], float(rel.max()) if rel.size else 0.0)
            compared += int(both.sum())
    ok = ids_equal and obs_equal and mismatches == 0 and max(worst.values()) <= 6e-6
    return {"variants_per_trait": int(sample.size), "values_compared": compared, "ids_equal": ids_equal,
            "obs_ct_equal": obs_equal, "na_mismatches": mismatches, "max_rel_err": worst,
            "tsv_text_identical": same_text / max(texts, 1),
            "tolerance": "6e-6 relative (alignome's Parquet at full precision against plink2's 6 significant "
                         "digits)", "ok": bool(ok)}


def block_cost(data: Path, meta: dict, block_size: int, n_blocks: int = 10) -> dict:
    """In-process cost of one block (read + multi-trait test, one thread), on blocks spread over the file.

    Blocks go to the test as the scan hands them over: still-packed ``.bed`` bytes (PackedBlock).
    """
    from threadpoolctl import threadpool_limits

    from alignome.gwas.blocks import read_packed
    from alignome.gwas.multitrait import multitrait_assoc
    from alignome.gwas.packed import PackedBlock, kernel_available

    pheno = pd.read_csv(data / "pheno.tsv", sep="\t")
    covar = pd.read_csv(data / "covar.tsv", sep="\t")
    y = pheno.drop(columns=["FID", "IID"]).to_numpy()
    x = covar.drop(columns=["FID", "IID"]).to_numpy()
    starts = np.linspace(0, meta["variants"] - block_size, n_blocks).astype(int)
    bed = str(data / "g.bed")
    n = meta["samples"]
    read_s = test_s = 0.0
    with threadpool_limits(limits=1, user_api="blas"):
        multitrait_assoc(y, PackedBlock(read_packed(bed, 0, min(block_size, meta["variants"])), n), x)  # warm-up
        for s in starts:
            t0 = time.perf_counter()
            g = PackedBlock(read_packed(bed, int(s), int(s) + block_size), n)
            t1 = time.perf_counter()
            multitrait_assoc(y, g, x)
            t2 = time.perf_counter()
            read_s += t1 - t0
            test_s += t2 - t1
    per_block = (read_s + test_s) / n_blocks
    return {"block_size": block_size, "blocks_timed": n_blocks, "read_s_per_block": read_s / n_blocks,
            "test_s_per_block": test_s / n_blocks, "kernel": kernel_available(),
            "s_per_variant_sample": per_block / (block_size * meta["samples"])}


# ----------------------------------------------------------------------------- report

N_BIG, M_BIG, D_BIG = 500_000, 10_000_000, 10


def extrapolate(rows: list[dict], meta: dict, cost: dict) -> dict:
    """Per-block cost × blocks ÷ workers at 500k samples × 10M variants (an extrapolation, not a measurement)."""
    multi = [r for r in rows if r["tool"] == "alignome gwas" and r["mode"] == "multi"]
    one = min(multi, key=lambda r: r["threads"])
    whole_run = (one["user_s"] + one["sys_s"]) / (meta["variants"] * meta["samples"])  # incl. start-up and output
    per_unit = cost["s_per_variant_sample"]  # one core, read + test, D = 10, 3 covariates
    block = 1000  # variants per block at 500k samples: 125 MB of packed genotypes
    n_blocks = math.ceil(M_BIG / block)
    block_cpu = per_unit * N_BIG * block
    total_cpu_h = per_unit * N_BIG * M_BIG / 3600
    block_gib = math.ceil(N_BIG / 4) * block / 2**30  # the block stays packed (2 bits per call)
    # per worker besides the block: W = [Q Ỹ] scattered to .fam order and padded to 16 columns (n × 16 float64),
    # Y, Q and Ỹ (n × (D + p) float64 each), the interpreter with numpy and pyarrow (~0.4 GiB)
    fixed_gib = (N_BIG * 16 * 8 + 3 * N_BIG * (D_BIG + 4) * 8) / 2**30 + 0.4
    bed_tib = math.ceil(N_BIG / 4) * M_BIG / 2**40
    scenarios = []
    for workers in (16, 64, 256):
        wall_h = n_blocks * block_cpu / workers / 3600
        scenarios.append({"workers": workers, "wall_h": wall_h,
                          "bed_read_mb_per_s": bed_tib * 2**40 / (wall_h * 3600) / 1e6})
    io_floor = {f"{gb_s:g} GB/s": bed_tib * 2**40 / (gb_s * 1e9) / 3600 for gb_s in (0.5, 2.0, 10.0)}
    return {"cpu_s_per_variant_sample": per_unit, "whole_run_cpu_s_per_variant_sample": whole_run,
            "from_run": (f"in-process block timing ({cost['blocks_timed']} blocks of {cost['block_size']}, "
                         "one thread)"),
            "block_size": block, "blocks": n_blocks, "cpu_s_per_block": block_cpu, "total_cpu_h": total_cpu_h,
            "worker_block_gib": block_gib, "worker_fixed_gib": fixed_gib, "worker_peak_gib_estimate": block_gib + fixed_gib,
            "bed_tib": bed_tib, "scenarios": scenarios, "io_floor_h": io_floor}


def _table(rows: list[dict]) -> list[str]:
    lines = ["| tool | mode | threads | wall (s) | ÷ plink2 | variants·samples·traits / s | CPU util "
             "| peak RSS (MiB) | load before |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['tool']} | {r['mode']} | {r['threads']} | {r['wall_s']:.2f} | {r['ratio_to_plink2']:.2f} | "
                     f"{r['variants_samples_traits_per_s']:.3g} | {r['cpu_util']:.2f} | {r['peak_rss_mib']:.0f} | "
                     f"{r['load_before']:.2f} |")
    return lines


def _verdict(rows: list[dict]) -> str:
    """Which alignome modes are within plink2's wall time, per thread count (from the table's ratios)."""
    parts = []
    for r in rows:
        if r["tool"].startswith("alignome"):
            ok = "≤" if r["ratio_to_plink2"] <= 1.0 else ">"
            parts.append(f"{r['mode']} with {r['threads']} thread(s) {r['ratio_to_plink2']:.2f}× ({ok} plink2)")
    return "; ".join(parts)


def _extra_section(title: str, intro: str, extra: dict | None) -> list[str]:
    if not extra:
        return []
    chk = extra["check"]
    return [
        f"## {title}",
        "",
        intro,
        "",
        *_table(extra["runs"]),
        "",
        f"alignome ÷ plink2: {_verdict(extra['runs'])}. Agreement: max relative error "
        + ", ".join(f"{k} {v:.1e}" for k, v in chk["max_rel_err"].items()) + f" → {'PASS' if chk['ok'] else 'FAIL'}.",
        "",
    ]


def _complete_section(complete: dict | None) -> list[str]:
    return _extra_section(
        "Same comparison without missing genotypes",
        "This plink2 build is far slower on variants with missing calls (the table above) than on complete ones, "
        "where its bit-packed kernels run; alignome reads products and missing calls straight from the packed "
        "bytes either way (C kernel). The same simulation settings with 0% missing, same run:", complete)


def _scale_section(scale: dict | None) -> list[str]:
    if not scale:
        return []
    meta = scale["data"]
    return _extra_section(
        f"At scale: {meta['variants']:,} variants × {meta['samples']:,} samples, no missing genotypes",
        "At the issue's minimum size both tools finish in about a second, and alignome's fixed costs (Python "
        "start-up and imports, ≈ 0.2 s: numpy, pyarrow and typer; no pandas or SciPy on this path) are a fifth of "
        "it. The same comparison on a larger msprime "
        "simulation (same settings, 0% missing — plink2's fastest path), same run:", scale)


def markdown(report: dict) -> str:
    meta, rows, chk, ex = report["data"], report["runs"], report["check"], report["extrapolation"]
    lines = [
        "# GWAS speed: alignome vs plink2 --glm (same traits, same run)",
        "",
        f"Data: {meta['samples']:,} samples × {meta['variants']:,} msprime variants "
        f"({meta['missing_rate']:.2%} genotypes missing), D = {meta['traits']} traits, 3 covariates "
        f"(+ intercept). Machine: {report['machine']['cpus']} CPU(s) ({report['machine']['cpu']}), "
        f"{report['machine']['python']}, {report['plink2_version']}. "
        "Each run is a child process (wall clock; CPU from its rusage; peak RSS from GNU `time`), started "
        "with the `.bed` in the page cache (read through just before). "
        f"Run at {report['started_utc']} UTC.",
        "",
        *_table(rows),
    ]
    lines += [
        "",
        "plink2: `--glm hide-covar omit-ref --threads T`; alignome: `alignome gwas --mode single|multi --no-plots "
        "--no-loci` with `ALIGNOME_THREADS=T` (block workers; BLAS held to one thread). Single mode is D separate "
        "OLS t-tests (what plink2 computes); multi mode is one joint D-trait LRT per variant (paper 003). "
        "The machine's cores are shared: `load before` is the 1-minute load average when the run started.",
        "",
        f"**Agreement** (single mode vs plink2, {chk['variants_per_trait']:,} random variants × "
        f"{meta['traits']} traits, "
        f"{chk['values_compared']:,} values): max relative error "
        + ", ".join(f"{k} {v:.1e}" for k, v in chk["max_rel_err"].items())
        + f"; OBS_CT equal: {chk['obs_ct_equal']}; variant order equal: {chk['ids_equal']}; "
        f"NA mismatches: {chk['na_mismatches']} → {'PASS' if chk['ok'] else 'FAIL'} ({chk['tolerance']}). "
        f"The TSVs themselves (both at 6 significant digits): {chk['tsv_text_identical']:.2%} of the BETA/SE/"
        "T_STAT/P fields are the same text; the rest differ in the last digit.",
        "",
        *_complete_section(report.get("complete")),
        *_scale_section(report.get("scale")),
        "## Extrapolation (not measured): 500,000 samples × 10 million variants, D = 10, on a Dask cluster",
        "",
        f"*This section is arithmetic on the measured run above, not a measurement.* The multi-trait scan costs "
        f"O(n·m·(p + D)) for one pass over the genotypes (one `[Q Ỹ]ᵀG` product per block) plus "
        f"O(k·(p + D)²) per "
        f"variant for its k missing calls (the downdate), so the CPU time per variant·sample measured here — "
        f"{ex['cpu_s_per_variant_sample']:.3g} CPU s ({ex['from_run']}; the whole CLI run above, with start-up and "
        f"output, costs {ex['whole_run_cpu_s_per_variant_sample']:.3g}) — is carried over linearly "
        f"(the missing-call share grows with n only through k = rate × n).",
        "",
        f"- Blocks: with `--block-size {ex['block_size']}` there are {ex['blocks']:,} blocks of "
        f"{N_BIG:,} × {ex['block_size']} genotypes; one block ≈ {ex['cpu_s_per_block']:.0f} CPU s; "
        f"the whole scan ≈ {ex['total_cpu_h']:,.0f} CPU hours.",
        "- Wall time ≈ blocks × per-block cost ÷ workers (one core each; blocks are independent tasks that read "
        "the `.bed` themselves):",
    ]
    for s in ex["scenarios"]:
        lines.append(f"  - {s['workers']:,} workers: ≈ {s['wall_h'] * 60:,.0f} min of compute, the workers together "
                     f"reading the .bed at ≈ {s['bed_read_mb_per_s']:,.0f} MB/s")
    floors = ", ".join(f"{k}: {v * 60:,.0f} min" for k, v in ex["io_floor_h"].items())
    lines.append("- So beyond a few dozen workers the scan is I/O-bound: wall ≈ max(compute ÷ workers, "
                 f".bed size ÷ aggregate read bandwidth); reading the .bed once takes {floors}.")
    lines += [
        f"- Memory per worker: the block stays packed, {N_BIG:,} samples ÷ 4 × {ex['block_size']:,} variants = "
        f"{ex['worker_block_gib']:.2f} GiB, plus {ex['worker_fixed_gib']:.1f} GiB that do not depend on the block "
        f"(the trait and covariate matrices, the kernel's weight table, the interpreter) ≈ "
        f"{ex['worker_peak_gib_estimate']:.1f} GiB. It does not grow with the number of variants; variants with "
        "missing calls add only their missing entries (the downdate works on those). Without the C kernel "
        "(no compiler at install) blocks are decoded to float64: ×32 the block's bytes.",
        f"- I/O: the `.bed` is {ex['bed_tib']:.2f} TiB (n/4 bytes per variant); every byte is read once, so the "
        "shared filesystem (or object store) must sustain the rates above. Results (~100 bytes per variant and "
        "test) come back to the client in block order and are written there block by block "
        "(`ResultWriter`); the client keeps only each test's P (8 bytes per variant and test: 80 MB for the "
        "multi-trait scan of 10 M variants, 800 MB for 10 single-trait scans) for λGC, plots and loci.",
        "- Not covered: scheduler overhead per task (~ms, negligible against the per-block cost), stragglers, "
        "and the client's write bandwidth (≈ 1 GB of TSV + Parquet per 10 M rows).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    compileall.compile_dir(ROOT / "src" / "alignome", quiet=1)  # bytecode, as an installed package has it
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    data, meta = simulate(args)
    print(f"data: {data} ({meta['samples']} × {meta['variants']}, simulated in {meta['simulate_s']} s)", flush=True)
    rows = run_all(args, data, meta)
    check = check_against_plink2(args, data, meta)
    print(f"agreement with plink2: {check}", flush=True)
    cost = block_cost(data, meta, min(args.block_size, meta["variants"]))
    print(f"per-block cost: {cost}", flush=True)
    complete = None
    if args.with_complete and args.missing_rate > 0:
        cargs = argparse.Namespace(**{**vars(args), "missing_rate": 0.0})
        cdata, cmeta = simulate(cargs)
        print(f"data without missing genotypes: {cdata}", flush=True)
        complete = {"data": cmeta, "runs": run_all(cargs, cdata, cmeta),
                    "check": check_against_plink2(cargs, cdata, cmeta)}
    scale = None
    if args.scale_variants:
        sargs = argparse.Namespace(**{**vars(args), "missing_rate": 0.0, "variants": args.scale_variants,
                                      "single_thread": False})
        sdata, smeta = simulate(sargs)
        print(f"data at scale: {sdata}", flush=True)
        scale = {"data": smeta, "runs": run_all(sargs, sdata, smeta), "check": check_against_plink2(sargs, sdata, smeta)}
    version = subprocess.run([shutil.which("plink2") or "plink2", "--version"], capture_output=True,
                             text=True).stdout.strip()
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    report = {"started_utc": started, "data": meta, "runs": rows, "check": check, "complete": complete, "scale": scale,
              "block_cost": cost, "extrapolation": extrapolate(rows, meta, cost), "plink2_version": version,
              "machine": {"cpus": len(os.sched_getaffinity(0)), "cpu": cpu, "python": platform.python_version()},
              "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{args.name}.json").write_text(json.dumps(report, indent=2))
    (args.results / f"{args.name}.md").write_text(markdown(report))
    print((args.results / f"{args.name}.md").read_text())
    return report


if __name__ == "__main__":
    main()
