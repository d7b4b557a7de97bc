"""Two-locus r² as PLINK 1.9 computes it for ``--clump`` (and ``--r2``).

PLINK 1.9 does not correlate genotype counts. For two biallelic variants it
builds the 3×3 table of genotype pairs over samples called at *both*
variants (pairwise complete), counts the haplotypes that are known without
phase (every cell but het/het), and resolves the double heterozygotes by the
maximum-likelihood haplotype frequency: the real roots of a cubic in the
share of het/het samples carrying the 11/22 phase (``em_phase_hethet`` in
plink-ng ``1.9/plink_ld.c``, with ``cubic_real_roots`` from
``plink_common.c``). This module reproduces that computation step for step,
including its tolerances (2^-30, 2^-35, 2^-44) and its root selection, and
vectorises it over one index variant against many candidates.

Clumping never decodes genotypes to numbers. The C kernel ``alignome.genetics._bedscore``
(its ``clump``) counts haplotypes straight from the 2-bit ``.bed`` calls and
ports the EM below operation for operation. Its NumPy twin (:mod:`alignome.genetics.clump_numpy`)
gets the tables from bit planes (:mod:`alignome.genetics.ld_planes`) and uses what follows:
:func:`r2_screen` brackets r² from the bounds of the EM solution (the 1-1 haplotype frequency
lies between the known 1-1 haplotypes and those plus all double heterozygotes), so the cubic EM
(:func:`r2_from_counts`) runs only for tables whose bracket straddles the threshold. Both give
the same clumps.
"""

from __future__ import annotations

import numpy as np

# PLINK 1.9 tolerances (plink_common.h)
EPSILON = 2.0**-30
SMALLISH_EPSILON = 2.0**-35
SMALL_EPSILON = 2.0**-44


def genotype_table(index: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """3×3 tables of genotype pairs over samples called at both variants.

    Parameters
    ----------
    index
        ``(n,)`` allele counts (0, 1, 2; NaN missing) of the index variant.
    candidates
        ``(n, m)`` allele counts (0, 1, 2; NaN missing) of ``m`` candidates.

    Returns
    -------
    np.ndarray
        ``(m, 9)`` float counts; entry ``3*i + j`` counts samples with index
        genotype ``i`` and candidate genotype ``j``, where 0, 1, 2 code the
        homozygote of the counted allele, the heterozygote and the other
        homozygote (PLINK's ``counts[]`` layout).
    """
    index = np.asarray(index, dtype=np.float64)
    cand = np.asarray(candidates, dtype=np.float64)
    if cand.ndim == 1:
        cand = cand[:, None]
    rows = np.stack([index == 2, index == 1, index == 0]).astype(np.float64)  # (3, n)
    m = cand.shape[1]
    cols = np.concatenate([cand == 2, cand == 1, cand == 0], axis=1).astype(np.float64)  # (n, 3m)
    table = (rows @ cols).reshape(3, 3, m)  # [i, j, candidate]
    return table.transpose(2, 0, 1).reshape(m, 9)


def cubic_real_roots(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Real roots of x³ + a x² + b x + c, as plink's ``cubic_real_roots``.

    Returns
    -------
    roots, count
        ``(m, 3)`` roots sorted ascending in the first ``count`` slots
        (multiple roots counted once, within 2^-30), and ``(m,)`` counts.
    """
    a, b, c = (np.asarray(x, dtype=np.float64) for x in (a, b, c))
    m = a.shape[0]
    roots = np.zeros((m, 3))
    count = np.ones(m, dtype=np.int64)
    with np.errstate(all="ignore"):
        a2 = a * a
        qq = (a2 - 3 * b) * (1.0 / 9.0)
        rr = (2 * a2 * a - 9 * a * b + 27 * c) * (1.0 / 54.0)
        r2 = rr * rr
        q3 = qq * qq * qq
        adiv3 = a * (1.0 / 3.0)
        three = r2 < q3
        # three real roots
        sq = np.sqrt(qq)
        d = np.arccos(rr / (qq * sq)) * (1.0 / 3.0)
        sq = sq * -2
        s = np.stack(
            [sq * np.cos(d) - adiv3, sq * np.cos(d + (2.0 * np.pi / 3.0)) - adiv3, sq * np.cos(d - (2.0 * np.pi / 3.0)) - adiv3],
            axis=1,
        )
        s = np.sort(s, axis=1)
        dup01 = s[:, 1] - s[:, 0] < EPSILON
        s1 = np.where(dup01, s[:, 2], s[:, 1])
        n3 = np.where(dup01, np.where(s1 - s[:, 0] < EPSILON, 1, 2), np.where(s[:, 2] - s[:, 1] < EPSILON, 2, 3))
        s3 = np.stack([s[:, 0], s1, s[:, 2]], axis=1)
        # one or two real roots
        dxx = -np.power(np.abs(rr) + np.sqrt(r2 - q3), 1.0 / 3.0)
        zero = dxx == 0.0
        dxx = np.where(rr < 0.0, -dxx, dxx)
        sqo = qq / dxx
        first = dxx + sqo - adiv3
        single = np.abs(dxx - sqo) >= (EPSILON * 8)
        other = -dxx - adiv3
        lo = np.where(dxx >= 0.0, other, first)
        hi = np.where(dxx >= 0.0, first, other)
        o0 = np.where(zero, -adiv3, np.where(single, first, lo))
        o1 = np.where(zero | single, 0.0, hi)
        no = np.where(zero | single, 1, 2)
    roots[:] = np.where(three[:, None], s3, np.stack([o0, o1, np.zeros(m)], axis=1))
    count[:] = np.where(three, n3, no)
    return roots, count


def _lnlike(known: tuple[np.ndarray, ...], center: np.ndarray, freqs: tuple[np.ndarray, ...], half: np.ndarray,
            incr: np.ndarray) -> np.ndarray:
    k11, k12, k21, k22 = known
    f11, f12, f21, f22 = freqs
    f11 = f11 + incr
    f22 = f22 + incr
    f12 = f12 + (half - incr)
    f21 = f21 + (half - incr)
    with np.errstate(all="ignore"):
        out = center * np.log(f11 * f22 + f12 * f21)
        for k, f in ((k11, f11), (k12, f12), (k21, f21), (k22, f22)):
            out = out + np.where(k != 0.0, k * np.log(f), 0.0)
    return out


def _known_haplotypes(c: np.ndarray):
    """Haplotype counts phased unambiguously by ``(m, 9)`` genotype-pair tables.

    Returns ``(k11, k12, k21, k22)``, the double-heterozygote count ``center``,
    ``twice_tot`` (all haplotypes), the known fractions ``(f11, f12, f21, f22)``
    and ``half`` = center / twice_tot (NaN/inf where twice_tot is 0).
    """
    k11 = 2 * c[:, 0] + c[:, 1] + c[:, 3]
    k12 = 2 * c[:, 2] + c[:, 1] + c[:, 5]
    k21 = 2 * c[:, 6] + c[:, 3] + c[:, 7]
    k22 = 2 * c[:, 8] + c[:, 5] + c[:, 7]
    center = c[:, 4]
    twice_tot = k11 + k12 + k21 + k22 + 2 * center
    with np.errstate(all="ignore"):
        recip = 1.0 / twice_tot
        fractions = (k11 * recip, k12 * recip, k21 * recip, k22 * recip)
        half = center * recip
    return (k11, k12, k21, k22), center, twice_tot, fractions, half


def em_haplotype_frequencies(counts: np.ndarray) -> tuple[np.ndarray, ...]:
    """PLINK 1.9's ``em_phase_hethet_nobase`` for autosomal variants.

    Parameters
    ----------
    counts
        ``(m, 9)`` genotype-pair tables from :func:`genotype_table`.

    Returns
    -------
    ok, freq1x, freq2x, freqx1, freqx2, freq11
        ``ok`` is False where PLINK gives up (no pairwise-complete samples,
        or a variant monomorphic over them); otherwise the allele frequencies
        at the index (``1x``/``2x``) and candidate (``x1``/``x2``) and the
        maximum-likelihood frequency of the 1-1 haplotype.
    """
    c = np.asarray(counts, dtype=np.float64)
    (k11, k12, k21, k22), center, twice_tot, (f11, f12, f21, f22), half = _known_haplotypes(c)
    with np.errstate(all="ignore"):
        p1122 = f11 * f22
        p1221 = f12 * f21
        freq1x = f11 + f12 + half
        freq2x = 1.0 - freq1x
        freqx1 = f11 + f21 + half
        freqx2 = 1.0 - freqx1
    m = c.shape[0]
    has_center = center != 0
    no_prod = (p1122 == 0.0) & (p1221 == 0.0)
    ok = (twice_tot != 0.0) & ~((~has_center) & no_prod)

    sols = np.zeros((m, 3))
    valid = np.zeros((m, 3), dtype=bool)
    # cubic branch
    cubic = has_center & ~no_prod & ok
    if cubic.any():
        roots, n = cubic_real_roots(
            0.5 * (f11 + f22 - f12 - f21 - 3 * half),
            0.5 * (p1122 + p1221 + half * (f12 + f21 - f11 - f22 + half)),
            -0.5 * half * p1122,
        )
        slot = np.arange(3)[None, :]
        v = (slot < n[:, None]) & ~(roots > (half + SMALLISH_EPSILON)[:, None]) & ~(roots < -SMALLISH_EPSILON)
        lost = ~v.any(axis=1)
        roots = np.where(lost[:, None], np.stack([np.zeros(m), half, np.zeros(m)], axis=1), roots)
        v = np.where(lost[:, None], np.array([True, True, False])[None, :], v)
        first = np.argmax(v, axis=1)
        last = 2 - np.argmax(v[:, ::-1], axis=1)
        rows = np.arange(m)
        clamp = ~lost
        lo = roots[rows, first]
        roots[rows, first] = np.where(clamp & (lo < 0), 0.0, lo)
        hi = roots[rows, last]
        roots[rows, last] = np.where(clamp & (hi > half), half, hi)
        sols = np.where(cubic[:, None], roots, sols)
        valid = np.where(cubic[:, None], v, valid)
    # het/het present but no informative product: boundary and midpoint candidates
    flat = has_center & no_prod & ok
    if flat.any():
        mid = (f22 + SMALLISH_EPSILON < half + f21) & (f21 + SMALLISH_EPSILON < half + f22)
        alt = np.stack([np.zeros(m), np.where(mid, (half + f21 - f22) * 0.5, half), half], axis=1)
        altv = np.stack([np.ones(m, bool), np.ones(m, bool), mid], axis=1)
        sols = np.where(flat[:, None], alt, sols)
        valid = np.where(flat[:, None], altv, valid)

    best = np.zeros(m)
    choose = has_center & ok
    if choose.any():
        first = np.argmax(valid, axis=1)
        rows = np.arange(m)
        best = sols[rows, first]
        known = (k11, k12, k21, k22)
        freqs = (f11, f12, f21, f22)
        base = _lnlike(known, center, freqs, half, best)
        # plink keeps comparing against the *first* root's likelihood (it never
        # updates best_lnlike), so the last later root that beats it wins
        chosen = best.copy()
        for j in range(1, 3):
            later = valid[:, j] & (j > first)
            cur = _lnlike(known, center, freqs, half, sols[:, j])
            chosen = np.where(later & (cur > base), sols[:, j], chosen)
        best = np.where(choose, chosen, 0.0)
    freq11 = f11 + best
    return ok, freq1x, freq2x, freqx1, freqx2, freq11


def r2_from_counts(counts: np.ndarray, signed: bool = False) -> np.ndarray:
    """PLINK 1.9 ``--clump`` r² from genotype-pair tables.

    Parameters
    ----------
    counts
        ``(m, 9)`` tables from :func:`genotype_table`.
    signed
        Keep the sign of D (negative: the counted alleles are in repulsion),
        as PLINK stores it internally.

    Returns
    -------
    np.ndarray
        ``(m,)`` r²; NaN where PLINK computes none (then no clumping).
    """
    ok, freq1x, freq2x, freqx1, freqx2, freq11 = em_haplotype_frequencies(counts)
    with np.errstate(all="ignore"):
        expected = freqx1 * freq1x
        dxx = freq11 - expected
        mag = np.abs(dxx)
        r2 = np.where(mag >= SMALL_EPSILON, mag * dxx / (expected * freq2x * freqx2), 0.0)
    r2 = np.where(ok, r2, np.nan)
    return r2 if signed else np.abs(r2)


def r2_em(index: np.ndarray, candidates: np.ndarray, signed: bool = False) -> np.ndarray:
    """PLINK 1.9 two-locus r² (EM haplotype frequencies) of one variant with many.

    Parameters
    ----------
    index
        ``(n,)`` allele counts of the index variant (NaN missing).
    candidates
        ``(n, m)`` allele counts of the candidates (NaN missing).
    signed
        Return D's sign with the value (see :func:`r2_from_counts`).

    Returns
    -------
    np.ndarray
        ``(m,)`` r², NaN where undefined (no pairwise-complete sample, or a
        variant monomorphic over them).

    Examples
    --------
    >>> import numpy as np
    >>> g = np.array([0, 1, 2, 1, 0, 2, 1, 0.0])
    >>> float(r2_em(g, g[:, None])[0])
    1.0
    """
    return r2_from_counts(genotype_table(index, candidates), signed=signed)


def r2_pearson(index: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Squared Pearson correlation of allele counts (pairwise complete), for comparison."""
    x = np.asarray(index, dtype=np.float64)
    ys = np.asarray(candidates, dtype=np.float64)
    if ys.ndim == 1:
        ys = ys[:, None]
    out = np.empty(ys.shape[1])
    for j in range(ys.shape[1]):
        keep = ~(np.isnan(x) | np.isnan(ys[:, j]))
        with np.errstate(all="ignore"):
            out[j] = np.corrcoef(x[keep], ys[keep, j])[0, 1] ** 2
    return out


def r2_screen(counts: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Which tables certainly have PLINK r² above / not above ``threshold``, without the EM.

    PLINK's maximum-likelihood frequency of the 1-1 haplotype lies in
    ``[f11, f11 + half]`` (known 1-1 haplotypes plus at most all double
    heterozygotes), so D lies in a known interval and r² between the squares
    of its ends over the same denominator PLINK uses. Tables whose interval
    leaves no doubt (with a generous rounding margin) are decided here; only
    the rest need :func:`r2_from_counts`.

    Returns
    -------
    above, undecided
        ``(m,)`` booleans: r² certainly > threshold; not decidable from bounds.
        Everything else is certainly not above (or undefined, NaN in PLINK).
    """
    _, center, twice_tot, (f11, f12, f21, f22), half = _known_haplotypes(np.asarray(counts, dtype=np.float64))
    with np.errstate(all="ignore"):
        freq1x = f11 + f12 + half
        freqx1 = f11 + f21 + half
        expected = freqx1 * freq1x
        denom = expected * (1.0 - freq1x) * (1.0 - freqx1)
        margin = 2.0**-30
        dlo = f11 - expected - margin
        dhi = f11 + half - expected + margin
        upper = np.maximum(dlo * dlo, dhi * dhi) / denom
        away = (dlo > 0) | (dhi < 0)
        low_d = np.minimum(np.abs(dlo), np.abs(dhi))
        lower = np.where(away, low_d * low_d / denom, 0.0)
        ok = (twice_tot != 0.0) & ~((center == 0) & (f11 * f22 == 0.0) & (f12 * f21 == 0.0))
        above = ok & np.isfinite(lower) & (lower > threshold * (1 + 1e-9) + 1e-300) & (low_d > 2.0**-40)
        below = ~ok | (np.isfinite(upper) & (upper < threshold * (1 - 1e-9)))
    return above, ~(above | below)
