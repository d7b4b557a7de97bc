/*
 * Kernels on PLINK .bed bytes that never decode genotypes to numbers:
 *
 *   accumulate()   polygenic-score sums (alignome.genetics.score.score_bed),
 *   bitplanes()    LD bit planes of rows (alignome.genetics.ld.BedBitPlanes),
 *   pair_counts()  AND + popcount of an index variant's planes with candidates' planes
 *                  (alignome.genetics.ld.pair_haplotype_tables).
 *
 * A .bed byte holds four calls, sample 4j+k in bits 2k..2k+1: 00 → 2 copies of A1, 01 → missing,
 * 10 → 1, 11 → 0.
 *
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
 *
 * The Python side checks its inputs and falls back to NumPy when this extension is not built;
 * tests compare the two, and both with plink1.9.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define GROUP 16 /* variants summed in registers per byte position */
#define STEP 4   /* byte positions summed side by side */

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define MULTIVERSION
#endif

typedef double v4d __attribute__((vector_size(32))); /* 4 doubles: one AVX2 register, two SSE2 ones */

static v4d DOSE[2][256]; /* [scored allele is A2][byte]: the four calls' dosages, missing 0 */
static v4d MISS[256];    /* 1 where the call is missing */
#define LOW 0x5555555555555555ULL /* the low bit of every 2-bit call */

static void build_tables(void)
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

static inline __attribute__((always_inline)) v4d load4(const double *p)
{
    v4d x;
    memcpy(&x, p, sizeof x);
    return x;
}

static inline __attribute__((always_inline)) void add4(double *p, v4d x)
{
    x += load4(p);
    memcpy(p, &x, sizeof x);
}

/* Bytes j … j+7 of a row as one word (zeros past its end). */
static inline __attribute__((always_inline)) uint64_t load8(const uint8_t *row, Py_ssize_t j, Py_ssize_t width)
{
    uint64_t x = 0;
    if (width - j >= 8)
        memcpy(&x, row + j, 8);
    else
        memcpy(&x, row + j, (size_t)(width - j));
    return x;
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

/* ---------------------------------------------------------------------------------------------------
 * Bit planes for LD (alignome.genetics.ld.BedBitPlanes): per variant, over the kept samples, 64 per
 * word, P0 homozygous A1 (00), P1 heterozygous (10), C called (not 01) and P0 | P1, with |P0|, |P1|, |C|.
 * A row word holds 32 calls; unshuffling its bits puts the 32 low bits of the calls in its low half and
 * the 32 high bits in its high half, so two row words give one word of each plane.  Four row words
 * are unshuffled side by side in one vector.
 */
typedef uint64_t v4u __attribute__((vector_size(32)));

/* Bits 0, 2, 4, … of every lane to its low half, bits 1, 3, 5, … to its high half (delta swaps). */
static inline __attribute__((always_inline)) v4u unshuffle(v4u x)
{
    static const uint64_t masks[5] = {0x2222222222222222ULL, 0x0C0C0C0C0C0C0C0CULL, 0x00F000F000F000F0ULL,
                                      0x0000FF000000FF00ULL, 0x00000000FFFF0000ULL};
    for (int i = 0, shift = 1; i < 5; i++, shift *= 2) {
        const v4u t = (x ^ (x >> shift)) & masks[i];
        x ^= t ^ (t << shift);
    }
    return x;
}

/* The four planes of row words 16w … 16w+63 bytes (4 plane words), zeros past the row's end (code 00,
 * cleared by the kept mask). */
static inline __attribute__((always_inline)) void row_planes(const uint8_t *row, Py_ssize_t width, Py_ssize_t w,
                                                            v4u k, v4u planes[4])
{
    const v4u low32 = {0xFFFFFFFFULL, 0xFFFFFFFFULL, 0xFFFFFFFFULL, 0xFFFFFFFFULL};
    const Py_ssize_t at = 16 * w;
    v4u a, b;
    if (width - at >= 64) {
        memcpy(&a, row + at, 32);
        memcpy(&b, row + at + 32, 32);
    } else {
        uint8_t chunk[64] = {0};
        memcpy(chunk, row + at, (size_t)(width - at));
        memcpy(&a, chunk, 32);
        memcpy(&b, chunk + 32, 32);
    }
    a = unshuffle(a);
    b = unshuffle(b);
    /* row words 2i and 2i+1 make plane word i: low halves are the calls' low bits, high halves the high bits */
    const v4u even = __builtin_shuffle(a, b, (v4u){0, 2, 4, 6}), odd = __builtin_shuffle(a, b, (v4u){1, 3, 5, 7});
    const v4u lo = (even & low32) | odd << 32, hi = even >> 32 | (odd & ~low32);
    planes[0] = ~(lo | hi) & k;
    planes[1] = hi & ~lo & k;
    planes[2] = ~(lo & ~hi) & k;
    planes[3] = planes[0] | planes[1];
}

#define BATCH 8 /* variants converted together: each output store fills one 64-byte line */

MULTIVERSION
static void bitplanes_all(const uint8_t *raw, Py_ssize_t m, Py_ssize_t width, const uint64_t *kept, Py_ssize_t words,
                          uint64_t *out, int64_t *counts, Py_ssize_t size, Py_ssize_t offset)
{
    for (Py_ssize_t v0 = 0; v0 < m; v0 += BATCH) {
        const Py_ssize_t g = m - v0 < BATCH ? m - v0 : BATCH;
        int64_t n[3][BATCH] = {{0}};
        for (Py_ssize_t w = 0; w < words; w += 4) {
            const Py_ssize_t nw = words - w < 4 ? words - w : 4;
            uint64_t batch[4][4][BATCH]; /* [word][plane][variant] */
            v4u k;
            memcpy(&k, kept + w, sizeof k);
            for (Py_ssize_t j = 0; j < g; j++) {
                v4u planes[4];
                row_planes(raw + (v0 + j) * width, width, w, k, planes);
                for (int i = 0; i < 4; i++) {
                    for (int p = 0; p < 4; p++)
                        batch[i][p][j] = planes[p][i];
                    for (int p = 0; p < 3; p++)
                        n[p][j] += __builtin_popcountll(planes[p][i]);
                }
            }
            for (Py_ssize_t i = 0; i < nw; i++)
                for (int p = 0; p < 4; p++) {
                    uint64_t *dst = out + ((w + i) * 4 + p) * size + offset + v0;
                    if (g == BATCH) /* a constant size: vector moves, not a library call */
                        memcpy(dst, batch[i][p], sizeof batch[i][p]);
                    else
                        memcpy(dst, batch[i][p], (size_t)g * sizeof(uint64_t));
                }
        }
        for (int p = 0; p < 3; p++)
            memcpy(counts + p * size + offset + v0, n[p], (size_t)g * sizeof(int64_t));
    }
}

/* bitplanes(raw, m, width, kept, out, counts, size, offset) */
static PyObject *bitplanes(PyObject *self, PyObject *args)
{
    Py_buffer raw, kept, out, counts;
    Py_ssize_t m, width, size, offset;
    if (!PyArg_ParseTuple(args, "y*nny*w*w*nn", &raw, &m, &width, &kept, &out, &counts, &size, &offset))
        return NULL;
    PyObject *result = NULL;
    const Py_ssize_t words = kept.len / 8;
    if (m < 0 || width < 0 || offset < 0 || offset + m > size || raw.len != m * width || kept.len % 8 ||
        width > 16 * words || out.len != (Py_ssize_t)sizeof(uint64_t) * 4 * words * size ||
        counts.len != (Py_ssize_t)sizeof(int64_t) * 3 * size) {
        PyErr_SetString(PyExc_ValueError, "bitplanes: buffer sizes do not match (m, width, size, offset)");
        goto done;
    }
    uint64_t *padded = PyMem_RawCalloc((size_t)(words + 3) / 4 * 4 + 4, sizeof(uint64_t)); /* whole vectors */
    if (!padded) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(padded, kept.buf, (size_t)kept.len);
    Py_BEGIN_ALLOW_THREADS
    bitplanes_all(raw.buf, m, width, padded, words, out.buf, counts.buf, size, offset);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(padded);
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&raw);
    PyBuffer_Release(&kept);
    PyBuffer_Release(&out);
    PyBuffer_Release(&counts);
    return result;
}

/* Popcounts of index-plane AND candidate-plane per pair of planes (alignome.genetics.ld.pair_haplotype_tables):
 * out[j, v] = Σ_w |index[w, left_j] & planes[w, right_j, v]|.  Candidates are taken CHUNK at a time so that
 * their sums stay in the first-level cache while the words are read. */
#define CHUNK 512

MULTIVERSION
static void pair_counts_all(const uint64_t *index, const char *planes, Py_ssize_t words, Py_ssize_t k,
                            Py_ssize_t word_stride, Py_ssize_t plane_stride, const uint8_t *pairs, Py_ssize_t npairs,
                            int64_t *out)
{
    memset(out, 0, (size_t)(npairs * k) * sizeof(int64_t));
    for (Py_ssize_t v0 = 0; v0 < k; v0 += CHUNK) {
        const Py_ssize_t g = k - v0 < CHUNK ? k - v0 : CHUNK;
        for (Py_ssize_t w = 0; w < words; w++)
            for (Py_ssize_t j = 0; j < npairs; j++) {
                const uint64_t a = index[4 * w + pairs[2 * j]];
                const uint64_t *row = (const uint64_t *)(planes + w * word_stride + pairs[2 * j + 1] * plane_stride) + v0;
                int64_t *acc = out + j * k + v0;
                for (Py_ssize_t v = 0; v < g; v++)
                    acc[v] += __builtin_popcountll(row[v] & a);
            }
    }
}

/* pair_counts(index, planes, pairs, out) */
static PyObject *pair_counts(PyObject *self, PyObject *args)
{
    Py_buffer index, pairs, out, planes = {0};
    PyObject *planes_obj;
    if (!PyArg_ParseTuple(args, "y*Oy*w*", &index, &planes_obj, &pairs, &out))
        return NULL;
    PyObject *result = NULL;
    if (PyObject_GetBuffer(planes_obj, &planes, PyBUF_STRIDED_RO) < 0)
        goto done;
    const Py_ssize_t npairs = pairs.len / 2;
    const uint8_t *pair = pairs.buf;
    int ok = planes.ndim == 3 && planes.itemsize == 8 && planes.shape[1] == 4 &&
             (planes.strides[2] == 8 || planes.shape[2] <= 1) &&
             index.len == (Py_ssize_t)sizeof(uint64_t) * 4 * planes.shape[0] && pairs.len % 2 == 0 &&
             out.len == (Py_ssize_t)sizeof(int64_t) * npairs * planes.shape[2];
    for (Py_ssize_t j = 0; ok && j < 2 * npairs; j++)
        ok = pair[j] < 4;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError,
                        "pair_counts: need index (words, 4), planes (words, 4, k) uint64 with unit stride on k, "
                        "pairs of plane numbers < 4 and out (pairs, k) int64");
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    pair_counts_all(index.buf, planes.buf, planes.shape[0], planes.shape[2], planes.strides[0], planes.strides[1],
                    pair, npairs, out.buf);
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&index);
    PyBuffer_Release(&pairs);
    PyBuffer_Release(&out);
    if (planes.obj)
        PyBuffer_Release(&planes);
    return result;
}

/* accumulate(raw, m, width, weight, flip, founders, mean_imputation, total, dosage, missing) */
static PyObject *accumulate(PyObject *self, PyObject *args)
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

static PyMethodDef methods[] = {
    {"accumulate", accumulate, METH_VARARGS,
     "accumulate(raw, m, width, weight, flip, founders, mean_imputation, total, dosage, missing): add m .bed rows'\n"
     "per-sample score sums (Σ w·dosage with imputed missing calls, Σ dosage, missing calls) to the float64\n"
     "buffers total, dosage, missing (4·width each). weight: float64 (m,); flip: uint8 (m,), 1 where the scored\n"
     "allele is A2; founders: uint8 (4·width,), 1 for the founders that give the imputation frequency."},
    {"bitplanes", bitplanes, METH_VARARGS,
     "bitplanes(raw, m, width, kept, out, counts, size, offset): the bit planes P0, P1, C, P0|P1 of m .bed rows\n"
     "(width bytes each) over the kept samples (uint64 words) into variants offset … offset+m-1 of out, uint64\n"
     "(words, 4, size), and their |P0|, |P1|, |C| into counts, int64 (3, size)."},
    {"pair_counts", pair_counts, METH_VARARGS,
     "pair_counts(index, planes, pairs, out): out[j, v] = Σ_w popcount(index[w, left_j] & planes[w, right_j, v])\n"
     "for index (words, 4) and planes (words, 4, k) uint64 (any strides, unit stride on k), pairs bytes\n"
     "(left_0, right_0, left_1, …) and out int64 (pairs, k)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bedscore",
                                    "Kernels on packed .bed bytes: score sums, LD bit planes, their popcounts.",
                                    -1, methods};

PyMODINIT_FUNC PyInit__bedscore(void)
{
    build_tables();
    return PyModule_Create(&module);
}
