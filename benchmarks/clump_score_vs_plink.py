"""Clumping and polygenic scores: alignome vs ``plink1.9`` on the same msprime data, in one run.

What it does
------------
1. Simulates (once, cached under ``--cache``) ``--samples`` diploid genotypes of
   ``--variants`` common SNPs with msprime (:func:`alignome.simulate.genotypes.simulate_genotypes`:
   Ne = 10,000, recombination 1e-8/bp, mutation 1.25e-8/bp, MAF ≥ 0.05, thinned at
   random to the target count), on ``--chromosomes`` chromosomes of ``--segments``
   independent coalescent segments each, writes them as PLINK 1 binary
   (bed-reader), optionally sets a fraction ``--missing`` of calls to missing
   directly in the ``.bed``, simulates a quantitative phenotype (``--causal``
   variants, heritability ``--h2``), and writes an association report
   ``gwas.assoc`` (SNP, P of the Pearson-correlation t test) and a score file
   (every variant, A1 or A2 at random, weight = the marginal slope).
2. Times, in one run, each command as a child process, wall clock and peak RSS
   (GNU ``/usr/bin/time -f %M``): ``plink1.9 --clump`` and ``alignome variants clump`` with the
   paper 003 settings (p1 1e-5, p2 1e-2, r2 0.05, kb 5000) and PLINK's defaults
   (p1 1e-4, p2 1e-2, r2 0.5, kb 250); ``plink1.9 --score`` and ``alignome prs``
   (average and ``sum``). Each pair runs with ``--threads N`` for plink and
   alignome's single-threaded commands as they are, for every N in ``--threads``;
   also the library call alone (after start-up and imports) in a fresh process, and the start-up
   alone (``alignome prs`` on a missing file: everything up to its first check).
   A second, smaller data set (``--memory-variants``) shows how peak memory scales.
3. Checks the outputs: ``.clumped`` byte for byte; ``.profile`` CNT and CNT2
   exactly and the score within half a unit of PLINK's sixth printed digit
   (values on a rounding tie may print as either neighbour; they are counted).
4. Writes ``clump_score_vs_plink.json`` and ``.md`` under ``--results``.

Usage::

    python benchmarks/clump_score_vs_plink.py        # 5,000 × 100,000 (the issue's scale), and × 25,000 for memory
    python benchmarks/clump_score_vs_plink.py --samples 500 --variants 5000 --memory-variants 0 --results /tmp/r
"""

from __future__ import annotations

import argparse
import compileall
import json
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

CLUMP_SETTINGS = {
    "paper003": {"p1": 1e-5, "p2": 1e-2, "r2": 0.05, "kb": 5000},
    "plink_default": {"p1": 1e-4, "p2": 1e-2, "r2": 0.5, "kb": 250},
}


def simulate(args: argparse.Namespace, directory: Path) -> dict:
    """Simulate (or reuse) the fileset, the association report and the score file."""
    from scipy import stats

    from alignome.simulate.genotypes import simulate_genotypes, write_plink

    meta_path = directory / "data.json"
    key = {k: getattr(args, k) for k in ("samples", "variants", "chromosomes", "segments", "seed", "missing", "causal",
                                         "h2")}
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            return meta
    directory.mkdir(parents=True, exist_ok=True)
    n_seg = args.chromosomes * args.segments
    per_segment = int(np.ceil(args.variants / n_seg))
    # ~1.5 common SNPs per kb at this sample size; simulate ~1.4× what is kept, then thin
    length = int(per_segment * 1000 * 1.0) + 200_000
    segments = tuple((c, 1_000_000 + s * (length + 500_000)) for c in range(1, args.chromosomes + 1)
                     for s in range(args.segments))
    start = time.perf_counter()
    geno = simulate_genotypes(args.samples, args.seed, n_snps=args.variants, segments=segments,
                              segment_length_bp=length)
    sim_s = time.perf_counter() - start
    n, m = geno.dosage.shape
    prefix = directory / "ref"
    ids = [f"s{i}" for i in range(n)]
    write_plink(prefix, geno, ids, np.ones(n, dtype=int))
    rng = np.random.default_rng(args.seed + 1)
    # phenotype: a few causal variants plus noise
    causal = np.sort(rng.choice(m, args.causal, replace=False))
    g = geno.dosage[:, causal].astype(np.float64)
    g -= g.mean(axis=0)
    g /= g.std(axis=0)
    beta = rng.normal(size=args.causal)
    genetic = g @ beta
    genetic *= np.sqrt(args.h2 / genetic.var())
    y = genetic + rng.normal(scale=np.sqrt(1 - args.h2), size=n)
    yc = (y - y.mean()) / y.std()
    # marginal association, streamed over variant blocks (the full float matrix would not fit)
    r = np.empty(m)
    slope = np.empty(m)
    for lo in range(0, m, 4096):
        x = geno.dosage[:, lo:lo + 4096].astype(np.float64)
        x -= x.mean(axis=0)
        sd = x.std(axis=0)
        r[lo:lo + 4096] = (x.T @ yc) / n / sd
        slope[lo:lo + 4096] = (x.T @ yc) / n / sd**2
    t = r * np.sqrt((n - 2) / (1 - r**2))
    p = 2 * stats.t.sf(np.abs(t), n - 2)
    frame = pd.DataFrame({"CHR": geno.chromosome, "SNP": geno.variant_id, "BP": geno.bp_position,
                          "P": [f"{v:.6g}" for v in p]})
    frame.to_csv(directory / "gwas.assoc", sep=" ", index=False)
    use_a2 = rng.random(m) < 0.3
    allele = np.where(use_a2, geno.allele_2, geno.allele_1)
    weight = np.where(use_a2, -slope, slope)
    pd.DataFrame({"SNP": geno.variant_id, "A": allele, "W": [f"{v:.6g}" for v in weight]}).to_csv(
        directory / "weights.txt", sep=" ", index=False, header=False)
    del geno, g
    if args.missing > 0:
        set_missing(prefix.with_suffix(".bed"), n, m, args.missing, rng)
    meta = {"key": key, "samples": int(n), "variants": int(m), "simulate_s": round(sim_s, 1),
            "p_below_1e-5": int((p <= 1e-5).sum()), "p_below_1e-4": int((p <= 1e-4).sum()),
            "segment_length_bp": length, "segments": n_seg}
    meta_path.write_text(json.dumps(meta, indent=1))
    return meta


def set_missing(bed: Path, n: int, m: int, rate: float, rng: np.random.Generator) -> None:
    """Set a random fraction ``rate`` of calls to missing (code 01) in place, block by block."""
    row = (n + 3) // 4
    data = np.memmap(bed, dtype=np.uint8, mode="r+", offset=3, shape=(m, row))
    for lo in range(0, m, 4096):
        block = np.array(data[lo:lo + 4096])
        v, smp = np.nonzero(rng.random((block.shape[0], n)) < rate)
        clear = np.zeros_like(block)
        np.bitwise_or.at(clear, (v, smp // 4), (np.uint8(3) << (2 * (smp % 4)).astype(np.uint8)))
        data[lo:lo + 4096] = (block & ~clear) | (clear & np.uint8(0x55))  # 01: missing
    data.flush()
    del data


def run_child(cmd: list[str], cwd: Path, env: dict) -> dict:
    """Run ``cmd`` under GNU ``/usr/bin/time``: wall seconds and peak RSS (MiB) of the command itself.

    (``wait4`` on a child forked from this process would report this process's
    resident memory at the fork, not the command's.)
    """
    stats = cwd / ".time"
    wrapped = ["/usr/bin/time", "-f", "%e %M", "-o", str(stats), *cmd] if Path("/usr/bin/time").is_file() else cmd
    start = time.perf_counter()
    proc = subprocess.run(wrapped, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout.decode(errors='replace')[-3000:]}")
    rss = float("nan")
    if wrapped is not cmd:
        rss = int(stats.read_text().split()[-1]) / 1024
    return {"wall_s": round(wall, 3), "peak_rss_mib": round(rss, 1)}


LIBRARY_CALL = {
    "clumped": (
        "import time, sys\n"
        "from alignome.genetics.clump import clump_columns, read_clump_columns, write_clumped\n"
        "t = time.perf_counter()\n"
        "res = clump_columns(sys.argv[1], *read_clump_columns(sys.argv[2]), p1=float(sys.argv[3]),"
        " p2=float(sys.argv[4]), r2=float(sys.argv[5]), kb=float(sys.argv[6]))\n"
        "write_clumped(res, sys.argv[7])\n"
        "print(time.perf_counter() - t)\n"),
    "profile": (
        "import time, sys\n"
        "from alignome.genetics.score import profile_columns, read_score_columns, write_profile_columns\n"
        "t = time.perf_counter()\n"
        "cols, _ = profile_columns(sys.argv[1], *read_score_columns(sys.argv[2]), sum_=sys.argv[3] == 'sum')\n"
        "write_profile_columns(cols, sys.argv[4])\n"
        "print(time.perf_counter() - t)\n"),
}


def library_call(ext: str, argv: list[str], cwd: Path, env: dict) -> float:
    """Seconds of the library call alone (after Python start-up and imports), in a fresh process."""
    proc = subprocess.run([sys.executable, "-c", LIBRARY_CALL[ext], *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, check=True)
    return round(float(proc.stdout.strip().splitlines()[-1]), 3)


def startup_seconds(repeats: int) -> float:
    """Best wall time of ``alignome prs`` on a missing score file: start-up, argument parsing and every
    import the command needs (typer, numpy; `prs` imports no pandas), stopping at its first check: the floor of each command."""
    script = Path(sys.executable).parent / "alignome"
    alignome = [str(script)] if script.is_file() else [sys.executable, "-m", "alignome.cli"]
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([*alignome, "prs", "--bfile", "missing", "--score", "missing.txt", "--out", "missing"],
                       env=thread_env(1), capture_output=True)
        best = min(best, time.perf_counter() - start)
    return round(best, 3)


def thread_env(threads: int) -> dict:
    """The environment of both tools' runs: no BLAS thread settings (alignome's clump and prs start OpenBLAS
    with one thread unless the user sets OPENBLAS_NUM_THREADS; plink takes ``--threads``)."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUM_THREADS", "PST_NUM_THREADS"):
        env.pop(name, None)
    return env


def compare_profiles(ours: Path, theirs: Path) -> dict:
    a = pd.read_csv(ours, sep=r"\s+", dtype={"FID": str, "IID": str})
    b = pd.read_csv(theirs, sep=r"\s+", dtype={"FID": str, "IID": str})
    name = b.columns[-1]
    same_ids = bool((a["IID"].to_numpy() == b["IID"].to_numpy()).all()) and list(a.columns) == list(b.columns)
    same_cnt = bool((a["CNT"].to_numpy() == b["CNT"].to_numpy()).all() and (a["CNT2"].to_numpy() == b["CNT2"].to_numpy()).all())
    # PLINK prints six significant digits. Ours, printed the same way, must read the same, except where the
    # value sits on a rounding tie of the sixth digit (sums of 6-digit weights can), where either neighbour is
    # a correct rounding: identical means |ours - plink| <= half a unit of plink's sixth digit.
    ours_v, theirs_v = a[name].to_numpy(dtype=float), b[name].to_numpy(dtype=float)
    printed = np.array([float(f"{v:.6g}") for v in ours_v])
    same_printed = printed == theirs_v
    with np.errstate(divide="ignore"):
        unit = 10.0 ** (np.floor(np.log10(np.abs(theirs_v))) - 5)
    unit = np.where(theirs_v == 0, 1e-300, unit)
    within = np.abs(ours_v - theirs_v) <= 0.5 * unit * (1 + 1e-9)
    rel = np.abs(ours_v - theirs_v) / np.maximum(np.abs(theirs_v), 1e-300)
    return {"identical": same_ids and same_cnt and bool(within.all()), "cnt_identical": same_cnt,
            "score_within_plink_rounding": bool(within.all()),
            "score_printed_differently_at_ties": int((~same_printed & within).sum()),
            "max_rel_diff": float(rel.max())}


def run_scale(args: argparse.Namespace, variants: int, thread_counts: list[int]) -> tuple[dict, list[dict]]:
    """Simulate (or reuse) one data set and time every task on it."""
    args = argparse.Namespace(**{**vars(args), "variants": variants})
    cache = args.cache or ROOT / "benchmarks" / "out" / f"clump_score_{args.samples}x{variants}"
    meta = simulate(args, cache)
    work = cache / "runs"
    work.mkdir(exist_ok=True)
    script = Path(sys.executable).parent / "alignome"
    alignome = [str(script)] if script.is_file() else [sys.executable, "-m", "alignome.cli"]
    bfile = str(cache / "ref")
    rows = []
    for threads in thread_counts:
        env = thread_env(threads)
        tasks = []
        for name, s in CLUMP_SETTINGS.items():
            tasks.append((f"clump {name}", "clumped",
                          [args.plink, "--bfile", bfile, "--clump", str(cache / "gwas.assoc"), "--clump-p1", str(s["p1"]),
                           "--clump-p2", str(s["p2"]), "--clump-r2", str(s["r2"]), "--clump-kb", str(s["kb"]),
                           "--threads", str(threads), "--out", f"plink_{name}_t{threads}"],
                          [*alignome, "variants", "clump", "--bfile", bfile, "--sumstats", str(cache / "gwas.assoc"),
                           "--p1", str(s["p1"]), "--p2", str(s["p2"]), "--r2", str(s["r2"]), "--kb", str(s["kb"]),
                           "--out", f"ours_{name}_t{threads}"], f"{name}_t{threads}",
                          [bfile, str(cache / "gwas.assoc"), str(s["p1"]), str(s["p2"]), str(s["r2"]), str(s["kb"]),
                           f"lib_{name}_t{threads}"]))
        for mode in ("avg", "sum"):
            extra = ["sum"] if mode == "sum" else []
            tasks.append((f"score {mode}", "profile",
                          [args.plink, "--bfile", bfile, "--score", str(cache / "weights.txt"), *extra,
                           "--threads", str(threads), "--out", f"plink_score_{mode}_t{threads}"],
                          [*alignome, "prs", "--bfile", bfile, "--score", str(cache / "weights.txt"),
                           *(["--sum"] if mode == "sum" else []), "--out", f"ours_score_{mode}_t{threads}"],
                          f"score_{mode}_t{threads}", [bfile, str(cache / "weights.txt"), mode, f"lib_score_{mode}_t{threads}"]))
        for label, ext, plink_cmd, ours_cmd, tag, lib_argv in tasks:
            best_p = best_o = None
            call = float("inf")
            for _ in range(args.repeats):
                p = run_child(plink_cmd, work, env)
                o = run_child(ours_cmd, work, env)
                best_p = p if best_p is None or p["wall_s"] < best_p["wall_s"] else best_p
                best_o = o if best_o is None or o["wall_s"] < best_o["wall_s"] else best_o
                call = min(call, library_call(ext, lib_argv, work, env))
            best_o = {**best_o, "library_call_s": call}
            theirs = work / f"plink_{tag}.{ext}"
            ours = work / f"ours_{tag}.{ext}"
            if ext == "clumped":
                if theirs.is_file():
                    check = {"identical": ours.read_bytes() == theirs.read_bytes(),
                             "clumps": len(theirs.read_text().strip().splitlines()) - 1}
                else:  # plink writes no file when nothing clumps
                    check = {"identical": not ours.read_text().strip().splitlines()[1:], "clumps": 0}
            else:
                check = compare_profiles(ours, theirs)
            row = {"variants": meta["variants"], "samples": meta["samples"], "task": label, "threads": threads,
                   "plink": best_p, "alignome": best_o,
                   "ratio": round(best_o["wall_s"] / best_p["wall_s"], 3),
                   "ratio_library_call": round(call / best_p["wall_s"], 3), **check}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return meta, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--variants", type=int, default=100_000)
    ap.add_argument("--memory-variants", type=int, default=25_000,
                    help="also run at this many variants (one thread) to show peak memory does not grow; 0: skip")
    ap.add_argument("--chromosomes", type=int, default=22)
    ap.add_argument("--segments", type=int, default=2, help="independent msprime segments per chromosome")
    ap.add_argument("--missing", type=float, default=0.0, help="fraction of calls set to missing")
    ap.add_argument("--causal", type=int, default=30)
    ap.add_argument("--h2", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=str, default="1,2", help="comma-separated thread counts to compare at")
    ap.add_argument("--repeats", type=int, default=3, help="runs per command (the minimum wall time is kept)")
    ap.add_argument("--cache", type=Path, default=None, help="data directory (default benchmarks/out/clump_score_<n>x<m>)")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--plink", type=str, default=shutil.which("plink1.9") or "plink1.9")
    ap.add_argument("--markdown-only", action="store_true", help="rewrite the Markdown from the existing JSON")
    args = ap.parse_args()
    if args.markdown_only:
        result = json.loads((args.results / "clump_score_vs_plink.json").read_text())
        (args.results / "clump_score_vs_plink.md").write_text(markdown(result, args))
        return

    compileall.compile_dir(ROOT / "src" / "alignome", quiet=1)  # bytecode, as an installed package has it
    data, rows = [], []
    scales = [(args.variants, [int(t) for t in args.threads.split(",")])]
    if args.memory_variants and args.memory_variants != args.variants and args.cache is None:
        scales.append((args.memory_variants, [1]))
    for variants, threads in scales:
        meta, found = run_scale(args, variants, threads)
        data.append(meta)
        rows += found
    result = {
        "data": data, "plink": subprocess.run([args.plink, "--version"], capture_output=True, text=True).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "clump_settings": CLUMP_SETTINGS, "repeats": args.repeats, "startup_s": startup_seconds(args.repeats),
        "rows": rows,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "clump_score_vs_plink.json").write_text(json.dumps(result, indent=1))
    (args.results / "clump_score_vs_plink.md").write_text(markdown(result, args))
    print(f"wrote {args.results / 'clump_score_vs_plink.md'}")


def markdown(result: dict, args: argparse.Namespace) -> str:
    lines = ["# Clumping and polygenic scores: alignome vs plink1.9", ""]
    for d in result["data"]:
        lines += [
            f"Data ({d['variants']:,} variants): {d['samples']:,} samples × {d['variants']:,} variants, msprime "
            f"(`alignome.simulate.genotypes.simulate_genotypes`: Ne 10,000, recombination 1e-8/bp, mutation "
            f"1.25e-8/bp, MAF ≥ 0.05), {args.chromosomes} chromosomes × {args.segments} independent segments of "
            f"{d['segment_length_bp'] / 1e6:.2f} Mb, thinned at random to the target; "
            f"{args.missing:.1%} of calls set missing; seed {args.seed}. Phenotype: {args.causal} causal variants, "
            f"h² = {args.h2}; `gwas.assoc` holds the P of the Pearson-correlation t test of every variant "
            f"({d['p_below_1e-5']} with P ≤ 1e-5, {d['p_below_1e-4']} with P ≤ 1e-4). Score file: every variant, "
            "A1 or A2 at random, weight = marginal slope.",
            "",
        ]
    lines += [
        f"Each command runs as a child process (wall clock includes start-up and file reading; peak RSS from "
        f"GNU `time -f %M`), best of {result['repeats']}. plink gets `--threads N`; alignome's clumping and "
        "scoring are single-threaded either way (`prs` starts OpenBLAS with one thread unless "
        "OPENBLAS_NUM_THREADS is set, since it makes no BLAS call that threads would speed up; `variants clump` "
        "loads no BLAS). "
        f"Machine: {result['machine']['cpus']} CPUs, {result['machine']['platform']}; {result['plink']}.",
        "",
        "Identical: `.clumped` byte for byte; `.profile` same FID/IID, CNT and CNT2, and every SCORE within half a "
        "unit of plink's sixth printed digit (alignome writes ten digits; `ties` counts values on a rounding tie of "
        "the sixth digit, which the two round to different neighbours).",
        "",
        "`alignome s` is the whole command (`alignome variants clump` / `alignome prs`: Python start-up, imports "
        "(typer; numpy for `prs`; `variants clump` imports neither numpy nor pandas when the C kernel is built), "
        "reading, computing, writing); `call s` is the library call alone (`clump_columns(*read_clump_columns(...))` "
        "+ `write_clumped`, `profile_columns(...)` + `write_profile_columns`: the paths the two commands take) timed "
        "inside a fresh process. The package's bytecode is compiled first, as an installed package has it.",
        "",
        *([f"Start-up alone (`alignome prs` on a missing file: Python, argument parsing, the imports of typer, "
           f"numpy and alignome's pandas-free scoring modules, up to the first check) takes {result['startup_s']:.2f} s: every alignome command "
           "that needs numpy pays it before reading anything (`variants clump` with the C kernel needs none).", ""]
          if "startup_s" in result else []),
        "| variants | task | threads | plink1.9 s | alignome s | ratio (alignome ÷ plink) | call s | ratio (call ÷ plink) "
        "| plink peak RSS MiB | alignome peak RSS MiB | identical |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        extra = f" ({r['clumps']} clumps)" if "clumps" in r else ""
        lines.append(f"| {r['variants']:,} | {r['task']}{extra} | {r['threads']} | {r['plink']['wall_s']:.2f} | "
                     f"{r['alignome']['wall_s']:.2f} | "
                     f"{r['ratio']:.2f} | {r['alignome']['library_call_s']:.2f} | {r['ratio_library_call']:.2f} | "
                     f"{r['plink']['peak_rss_mib']:.0f} | {r['alignome']['peak_rss_mib']:.0f} | "
                     f"{'yes' if r['identical'] else 'NO'}"
                     f"{' (ties: %d)' % r['score_printed_differently_at_ties'] if r.get('score_printed_differently_at_ties') else ''} |")
    big = max(r["variants"] for r in result["rows"])
    for kind in ("clump", "score"):
        sel = [r for r in result["rows"] if r["variants"] == big and r["task"].startswith(kind)]
        if sel:
            whole = [r["ratio"] for r in sel]
            call = [r["ratio_library_call"] for r in sel]
            met = "met" if max(whole) <= 1.0 else "not met"
            lines.append(f"\n**{kind}** at {big:,} variants: whole command {min(whole):.2f}–{max(whole):.2f}× plink, "
                         f"library call {min(call):.2f}–{max(call):.2f}× plink; the issue's target (≤ 1.0) is {met}; "
                         f"outputs identical in {sum(r['identical'] for r in sel)} of {len(sel)}.")
    lines += [
        "",
        "How alignome computes it: clumping reads the `.bim` and the report as columns of byte spans (no Python "
        "object per cell), finds the report's ids in the `.bim` by hashing, and hands the rest to the C kernel: "
        "entries and index order, each index variant's window, and, against every not-yet-clumped window "
        "variant, the EM inputs from two AND+popcount products of the 2-bit calls of the memory-mapped `.bed` "
        "(AVX-512 vector popcounts where the CPU has them); PLINK's cubic EM runs only where bounds on the EM "
        "solution cannot decide r² against the threshold, and for SP2 members. Scoring sums straight from the "
        "packed bytes: a fixed 256-row table gives each byte's four calls as one vector of four doubles, so a "
        "variant adds weight × table row to the sums of four samples per byte (16 variants × 4 bytes at a time in "
        "registers); rows with a missing call also add the mean-imputed 2·f·w, f from popcounts over the "
        "founders. Both run in the optional C extension `alignome.genetics._bedscore`; without a compiler NumPy "
        "does the same (bit planes from a 16-bit look-up table through a 64 MiB block cache; byte look-up table "
        "and small matrix products) with the same results.",
        "",
        "Peak memory: alignome's is the interpreter and its imports before any data, plus the variant tables "
        "(byte spans: tens of bytes per variant, as plink also keeps its `.bim` in memory); scoring adds one "
        "block of `.bed` rows, clumping the pages of the memory-mapped `.bed` its windows touch (file pages of "
        "the page cache, counted in the resident size, which the system drops as it needs); genotypes are never "
        "all in memory. Compare the two data sizes above.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
