/*
 * Kernels on PLINK .bed bytes that never decode genotypes to numbers:
 *
 *   accumulate()      polygenic-score sums (alignome.genetics.score.score_bed),
 *   bitplanes()       LD bit planes of rows (alignome.genetics.ld.BedBitPlanes),
 *   pair_counts()     AND + popcount of an index variant's planes with candidates' planes
 *                     (alignome.genetics.ld.pair_haplotype_tables),
 *   group_counts(),   genotype QC (alignome.genetics.qc): per variant, the calls of each code in sample
 *   missing_counts()  groups; per sample, the missing calls,
 *
 * and what QC needs around them: hwe() (the Hardy-Weinberg exact test), text_columns() (.bim/.fam
 * fields) and text_rows() (the reports' text).
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
#include <math.h>
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

/* ---------------------------------------------------------------------------------------------------
 * Genotype QC (alignome.genetics.qc): counts of 2-bit calls over sample groups, per variant and per
 * sample, and the Hardy-Weinberg exact test.  A group is a mask in the layout of a .bed row read as
 * uint64 words: bit 2k of word w is set when sample 32w+k belongs to it (the low bit of its call);
 * samples past the end of the .fam are in no group, so a row's padding never counts.
 */
#define ODD 0x5555555555555555ULL   /* the low bit of every call */
#define NIB 0x1111111111111111ULL   /* the low bit of every 4-bit counter */
#define BYT 0x0F0F0F0F0F0F0F0FULL   /* the low nibble of every byte */

/* Per row v and group g: the group's missing (01), heterozygous (10) and homozygous-A2 (11) calls (homozygous A1
 * is the group's size minus these) into out[g, 0 … 2, offset + v], out of shape (groups, 3, size).  Three
 * AND + popcounts per 32 calls. */
static inline __attribute__((always_inline)) void group_counts_body(const uint8_t *raw, Py_ssize_t m, Py_ssize_t width,
                                                                   const uint64_t *masks, Py_ssize_t groups,
                                                                   Py_ssize_t words, int64_t *out, Py_ssize_t size,
                                                                   Py_ssize_t offset)
{
    const Py_ssize_t full = width / 8;
    for (Py_ssize_t v = 0; v < m; v++) {
        const uint8_t *row = raw + v * width;
        const uint64_t tail = full < words ? load8(row, 8 * full, width) : 0;
        for (Py_ssize_t g = 0; g < groups; g++) {
            const uint64_t *k = masks + g * words;
            uint64_t s0 = 0, s1 = 0, s2 = 0;
            for (Py_ssize_t w = 0; w < full; w++) {
                uint64_t x;
                memcpy(&x, row + 8 * w, 8);
                const uint64_t lo = x & k[w], hi = x >> 1 & k[w];
                s0 += (uint64_t)__builtin_popcountll(lo & ~hi);
                s1 += (uint64_t)__builtin_popcountll(hi & ~lo);
                s2 += (uint64_t)__builtin_popcountll(lo & hi);
            }
            if (full < words) {
                const uint64_t lo = tail & k[full], hi = tail >> 1 & k[full];
                s0 += (uint64_t)__builtin_popcountll(lo & ~hi);
                s1 += (uint64_t)__builtin_popcountll(hi & ~lo);
                s2 += (uint64_t)__builtin_popcountll(lo & hi);
            }
            int64_t *o = out + 3 * g * size + offset + v;
            o[0] = (int64_t)s0;
            o[size] = (int64_t)s1;
            o[2 * size] = (int64_t)s2;
        }
    }
}

/* Per-sample missing calls: counts[s] += Σ_v [call of s at row v is 01 and s is in mask which[v]].
 * Vertical counters: 15 rows summed in 4-bit fields, 17 of those in 8-bit fields, then added to counts. */
static inline __attribute__((always_inline)) void missing_counts_body(const uint8_t *raw, Py_ssize_t m, Py_ssize_t width,
                                                                     const uint64_t *masks, const uint8_t *which,
                                                                     Py_ssize_t words, uint64_t *scratch,
                                                                     int64_t *counts)
{
    const Py_ssize_t full = width / 8;
    uint64_t *n0 = scratch, *n1 = scratch + words, *b[4] = {scratch + 2 * words, scratch + 3 * words,
                                                            scratch + 4 * words, scratch + 5 * words};
    for (Py_ssize_t v0 = 0; v0 < m; v0 += 255) {
        const Py_ssize_t g = m - v0 < 255 ? m - v0 : 255;
        memset(b[0], 0, (size_t)(4 * words) * sizeof(uint64_t));
        for (Py_ssize_t s0 = 0; s0 < g; s0 += 15) {
            const Py_ssize_t sg = g - s0 < 15 ? g - s0 : 15;
            memset(n0, 0, (size_t)(2 * words) * sizeof(uint64_t));
            for (Py_ssize_t r = 0; r < sg; r++) {
                const Py_ssize_t v = v0 + s0 + r;
                const uint8_t *row = raw + v * width;
                const uint64_t *k = masks + (Py_ssize_t)which[v] * words;
                for (Py_ssize_t w = 0; w < full; w++) {
                    uint64_t x;
                    memcpy(&x, row + 8 * w, 8);
                    const uint64_t miss = x & ~(x >> 1) & k[w];
                    n0[w] += miss & NIB;
                    n1[w] += miss >> 2 & NIB;
                }
                if (full < words) {
                    const uint64_t x = load8(row, 8 * full, width), miss = x & ~(x >> 1) & k[full];
                    n0[full] += miss & NIB;
                    n1[full] += miss >> 2 & NIB;
                }
            }
            /* nibble j of n0 is sample 2j, of n1 sample 2j+1: bytes of b0..b3 are samples 4j, 4j+1, 4j+2, 4j+3 */
            for (Py_ssize_t w = 0; w < words; w++) {
                b[0][w] += n0[w] & BYT;
                b[2][w] += n0[w] >> 4 & BYT;
                b[1][w] += n1[w] & BYT;
                b[3][w] += n1[w] >> 4 & BYT;
            }
        }
        for (Py_ssize_t w = 0; w < words; w++)
            for (int j = 0; j < 8; j++)
                for (int c = 0; c < 4; c++)
                    counts[32 * w + 4 * j + c] += (int64_t)(b[c][w] >> (8 * j) & 255);
    }
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define QC_DISPATCH 1
__attribute__((target("avx512f,avx512vl,avx512bw,avx512vpopcntdq,popcnt")))
static void group_counts_vpopcnt(const uint8_t *raw, Py_ssize_t m, Py_ssize_t width, const uint64_t *masks,
                                 Py_ssize_t groups, Py_ssize_t words, int64_t *out, Py_ssize_t size,
                                 Py_ssize_t offset)
{
    group_counts_body(raw, m, width, masks, groups, words, out, size, offset);
}

__attribute__((target("avx2,popcnt")))
static void group_counts_avx2(const uint8_t *raw, Py_ssize_t m, Py_ssize_t width, const uint64_t *masks,
                              Py_ssize_t groups, Py_ssize_t words, int64_t *out, Py_ssize_t size, Py_ssize_t offset)
{
    group_counts_body(raw, m, width, masks, groups, words, out, size, offset);
}

__attribute__((target("avx2")))
static void missing_counts_avx2(const uint8_t *raw, Py_ssize_t m, Py_ssize_t width, const uint64_t *masks,
                                const uint8_t *which, Py_ssize_t words, uint64_t *scratch, int64_t *counts)
{
    missing_counts_body(raw, m, width, masks, which, words, scratch, counts);
}
#endif

static void group_counts_default(const uint8_t *raw, Py_ssize_t m, Py_ssize_t width, const uint64_t *masks,
                                 Py_ssize_t groups, Py_ssize_t words, int64_t *out, Py_ssize_t size,
                                 Py_ssize_t offset)
{
    group_counts_body(raw, m, width, masks, groups, words, out, size, offset);
}

static void missing_counts_default(const uint8_t *raw, Py_ssize_t m, Py_ssize_t width, const uint64_t *masks,
                                   const uint8_t *which, Py_ssize_t words, uint64_t *scratch, int64_t *counts)
{
    missing_counts_body(raw, m, width, masks, which, words, scratch, counts);
}

/* 2: AVX-512 with vector popcounts, 1: AVX2 and popcnt, 0: neither (or not x86-64 GCC). */
static int qc_level(void)
{
#ifdef QC_DISPATCH
    static int level = -1;
    if (level < 0) {
        __builtin_cpu_init();
        level = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vpopcntdq")
                    ? 2
                : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") ? 1
                                                                                    : 0;
    }
    return level;
#else
    return 0;
#endif
}

/* group_counts(raw, m, width, masks, out, size, offset) */
static PyObject *group_counts(PyObject *self, PyObject *args)
{
    Py_buffer raw, masks, out;
    Py_ssize_t m, width, size, offset;
    if (!PyArg_ParseTuple(args, "y*nny*w*nn", &raw, &m, &width, &masks, &out, &size, &offset))
        return NULL;
    PyObject *result = NULL;
    const Py_ssize_t words = (width + 7) / 8;
    const Py_ssize_t groups = words > 0 ? masks.len / (8 * words) : 0;
    if (m < 0 || width <= 0 || offset < 0 || offset + m > size || raw.len != m * width ||
        masks.len != 8 * words * groups || out.len != (Py_ssize_t)sizeof(int64_t) * 3 * groups * size) {
        PyErr_SetString(PyExc_ValueError, "group_counts: buffer sizes do not match (m, width, groups, size, offset)");
        goto done;
    }
    const int level = qc_level();
    Py_BEGIN_ALLOW_THREADS
#ifdef QC_DISPATCH
    if (level == 2)
        group_counts_vpopcnt(raw.buf, m, width, masks.buf, groups, words, out.buf, size, offset);
    else if (level == 1)
        group_counts_avx2(raw.buf, m, width, masks.buf, groups, words, out.buf, size, offset);
    else
#endif
        group_counts_default(raw.buf, m, width, masks.buf, groups, words, out.buf, size, offset);
    Py_END_ALLOW_THREADS
    (void)level;
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&raw);
    PyBuffer_Release(&masks);
    PyBuffer_Release(&out);
    return result;
}

/* missing_counts(raw, m, width, masks, which, counts) */
static PyObject *missing_counts(PyObject *self, PyObject *args)
{
    Py_buffer raw, masks, which, counts;
    Py_ssize_t m, width;
    if (!PyArg_ParseTuple(args, "y*nny*y*w*", &raw, &m, &width, &masks, &which, &counts))
        return NULL;
    PyObject *result = NULL;
    const Py_ssize_t words = (width + 7) / 8;
    const Py_ssize_t groups = words > 0 ? masks.len / (8 * words) : 0;
    int ok = m >= 0 && width > 0 && raw.len == m * width && masks.len == 8 * words * groups && which.len == m &&
             counts.len == (Py_ssize_t)sizeof(int64_t) * 32 * words;
    const uint8_t *w8 = which.buf;
    for (Py_ssize_t v = 0; ok && v < m; v++)
        ok = w8[v] < groups;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError,
                        "missing_counts: buffer sizes do not match (m, width, masks) or a mask index is too large");
        goto done;
    }
    uint64_t *scratch = PyMem_RawCalloc((size_t)(6 * words), sizeof(uint64_t));
    if (!scratch) {
        PyErr_NoMemory();
        goto done;
    }
    const int level = qc_level();
    Py_BEGIN_ALLOW_THREADS
#ifdef QC_DISPATCH
    if (level >= 1)
        missing_counts_avx2(raw.buf, m, width, masks.buf, w8, words, scratch, counts.buf);
    else
#endif
        missing_counts_default(raw.buf, m, width, masks.buf, w8, words, scratch, counts.buf);
    Py_END_ALLOW_THREADS
    (void)level;
    PyMem_RawFree(scratch);
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&raw);
    PyBuffer_Release(&masks);
    PyBuffer_Release(&which);
    PyBuffer_Release(&counts);
    return result;
}

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
static PyObject *hwe(PyObject *self, PyObject *args)
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
    if (qc_level() >= 1)
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

/* ---------------------------------------------------------------------------------------------------
 * Report text (alignome.genetics.qc.write_qc): rows of whitespace tables, each cell written as Python's
 * str() / format(x, '.Pg') would write it, without a Python object per cell.
 */
/* decimal digits of v (> 0 or 0) into out, returns the length */
static int text_uint(uint64_t v, char *out)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

static int text_int(int64_t v, char *out)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + text_uint(v == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)(-v), out + 1);
    }
    return text_uint((uint64_t)v, out);
}

static const double TEXT_POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* |x| scaled to the (precision)-digit integer part: x / 10^(e - precision + 1), with one rounding (powers of
 * ten up to 1e22 are exact doubles); returns 0 when the power is out of that range */
static int text_scale(double a, int e, int precision, double *v)
{
    const int shift = e - precision + 1;
    if (shift > 22 || shift < -22)
        return 0;
    *v = shift >= 0 ? a / TEXT_POW10[shift] : a * TEXT_POW10[-shift];
    return 1;
}

/* format(x, '.Pg') for finite x, as Python (and C's %.Pg) write it; returns the length */
static int text_g(double x, int precision, char *out)
{
    double a = fabs(x), v = 0.0;
    int e = 0, ok = a != 0.0 && a >= 1e-300 && a <= 1e300;
    const double low = TEXT_POW10[precision - 1], high = TEXT_POW10[precision];
    if (ok) {
        /* a = f·2^b, f in [1, 2) (a normal number): the decimal exponent is floor(b·log10 2) or one more */
        uint64_t bits;
        memcpy(&bits, &a, sizeof bits);
        const int b = (int)(bits >> 52 & 0x7FF) - 1023;
        e = (b * 78913) >> 18; /* floor(b · log10 2) for |b| < 2^12 (arithmetic shift) */
        ok = text_scale(a, e, precision, &v);
        if (ok && v < low)
            ok = text_scale(a, --e, precision, &v);
        else if (ok && v >= high)
            ok = text_scale(a, ++e, precision, &v);
        ok = ok && v >= low && v < high;
    }
    double whole = 0.0;
    if (ok) {
        whole = (double)(int64_t)v; /* v > 0: truncation is floor */
        const double frac = v - whole;
        ok = fabs(frac - 0.5) > 1e-6; /* a tie, or too close to one to trust the scaling: exact printf below */
        whole += frac > 0.5;
    }
    if (!ok) { /* zero, extreme exponents, near-ties: glibc's exact conversion, the same digits as Python's */
        char fmt[8];
        snprintf(fmt, sizeof fmt, "%%.%dg", precision);
        return snprintf(out, 32, fmt, x);
    }
    if (whole >= high) { /* rounded up to the next power of ten */
        whole = low;
        e++;
    }
    char digits[24];
    text_uint((uint64_t)whole, digits); /* exactly `precision` digits */
    int n = 0;
    if (x < 0)
        out[n++] = '-';
    if (e >= -4 && e < precision) {
        /* fixed: digits with the point after e+1 of them, trailing zeros (and the point) removed */
        int last = precision - 1;
        while (last > 0 && last > e && digits[last] == '0')
            last--;
        if (e < 0) {
            out[n++] = '0';
            out[n++] = '.';
            for (int i = 0; i < -e - 1; i++)
                out[n++] = '0';
            for (int i = 0; i <= last; i++)
                out[n++] = digits[i];
        } else {
            for (int i = 0; i <= last; i++) {
                out[n++] = digits[i];
                if (i == e && i < last)
                    out[n++] = '.';
            }
        }
    } else {
        int last = precision - 1;
        while (last > 0 && digits[last] == '0')
            last--;
        out[n++] = digits[0];
        if (last > 0) {
            out[n++] = '.';
            for (int i = 1; i <= last; i++)
                out[n++] = digits[i];
        }
        out[n++] = 'e';
        out[n++] = e < 0 ? '-' : '+';
        const int ae = e < 0 ? -e : e;
        if (ae < 10)
            out[n++] = '0';
        n += text_uint((uint64_t)ae, out + n);
    }
    return n;
}

typedef struct {
    const char *prefix;
    Py_ssize_t prefix_len;
    int kind; /* 's' list of str, 'c' constant, 'i' int64, 'g' float64 */
    int precision;
    const char *nan_text; /* for 'g': what a non-finite value prints as */
    Py_ssize_t nan_len;
    PyObject *list;
    Py_buffer data;
    int has_data;
} text_column;

/* text_rows(columns) -> bytes.  columns: a sequence of (prefix, kind, data, precision, nan_text) with kind
 * "s" (data: list of str), "c" (data: str, the same in every row), "i" (int64 buffer) or "g" (float64
 * buffer: format(x, '.{precision}g'), nan_text for NaN and infinities).  Row r is the concatenation over the
 * columns of prefix + cell, then "\n". */
static PyObject *text_rows(PyObject *self, PyObject *args)
{
    PyObject *spec, *seq = NULL, *result = NULL;
    if (!PyArg_ParseTuple(args, "O", &spec))
        return NULL;
    seq = PySequence_Fast(spec, "text_rows: columns must be a sequence");
    if (!seq)
        return NULL;
    const Py_ssize_t ncol = PySequence_Fast_GET_SIZE(seq);
    text_column *cols = PyMem_Calloc(ncol ? (size_t)ncol : 1, sizeof(text_column));
    if (!cols) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t rows = -1;
    for (Py_ssize_t j = 0; j < ncol; j++) {
        text_column *c = cols + j;
        const char *kind;
        PyObject *data;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, j), "s#sOis#", &c->prefix, &c->prefix_len, &kind,
                              &data, &c->precision, &c->nan_text, &c->nan_len))
            goto done;
        c->kind = kind[0];
        Py_ssize_t size = -1;
        if (c->kind == 's') {
            if (!PyList_Check(data)) {
                PyErr_SetString(PyExc_TypeError, "text_rows: a column of kind 's' needs a list of str");
                goto done;
            }
            c->list = data;
            size = PyList_GET_SIZE(data);
        } else if (c->kind == 'c') {
            if (!PyUnicode_Check(data)) {
                PyErr_SetString(PyExc_TypeError, "text_rows: a column of kind 'c' needs a str");
                goto done;
            }
            c->list = data;
        } else if (c->kind == 'i' || c->kind == 'g') {
            if (PyObject_GetBuffer(data, &c->data, PyBUF_C_CONTIGUOUS) < 0)
                goto done;
            c->has_data = 1;
            if (c->data.len % 8) {
                PyErr_SetString(PyExc_ValueError, "text_rows: numeric columns need 8-byte items");
                goto done;
            }
            size = c->data.len / 8;
            if (c->kind == 'g' && (c->precision < 1 || c->precision > 9)) {
                PyErr_SetString(PyExc_ValueError, "text_rows: precision must lie in 1 … 9");
                goto done;
            }
        } else {
            PyErr_SetString(PyExc_ValueError, "text_rows: kind must be one of s, c, i, g");
            goto done;
        }
        if (size >= 0) {
            if (rows >= 0 && size != rows) {
                PyErr_SetString(PyExc_ValueError, "text_rows: columns of different lengths");
                goto done;
            }
            rows = size;
        }
    }
    if (rows < 0)
        rows = 0;
    /* the text's size, at most: prefixes, the strings' UTF-8, 32 bytes a number (or its nan_text), newlines */
    size_t cap = (size_t)rows;
    for (Py_ssize_t j = 0; j < ncol; j++) {
        text_column *c = cols + j;
        cap += (size_t)rows * (size_t)c->prefix_len;
        if (c->kind == 's' || c->kind == 'c') {
            for (Py_ssize_t r = 0; r < (c->kind == 's' ? rows : 1); r++) {
                PyObject *item = c->kind == 's' ? PyList_GET_ITEM(c->list, r) : c->list;
                Py_ssize_t len;
                if (!PyUnicode_Check(item) || !PyUnicode_AsUTF8AndSize(item, &len)) {
                    if (!PyErr_Occurred())
                        PyErr_SetString(PyExc_TypeError, "text_rows: a text cell is not a str");
                    goto done;
                }
                cap += c->kind == 's' ? (size_t)len : (size_t)len * (size_t)rows;
            }
        } else {
            cap += (size_t)rows * (size_t)(c->nan_len > 32 ? c->nan_len : 32);
        }
    }
    result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    if (!result)
        goto done;
    char *const start = PyBytes_AS_STRING(result), *o = start;
    for (Py_ssize_t r = 0; r < rows; r++) {
        for (Py_ssize_t j = 0; j < ncol; j++) {
            const text_column *c = cols + j;
            for (Py_ssize_t i = 0; i < c->prefix_len; i++)
                *o++ = c->prefix[i];
            if (c->kind == 's' || c->kind == 'c') {
                Py_ssize_t len;
                const char *s = PyUnicode_AsUTF8AndSize(c->kind == 's' ? PyList_GET_ITEM(c->list, r) : c->list, &len);
                if (len <= 16)
                    for (Py_ssize_t i = 0; i < len; i++)
                        o[i] = s[i];
                else
                    memcpy(o, s, (size_t)len);
                o += len;
            } else if (c->kind == 'i') {
                o += text_int(((const int64_t *)c->data.buf)[r], o);
            } else {
                const double x = ((const double *)c->data.buf)[r];
                if (isfinite(x)) {
                    o += text_g(x, c->precision, o);
                } else {
                    memcpy(o, c->nan_text, (size_t)c->nan_len);
                    o += c->nan_len;
                }
            }
        }
        *o++ = '\n';
    }
    if (_PyBytes_Resize(&result, (Py_ssize_t)(o - start)) < 0)
        result = NULL;
    goto done;
done:
    for (Py_ssize_t j = 0; cols && j < ncol; j++)
        if (cols[j].has_data)
            PyBuffer_Release(&cols[j].data);
    PyMem_Free(cols);
    Py_DECREF(seq);
    return result;
}

/* text_columns(data, count) -> list of `count` lists of str, or None.  The whitespace-separated fields of a
 * PLINK text file (.bim, .fam): blank lines skipped, fields split at ASCII blanks (space, \t, \r, \v, \f).
 * None where a line does not hold `count` fields or a byte is not printable ASCII (a non-ASCII or control
 * character other than those): the caller then reads the file itself, to name the row or to split as
 * str.split() does.  A field equal to the one above it, or of one character, reuses that str object. */
static PyObject *text_columns(PyObject *self, PyObject *args)
{
    Py_buffer data;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "y*n", &data, &count))
        return NULL;
    PyObject *result = NULL, *lists = NULL;
    PyObject *single[128] = {NULL};
    PyObject **prev = NULL;
    const char **prev_at = NULL;
    Py_ssize_t *prev_len = NULL;
    if (count < 1 || count > 64) {
        PyErr_SetString(PyExc_ValueError, "text_columns: count must lie in 1 … 64");
        goto done;
    }
    const unsigned char *s = data.buf;
    const Py_ssize_t size = data.len;
    Py_ssize_t lines = 1; /* at most */
    for (Py_ssize_t i = 0; i < size; i++) {
        const unsigned char b = s[i];
        lines += b == '\n';
        if (b >= 127 || (b < 32 && (b < 9 || b > 13))) {
            result = Py_None; /* not plain ASCII text */
            Py_INCREF(result);
            goto done;
        }
    }
    lists = PyList_New(count);
    prev = PyMem_Calloc((size_t)count, sizeof(PyObject *));
    prev_at = PyMem_Calloc((size_t)count, sizeof(char *));
    prev_len = PyMem_Calloc((size_t)count, sizeof(Py_ssize_t));
    if (!lists || !prev || !prev_at || !prev_len) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t j = 0; j < count; j++) { /* filled row by row, cut to length at the end */
        PyObject *list = PyList_New(lines);
        if (!list)
            goto done;
        PyList_SET_ITEM(lists, j, list);
    }
    Py_ssize_t i = 0, row = 0;
    while (i < size) {
        /* one line: its fields */
        Py_ssize_t field = 0;
        while (i < size && s[i] != '\n') {
            if (s[i] == ' ' || (s[i] >= 9 && s[i] <= 13)) {
                i++;
                continue;
            }
            const Py_ssize_t start = i;
            while (i < size && !(s[i] == ' ' || (s[i] >= 9 && s[i] <= 13)))
                i++;
            if (field >= count)
                goto mismatch;
            const char *at = (const char *)s + start;
            const Py_ssize_t len = i - start;
            PyObject *item;
            if (len == 1 && single[s[start]]) {
                item = single[s[start]];
                Py_INCREF(item);
            } else if (prev[field] && prev_len[field] == len && memcmp(prev_at[field], at, (size_t)len) == 0) {
                item = prev[field];
                Py_INCREF(item);
            } else {
                item = PyUnicode_New(len, 127); /* ASCII, checked above */
                if (!item)
                    goto done;
                memcpy(PyUnicode_DATA(item), at, (size_t)len);
                if (len == 1) {
                    single[s[start]] = item;
                    Py_INCREF(item);
                }
            }
            prev[field] = item; /* borrowed: the list holds it */
            prev_at[field] = at;
            prev_len[field] = len;
            PyList_SET_ITEM(PyList_GET_ITEM(lists, field), row, item); /* the list takes the reference */
            field++;
        }
        if (field != 0 && field != count)
            goto mismatch;
        row += field != 0;
        i++; /* the newline */
    }
    for (Py_ssize_t j = 0; j < count; j++)
        if (PyList_SetSlice(PyList_GET_ITEM(lists, j), row, lines, NULL) < 0)
            goto done;
    result = lists;
    lists = NULL;
    goto done;
mismatch:
    result = Py_None;
    Py_INCREF(result);
done:
    for (int c = 0; c < 128; c++)
        Py_XDECREF(single[c]);
    Py_XDECREF(lists);
    PyMem_Free(prev);
    PyMem_Free(prev_at);
    PyMem_Free(prev_len);
    PyBuffer_Release(&data);
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
    {"group_counts", group_counts, METH_VARARGS,
     "group_counts(raw, m, width, masks, out, size, offset): per .bed row v (width bytes each) and sample group\n"
     "g, the group's missing (01), heterozygous (10) and homozygous-A2 (11) calls into out[g, :, offset + v], out\n"
     "int64 (groups, 3, size). masks: uint64 (groups, ⌈width/8⌉), bit 2k of word w set for sample 32w+k of g."},
    {"missing_counts", missing_counts, METH_VARARGS,
     "missing_counts(raw, m, width, masks, which, counts): add to counts, int64 (32·⌈width/8⌉,), each sample's\n"
     "missing calls over the m rows, counting row v only for the samples of mask which[v] (uint8 (m,); masks as\n"
     "in group_counts)."},
    {"hwe", hwe, METH_VARARGS,
     "hwe(het, hom1, hom2, midp, out[, threshold]): Hardy-Weinberg exact-test p-values (mid-p when midp) of\n"
     "int64 genotype counts into out, float64 of their length (alignome.genetics.hwe's conventions); with a\n"
     "threshold, whether each p-value is below it into out, uint8 (most without computing the p-value)."},
    {"text_columns", text_columns, METH_VARARGS,
     "text_columns(data, count) -> list of count lists of str, or None: the whitespace-separated fields of a\n"
     "PLINK text file (blank lines skipped); None where a line does not hold count fields or the bytes are not\n"
     "printable ASCII text."},
    {"text_rows", text_rows, METH_VARARGS,
     "text_rows(columns) -> bytes: rows of a text table, row r = Σ_columns prefix + cell, then \\n. columns:\n"
     "(prefix, kind, data, precision, nan_text) with kind 's' (list of str), 'c' (one str for every row), 'i'\n"
     "(int64 buffer) or 'g' (float64 buffer, written as format(x, '.{precision}g'), nan_text where not finite)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_bedscore",
                                    "Kernels on packed .bed bytes: score sums, LD bit planes and their popcounts, QC counts; the HWE exact test.",
                                    -1, methods};

PyMODINIT_FUNC PyInit__bedscore(void)
{
    build_tables();
    return PyModule_Create(&module);
}
