#include "_bedscore.h"

/* Hardy-Weinberg exact test (Wigginton, Cutler & Abecasis 2005) with the conventions of
 * alignome.genetics.hwe: p = Σ of the probabilities of heterozygote counts no more probable than the
 * observed one (ties within a factor e^1e-9 included), mid-p subtracting half the ties.
 *
 * With n genotypes and `rare` copies of the rarer allele, the heterozygote count is h = parity + 2k,
 * k = 0 … rare/2, with P(h) ∝ 2^h / (h! r! c!), r = (rare − h)/2 and c = n − h − r.  The terms are
 * walked from the mode outwards by their ratios, P(h+2)/P(h) = 4rc / ((h+1)(h+2)) and
 * P(h−2)/P(h) = h(h−1) / (4(r+1)(c+1)) (products with tables of 4/((h+1)(h+2)), h(h−1)/4 and 1/x: no
 * division), relative to the mode (1), until they fall below 1e-18 of the observed term; past the observed
 * term's level four at a time (the ratios' running products off the chain of terms).  An observed term
 * below 1e-280 of the mode's (p far below 1e-250) is summed in log space with lgamma instead. */
#define HWE_TIE 1e-9
#define HWE_STOP 1e-18
#define HWE_FLOOR 1e-280

typedef struct {
    int64_t n, rare, parity, last; /* last: largest k */
    const double *up, *down, *rec; /* up[h] = 4/((h+1)(h+2)), down[h] = h(h−1)/4, rec[x] = 1/x */
    const double *up_k, *down_k;   /* up and down at h = parity + 2k, by k */
} hwe_case;

/* P(k+1)/P(k) and P(k−1)/P(k) */
static inline double hwe_up(const hwe_case *t, int64_t k)
{
    const int64_t h = t->parity + 2 * k, r = (t->rare - h) / 2, c = t->n - h - r;
    return (double)r * (double)c * t->up[h];
}

static inline double hwe_down(const hwe_case *t, int64_t k)
{
    const int64_t h = t->parity + 2 * k, r = (t->rare - h) / 2, c = t->n - h - r;
    return t->down[h] * t->rec[r + 1] * t->rec[c + 1];
}

static double hwe_logp(const hwe_case *t, int64_t k)
{
    const int64_t h = t->parity + 2 * k, r = (t->rare - h) / 2, c = t->n - h - r;
    return (double)h * M_LN2 - lgamma((double)h + 1) - lgamma((double)r + 1) - lgamma((double)c + 1);
}

/* Σ exp(logp(k) − ref) over k from `from` stepping by `dir` until the terms are 45 nats below both ref and
 * obs (or the range ends), counting all terms (mode 0), those at most obs (1) or within the tie tolerance (2). */
static double hwe_log_walk(const hwe_case *t, int64_t from, int dir, double ref, double obs, int mode)
{
    double sum = 0.0;
    for (int64_t k = from; k >= 0 && k <= t->last; k += dir) {
        const double lp = hwe_logp(t, k);
        if (lp < ref - 45.0 && lp < obs)
            break;
        if (mode == 0 || (mode == 1 && lp <= obs + HWE_TIE) || (mode == 2 && fabs(lp - obs) <= HWE_TIE))
            sum += exp(lp - ref);
    }
    return sum;
}

/* The far-tail case, in log space: p = Σ_tail / Σ_all. */
static double hwe_far(const hwe_case *t, int64_t km, int64_t kobs, int midp)
{
    const double lm = hwe_logp(t, km), lo = hwe_logp(t, kobs);
    const int dir = kobs > km ? 1 : -1;
    const double total = hwe_log_walk(t, km, 1, lm, lm, 0) + hwe_log_walk(t, km - 1, -1, lm, lm, 0);
    double tail = hwe_log_walk(t, kobs, dir, lo, lo, 1), ties = hwe_log_walk(t, kobs, dir, lo, lo, 2);
    /* the other side: from the first k (moving away from the mode) whose term is at most the observed one */
    int64_t a = km, b = dir > 0 ? 0 : t->last; /* logp(a) > lo + tie ≥ logp(b): the crossing lies in (a, b] */
    if (a != b && hwe_logp(t, b) <= lo + HWE_TIE) {
        while ((b - a) * -dir > 1) {
            const int64_t mid = a + (b - a) / 2;
            if (hwe_logp(t, mid) > lo + HWE_TIE)
                a = mid;
            else
                b = mid;
        }
        tail += hwe_log_walk(t, b, -dir, lo, lo, 1);
        ties += hwe_log_walk(t, b, -dir, lo, lo, 2);
    }
    const double value = midp ? tail - 0.5 * ties : tail;
    if (value <= 0.0)
        return 0.0;
    const double p = exp(log(value) + lo - lm - log(total));
    return p < 1.0 ? p : 1.0;
}

/* One side of the mode (up: larger heterozygote counts), terms relative to the mode's: all added to *total,
 * those at most `upper` (no more probable than the observed one) to *tail, those also at least `lower` to
 * *ties; the walk stops once the terms in the tail fall below `stop`. */
static inline __attribute__((always_inline)) void hwe_side(const hwe_case *t, int64_t km, const int up, double upper,
                                                          double lower, double stop, double *total, double *tail,
                                                          double *ties)
{
    int64_t k = km, r = (t->rare - t->parity) / 2 - km, c = t->n - t->parity - 2 * km - r;
    int64_t left = up ? t->last - km : km;
#define HWE_STEP()                                                                                                    \
    do {                                                                                                              \
        if (up) {                                                                                                     \
            term *= (double)r * (double)c * t->up_k[k];                                                               \
            k++, r--, c--;                                                                                            \
        } else {                                                                                                      \
            term *= t->down_k[k] * t->rec[r + 1] * t->rec[c + 1];                                                     \
            k--, r++, c++;                                                                                            \
        }                                                                                                             \
        left--;                                                                                                       \
    } while (0)
    double term = 1.0, sum = 0.0;
    int in_tail = 0;
    while (left > 0) { /* more probable than the observed term */
        HWE_STEP();
        if (term <= upper) {
            in_tail = 1;
            break;
        }
        sum += term;
    }
    *total += sum;
    if (!in_tail)
        return;
    sum = term;
    if (term >= lower)
        *ties += term;
    while (term >= lower && left > 0) { /* the terms decrease: ties only come first */
        HWE_STEP();
        sum += term;
        if (term >= lower)
            *ties += term;
    }
    /* eight at a time: the ratios' running products, times the last term (kept in every lane) */
    v4d acc = {0.0, 0.0, 0.0, 0.0}, termv = {term, term, term, term};
    const v4d ones = {1.0, 1.0, 1.0, 1.0}, fours = {4.0, 4.0, 4.0, 4.0};
    v4d rv = (double)r - (v4d){0.0, 1.0, 2.0, 3.0}, cv = (double)c - (v4d){0.0, 1.0, 2.0, 3.0};
    while (left >= 8 && term >= stop) {
        v4d a, b;
        if (up) {
            a = rv * cv * load4(t->up_k + k);
            rv -= fours, cv -= fours;
            b = rv * cv * load4(t->up_k + k + 4);
            rv -= fours, cv -= fours;
            k += 8, r -= 8, c -= 8;
        } else {
            a = __builtin_shuffle(load4(t->down_k + k - 3), (v4u){3, 2, 1, 0}) * load4(t->rec + r + 1) *
                load4(t->rec + c + 1);
            b = __builtin_shuffle(load4(t->down_k + k - 7), (v4u){3, 2, 1, 0}) * load4(t->rec + r + 5) *
                load4(t->rec + c + 5);
            k -= 8, r += 8, c += 8;
        }
        a *= __builtin_shuffle(ones, a, (v4u){0, 4, 5, 6}); /* running products: a0, a0a1, a1a2, a2a3 */
        a *= __builtin_shuffle(ones, a, (v4u){0, 1, 4, 5}); /* a0, a0a1, a0a1a2, a0…a3 */
        b *= __builtin_shuffle(ones, b, (v4u){0, 4, 5, 6});
        b *= __builtin_shuffle(ones, b, (v4u){0, 1, 4, 5});
        b *= __builtin_shuffle(a, (v4u){3, 3, 3, 3});
        const v4d first = termv * a, second = termv * b;
        acc += first + second;
        termv = __builtin_shuffle(second, (v4u){3, 3, 3, 3});
        term = second[3];
        left -= 8;
    }
    while (left > 0 && term >= stop) {
        HWE_STEP();
        sum += term;
    }
#undef HWE_STEP
    sum += (acc[0] + acc[1]) + (acc[2] + acc[3]);
    *total += sum;
    *tail += sum;
}

/* The case of a genotype-count triple (n > 0), its mode km and observed kobs, and the observed term relative
 * to the mode's (tobs; 0 when below HWE_FLOOR: the far tail). */
static inline __attribute__((always_inline)) void hwe_setup(int64_t het, int64_t hom1, int64_t hom2,
                                                           const double *tables, int64_t size, hwe_case *t,
                                                           int64_t *km_out, int64_t *kobs_out, double *tobs_out)
{
    const int64_t homr = hom1 < hom2 ? hom1 : hom2, homc = hom1 < hom2 ? hom2 : hom1;
    const int64_t n = het + homr + homc, rare = 2 * homr + het, parity = rare & 1;
    *t = (hwe_case){n, rare, parity, rare / 2, tables, tables + size, tables + 2 * size,
                    tables + (3 + parity) * size, tables + (5 + parity) * size};
    const int64_t kobs = (het - parity) / 2;
    /* mode: from the normal approximation's mean, then up or down while the ratio says so */
    const double mean = (double)rare * (2.0 * (double)n - (double)rare) / (2.0 * (double)n - 1.0);
    double guess = floor((mean - (double)parity) / 2.0 + 0.5);
    int64_t km = guess < 0 ? 0 : guess > (double)t->last ? t->last : (int64_t)guess;
    while (km < t->last && hwe_up(t, km) > 1.0)
        km++;
    while (km > 0 && hwe_down(t, km) > 1.0)
        km--;
    /* the observed term, relative to the mode's (the same products as the walk of hwe_side) */
    const int dir = kobs > km ? 1 : -1;
    double tobs = 1.0;
    for (int64_t k = km; k != kobs && tobs > 0.0; k += dir) {
        tobs *= dir > 0 ? hwe_up(t, k) : hwe_down(t, k);
        if (tobs < HWE_FLOOR)
            tobs = 0.0;
    }
    *km_out = km;
    *kobs_out = kobs;
    *tobs_out = tobs;
}

static inline __attribute__((always_inline)) double hwe_test(int64_t het, int64_t hom1, int64_t hom2,
                                                              const double *tables, int64_t size, int midp)
{
    if (het + hom1 + hom2 <= 0)
        return midp ? 0.5 : 1.0;
    hwe_case t;
    int64_t km, kobs;
    double tobs;
    hwe_setup(het, hom1, hom2, tables, size, &t, &km, &kobs, &tobs);
    if (tobs == 0.0)
        return hwe_far(&t, km, kobs, midp);
    const double upper = tobs * exp(HWE_TIE), lower = tobs * exp(-HWE_TIE), stop = tobs * HWE_STOP;
    double total = 1.0, tail = 0.0, ties = 0.0;
    if (1.0 <= upper) {
        tail += 1.0;
        if (1.0 >= lower)
            ties += 1.0;
    }
    hwe_side(&t, km, 1, upper, lower, stop, &total, &tail, &ties);
    hwe_side(&t, km, 0, upper, lower, stop, &total, &tail, &ties);
    double p = (midp ? tail - 0.5 * ties : tail) / total;
    return p < 0.0 ? 0.0 : p < 1.0 ? p : 1.0;
}

/* Whether hwe_test(...) < threshold, mostly without computing it: p ≥ tobs / (number of terms) (the tail
 * holds the observed term and no term exceeds the mode's; mid-p: at least half the observed term), so an
 * observed configuration that is not too improbable settles it. */
static inline __attribute__((always_inline)) int hwe_below(int64_t het, int64_t hom1, int64_t hom2,
                                                          const double *tables, int64_t size, int midp,
                                                          double threshold)
{
    if (het + hom1 + hom2 > 0) {
        hwe_case t;
        int64_t km, kobs;
        double tobs;
        hwe_setup(het, hom1, hom2, tables, size, &t, &km, &kobs, &tobs);
        if (tobs * (midp ? 0.5 : 1.0) / (double)(t.last + 1) > threshold * (1.0 + 1e-6))
            return 0;
    }
    return hwe_test(het, hom1, hom2, tables, size, midp) < threshold;
}

/* p-values into out (float64), or, with a threshold (not NaN), whether each is below it into out (uint8) */
static inline __attribute__((always_inline)) void hwe_body(const int64_t *het, const int64_t *hom1,
                                                           const int64_t *hom2, Py_ssize_t count,
                                                           const double *tables, int64_t size, int midp,
                                                           double threshold, void *out)
{
    if (threshold != threshold)
        for (Py_ssize_t i = 0; i < count; i++)
            ((double *)out)[i] = hwe_test(het[i], hom1[i], hom2[i], tables, size, midp);
    else
        for (Py_ssize_t i = 0; i < count; i++)
            ((uint8_t *)out)[i] = (uint8_t)hwe_below(het[i], hom1[i], hom2[i], tables, size, midp, threshold);
}

/* The same arithmetic in every version (no FMA contraction: AVX2 without FMA): the same p-values. */
#ifdef QC_DISPATCH
__attribute__((target("avx2")))
static void hwe_avx2(const int64_t *het, const int64_t *hom1, const int64_t *hom2, Py_ssize_t count,
                     const double *tables, int64_t size, int midp, double threshold, void *out)
{
    hwe_body(het, hom1, hom2, count, tables, size, midp, threshold, out);
}
#endif

static void hwe_default(const int64_t *het, const int64_t *hom1, const int64_t *hom2, Py_ssize_t count,
                        const double *tables, int64_t size, int midp, double threshold, void *out)
{
    hwe_body(het, hom1, hom2, count, tables, size, midp, threshold, out);
}

/* hwe(het, hom1, hom2, midp, out[, threshold]) */
PyObject *ab_hwe(PyObject *self, PyObject *args)
{
    Py_buffer het, hom1, hom2, out;
    int midp;
    double threshold = NAN;
    if (!PyArg_ParseTuple(args, "y*y*y*pw*|d", &het, &hom1, &hom2, &midp, &out, &threshold))
        return NULL;
    PyObject *result = NULL;
    double *rec = NULL;
    const Py_ssize_t n_tests = het.len / (Py_ssize_t)sizeof(int64_t);
    const int64_t *a = het.buf, *b = hom1.buf, *c = hom2.buf;
    int64_t most = 0;
    const Py_ssize_t item = threshold == threshold ? 1 : (Py_ssize_t)sizeof(double);
    int ok = het.len % (Py_ssize_t)sizeof(int64_t) == 0 && hom1.len == het.len && hom2.len == het.len &&
             out.len == item * n_tests;
    for (Py_ssize_t i = 0; ok && i < n_tests; i++) {
        ok = a[i] >= 0 && b[i] >= 0 && c[i] >= 0 && a[i] <= INT32_MAX && b[i] <= INT32_MAX && c[i] <= INT32_MAX;
        if (ok && a[i] + b[i] + c[i] > most)
            most = a[i] + b[i] + c[i];
    }
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "hwe: need int64 het, hom1, hom2 of one length, counts in 0 … 2^31−1, "
                                          "and an out of that length (float64; uint8 with a threshold)");
        goto done;
    }
    /* up, down, rec by h (or x); then up and down by k for even h, for odd h (parity); each 8 beyond the last
     * index used, for the four-wide loads */
    const int64_t size = most + 12;
    rec = PyMem_RawCalloc((size_t)(7 * size), sizeof(double));
    if (!rec) {
        PyErr_NoMemory();
        goto done;
    }
    for (int64_t x = 0; x < most + 3; x++) {
        rec[x] = 4.0 / ((double)(x + 1) * (double)(x + 2));
        rec[size + x] = (double)x * (double)(x - 1) / 4.0;
        rec[2 * size + x] = x ? 1.0 / (double)x : 0.0;
        rec[(3 + x % 2) * size + x / 2] = rec[x];
        rec[(5 + x % 2) * size + x / 2] = rec[size + x];
    }
#ifdef QC_DISPATCH
    if (ab_qc_level() >= 1)
        hwe_avx2(a, b, c, n_tests, rec, size, midp, threshold, out.buf);
    else
#endif
        hwe_default(a, b, c, n_tests, rec, size, midp, threshold, out.buf);
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_RawFree(rec);
    PyBuffer_Release(&het);
    PyBuffer_Release(&hom1);
    PyBuffer_Release(&hom2);
    PyBuffer_Release(&out);
    return result;
}
