/*
 * Scores: fixed 256-row tables give the four calls of every byte as one vector of four doubles, so
 * a variant adds w · TABLE[byte] to the sums of the byte's four samples: one vector multiply-add per
 * byte.  Per sample, accumulate() adds
 *
 *   total    Σ w·dosage over called variants, plus w·2f over missing ones (mean imputation, else 0),
 *   dosage   Σ dosage over called variants (PLINK's CNT2),
 *   missing  the number of missing calls (CNT = 2 · (variants − missing)),
 *
 * where dosage counts the scored allele (A1, or 2 − A1 when the scored allele is A2) and f is its
 * frequency over the founders called at the variant (popcounts of the row, only for rows with a
 * missing call).  Variants are taken GROUP at a time and byte positions STEP at a time, so that the
 * sums stay in registers while the group's rows are read.
 */
#include "_bedscore.h"

#define GROUP 16 /* variants summed in registers per byte position */
#define STEP 4   /* byte positions summed side by side */

static v4d DOSE[2][256]; /* [scored allele is A2][byte]: the four calls' dosages, missing 0 */
static v4d MISS[256];    /* 1 where the call is missing */
#define LOW 0x5555555555555555ULL /* the low bit of every 2-bit call */

void ab_build_tables(void)
{
    static const double a1[4] = {2.0, 0.0, 1.0, 0.0};
    for (int byte = 0; byte < 256; byte++)
        for (int k = 0; k < 4; k++) {
            const int code = byte >> (2 * k) & 3;
            DOSE[0][byte][k] = a1[code];
            DOSE[1][byte][k] = code == 1 ? 0.0 : 2.0 - a1[code];
            MISS[byte][k] = code == 1;
        }
}

/* Whether a .bed row holds a missing call (code 01: low bit set, high bit clear). */
static inline __attribute__((always_inline)) int has_missing(const uint8_t *row, Py_ssize_t width)
{
    uint8_t any = 0;
    for (Py_ssize_t j = 0; j < width; j++)
        any |= row[j] & ~(row[j] >> 1) & 0x55;
    return any != 0;
}

/* w·2f, the mean-imputed contribution of a missing call: f is the scored allele's frequency over the
 * founders called (0 when none is); founders holds the low bit of each founder's call, 32 per word. */
static inline __attribute__((always_inline)) double fill_weight(const uint8_t *row, Py_ssize_t width,
                                                               const uint64_t *founders, double w, int flip)
{
    int64_t called = 0, a1 = 0;
    for (Py_ssize_t j = 0; j < width; j += 8) {
        const uint64_t x = load8(row, j, width), f = founders[j / 8];
        const uint64_t lo = x & LOW, hi = x >> 1 & LOW;
        called += __builtin_popcountll(f & ~(lo & ~hi));
        a1 += 2 * __builtin_popcountll(f & ~(lo | hi)) + __builtin_popcountll(f & hi & ~lo); /* 00 → 2, 10 → 1 */
    }
    if (!called)
        return 0.0;
    const double dose = flip ? 2.0 * (double)called - (double)a1 : (double)a1;
    return 2.0 * (dose / (2.0 * (double)called)) * w;
}

/* Sums of `step` byte positions from j0 on, over a group of g ≤ GROUP variants, added to the outputs.
 * Each position's sums are one chain of additions; `step` chains side by side overlap in the pipeline.
 * with_missing = 0 skips the missing-call sums (the group has none). */
static inline __attribute__((always_inline)) void span_sums(const uint8_t *const *rows, const v4d *const *dose,
                                                           const double *w, const double *fill, Py_ssize_t g,
                                                           Py_ssize_t j0, const int step, const int with_missing,
                                                           double *total, double *dosage, double *missing)
{
    v4d t[STEP] = {{0}}, d[STEP] = {{0}}, m[STEP] = {{0}};
    for (Py_ssize_t k = 0; k < g; k++)
        for (int s = 0; s < step; s++) {
            const uint8_t byte = rows[k][j0 + s];
            const v4d x = dose[k][byte];
            t[s] += w[k] * x;
            d[s] += x;
            if (with_missing) {
                const v4d y = MISS[byte];
                t[s] += fill[k] * y;
                m[s] += y;
            }
        }
    for (int s = 0; s < step; s++) {
        add4(total + 4 * (j0 + s), t[s]);
        add4(dosage + 4 * (j0 + s), d[s]);
        if (with_missing)
            add4(missing + 4 * (j0 + s), m[s]);
    }
}

static inline __attribute__((always_inline)) void group_sums(const uint8_t *const *rows, const v4d *const *dose,
                                                            const double *w, const double *fill, Py_ssize_t g,
                                                            Py_ssize_t width, const int with_missing, double *total,
                                                            double *dosage, double *missing)
{
    Py_ssize_t j = 0;
    for (; j + STEP <= width; j += STEP)
        span_sums(rows, dose, w, fill, g, j, STEP, with_missing, total, dosage, missing);
    for (; j < width; j++)
        span_sums(rows, dose, w, fill, g, j, 1, with_missing, total, dosage, missing);
}

MULTIVERSION
static void accumulate_all(const uint8_t *raw, Py_ssize_t m, Py_ssize_t width, const double *weight,
                           const uint8_t *flip, const uint64_t *founders, int mean_imputation, double *total,
                           double *dosage, double *missing)
{
    for (Py_ssize_t v0 = 0; v0 < m; v0 += GROUP) {
        const Py_ssize_t g = m - v0 < GROUP ? m - v0 : GROUP;
        const uint8_t *rows[GROUP];
        const v4d *dose[GROUP];
        double w[GROUP], fill[GROUP];
        int with_missing = 0;
        for (Py_ssize_t k = 0; k < g; k++) {
            const Py_ssize_t v = v0 + k;
            rows[k] = raw + v * width;
            dose[k] = DOSE[flip[v] != 0];
            w[k] = weight[v];
            const int row_missing = has_missing(rows[k], width);
            fill[k] = row_missing && mean_imputation ? fill_weight(rows[k], width, founders, w[k], flip[v] != 0) : 0.0;
            with_missing |= row_missing;
        }
        if (with_missing)
            group_sums(rows, dose, w, fill, g, width, 1, total, dosage, missing);
        else
            group_sums(rows, dose, w, fill, g, width, 0, total, dosage, missing);
    }
}

/* accumulate(raw, m, width, weight, flip, founders, mean_imputation, total, dosage, missing) */
PyObject *ab_accumulate(PyObject *self, PyObject *args)
{
    Py_buffer raw, weight, flip, founders, total, dosage, missing;
    Py_ssize_t m, width;
    int mean_imputation;
    if (!PyArg_ParseTuple(args, "y*nny*y*y*pw*w*w*", &raw, &m, &width, &weight, &flip, &founders, &mean_imputation,
                          &total, &dosage, &missing))
        return NULL;
    PyObject *result = NULL;
    const Py_ssize_t sums = (Py_ssize_t)sizeof(double) * 4 * width;
    if (m < 0 || width < 0 || raw.len != m * width || weight.len != (Py_ssize_t)sizeof(double) * m ||
        flip.len != m || founders.len != 4 * width || total.len != sums || dosage.len != sums || missing.len != sums) {
        PyErr_SetString(PyExc_ValueError, "accumulate: buffer sizes do not match (m, width)");
        goto done;
    }
    const Py_ssize_t words = (width + 7) / 8;
    uint64_t *lanes = PyMem_RawCalloc(words > 0 ? (size_t)words : 1, sizeof(uint64_t));
    if (!lanes) {
        PyErr_NoMemory();
        goto done;
    }
    const uint8_t *f = founders.buf;
    for (Py_ssize_t i = 0; i < 4 * width; i++)
        lanes[i / 32] |= (uint64_t)(f[i] != 0) << (2 * (i % 32));
    Py_BEGIN_ALLOW_THREADS
    accumulate_all(raw.buf, m, width, weight.buf, flip.buf, lanes, mean_imputation, total.buf, dosage.buf,
                   missing.buf);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(lanes);
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&raw);
    PyBuffer_Release(&weight);
    PyBuffer_Release(&flip);
    PyBuffer_Release(&founders);
    PyBuffer_Release(&total);
    PyBuffer_Release(&dosage);
    PyBuffer_Release(&missing);
    return result;
}
