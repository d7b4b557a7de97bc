#include "_bedscore.h"

/* ---------------------------------------------------------------------------------------------------
 * Genotype QC (alignome.genetics.qc_counts): counts of 2-bit calls over sample groups, per variant and per
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

#ifdef QC_DISPATCH
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
int ab_qc_level(void)
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
PyObject *ab_group_counts(PyObject *self, PyObject *args)
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
    const int level = ab_qc_level();
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
PyObject *ab_missing_counts(PyObject *self, PyObject *args)
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
    const int level = ab_qc_level();
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
