#include "_bedscore.h"

/* ---------------------------------------------------------------------------------------------------
 * PLINK 1.9's two-locus r² for --clump (em_phase_hethet with the roots of cubic_real_roots), operation for
 * operation as alignome.genetics.ld computes it in NumPy (r2_from_counts, r2_screen), for one pair from its
 * known haplotype counts k11 k12 k21 k22 and double heterozygotes.
 */

#define EPSILON 0x1p-30
#define SMALLISH_EPSILON 0x1p-35
#define SMALL_EPSILON 0x1p-44

/* Real roots of x³ + a x² + b x + c, ascending, multiple roots once (cubic_real_roots). */
static int cubic_real_roots(double a, double b, double c, double s[3])
{
    const double a2 = a * a;
    const double qq = (a2 - 3 * b) * (1.0 / 9.0);
    const double rr = (2 * a2 * a - 9 * a * b + 27 * c) * (1.0 / 54.0);
    const double r2 = rr * rr, q3 = qq * qq * qq, adiv3 = a * (1.0 / 3.0);
    if (r2 < q3) {
        double sq = sqrt(qq);
        const double d = acos(rr / (qq * sq)) * (1.0 / 3.0);
        sq = sq * -2;
        s[0] = sq * cos(d) - adiv3;
        s[1] = sq * cos(d + (2.0 * M_PI / 3.0)) - adiv3;
        s[2] = sq * cos(d - (2.0 * M_PI / 3.0)) - adiv3;
        for (int i = 0; i < 2; i++) /* sort three */
            for (int j = 0; j < 2 - i; j++)
                if (s[j] > s[j + 1]) {
                    const double t = s[j];
                    s[j] = s[j + 1];
                    s[j + 1] = t;
                }
        if (s[1] - s[0] < EPSILON) {
            s[1] = s[2];
            return s[1] - s[0] < EPSILON ? 1 : 2;
        }
        return s[2] - s[1] < EPSILON ? 2 : 3;
    }
    double dxx = -pow(fabs(rr) + sqrt(r2 - q3), 1.0 / 3.0);
    if (dxx == 0.0) {
        s[0] = -adiv3;
        return 1;
    }
    if (rr < 0.0)
        dxx = -dxx;
    const double sqo = qq / dxx;
    s[0] = dxx + sqo - adiv3;
    if (fabs(dxx - sqo) >= EPSILON * 8)
        return 1;
    if (dxx >= 0.0) {
        s[1] = s[0];
        s[0] = -dxx - adiv3;
    } else {
        s[1] = -dxx - adiv3;
    }
    return 2;
}

ab_haplotypes ab_known_haplotypes(double k11, double k12, double k21, double k22, double center)
{
    ab_haplotypes h = {{k11, k12, k21, k22}, center, k11 + k12 + k21 + k22 + 2 * center, {0}, 0};
    const double recip = 1.0 / h.twice_tot;
    for (int i = 0; i < 4; i++)
        h.f[i] = h.k[i] * recip;
    h.half = center * recip;
    return h;
}

static double lnlike(const ab_haplotypes *h, double incr)
{
    const double f11 = h->f[0] + incr, f22 = h->f[3] + incr;
    const double f12 = h->f[1] + (h->half - incr), f21 = h->f[2] + (h->half - incr);
    const double f[4] = {f11, f12, f21, f22};
    double out = h->center * log(f11 * f22 + f12 * f21);
    for (int i = 0; i < 4; i++)
        if (h->k[i] != 0.0)
            out = out + h->k[i] * log(f[i]);
    return out;
}

double ab_em_r2(const ab_haplotypes *h)
{
    const double f11 = h->f[0], f12 = h->f[1], f21 = h->f[2], f22 = h->f[3], half = h->half;
    const double p1122 = f11 * f22, p1221 = f12 * f21;
    const double freq1x = f11 + f12 + half, freq2x = 1.0 - freq1x;
    const double freqx1 = f11 + f21 + half, freqx2 = 1.0 - freqx1;
    const int no_prod = p1122 == 0.0 && p1221 == 0.0;
    if (h->twice_tot == 0.0 || (h->center == 0 && no_prod))
        return NAN;
    double freq11 = f11;
    if (h->center != 0) {
        double sol[3] = {0, 0, 0};
        int valid[3] = {0, 0, 0};
        if (!no_prod) {
            const int n = cubic_real_roots(0.5 * (f11 + f22 - f12 - f21 - 3 * half),
                                           0.5 * (p1122 + p1221 + half * (f12 + f21 - f11 - f22 + half)),
                                           -0.5 * half * p1122, sol);
            int first = -1, last = -1;
            for (int j = 0; j < 3; j++) {
                valid[j] = j < n && !(sol[j] > half + SMALLISH_EPSILON) && !(sol[j] < -SMALLISH_EPSILON);
                if (valid[j]) {
                    first = first < 0 ? j : first;
                    last = j;
                }
            }
            if (first < 0) { /* the root lost is a double root at a boundary: try both */
                sol[0] = 0.0;
                sol[1] = half;
                valid[0] = valid[1] = 1;
            } else {
                if (sol[first] < 0)
                    sol[first] = 0.0;
                if (sol[last] > half)
                    sol[last] = half;
            }
        } else {
            const int mid = f22 + SMALLISH_EPSILON < half + f21 && f21 + SMALLISH_EPSILON < half + f22;
            sol[1] = mid ? (half + f21 - f22) * 0.5 : half;
            sol[2] = half;
            valid[0] = valid[1] = 1;
            valid[2] = mid;
        }
        int first = 0;
        while (!valid[first])
            first++;
        /* PLINK compares every later root with the first root's likelihood (never updated): the last later
         * root that beats it wins */
        const double base = lnlike(h, sol[first]);
        double best = sol[first];
        for (int j = first + 1; j < 3; j++)
            if (valid[j] && lnlike(h, sol[j]) > base)
                best = sol[j];
        freq11 = f11 + best;
    }
    const double expected = freqx1 * freq1x, dxx = freq11 - expected, mag = fabs(dxx);
    return mag >= SMALL_EPSILON ? mag * dxx / (expected * freq2x * freqx2) : 0.0;
}

static inline double nan_max(double a, double b)
{
    return a != a || b != b ? NAN : a > b ? a : b;
}

static inline double nan_min(double a, double b)
{
    return a != a || b != b ? NAN : a < b ? a : b;
}

/* The 1-1 haplotype frequency lies in [f11, f11 + half], so D, and r² over PLINK's denominator, are
 * bracketed. */
int ab_r2_screen(const ab_haplotypes *h, double threshold)
{
    const double f11 = h->f[0], f12 = h->f[1], f21 = h->f[2], f22 = h->f[3], half = h->half;
    const double freq1x = f11 + f12 + half, freqx1 = f11 + f21 + half;
    const double expected = freqx1 * freq1x;
    const double denom = expected * (1.0 - freq1x) * (1.0 - freqx1);
    const double margin = 0x1p-30;
    const double dlo = f11 - expected - margin, dhi = f11 + half - expected + margin;
    const double upper = nan_max(dlo * dlo, dhi * dhi) / denom;
    const int away = dlo > 0 || dhi < 0;
    const double low_d = nan_min(fabs(dlo), fabs(dhi));
    const double lower = away ? low_d * low_d / denom : 0.0;
    const int ok = h->twice_tot != 0.0 && !(h->center == 0 && f11 * f22 == 0.0 && f12 * f21 == 0.0);
    if (ok && isfinite(lower) && lower > threshold * (1 + 1e-9) + 1e-300 && low_d > 0x1p-40)
        return 1;
    if (!ok || (isfinite(upper) && upper < threshold * (1 - 1e-9)))
        return 0;
    return -1;
}
