#include "_bedscore.h"

/* ---------------------------------------------------------------------------------------------------
 * Bit planes for LD (alignome.genetics.ld.BedBitPlanes): per variant, over the kept samples, 64 per
 * word, P0 homozygous A1 (00), P1 heterozygous (10), C called (not 01) and P0 | P1, with |P0|, |P1|, |C|.
 * A row word holds 32 calls; unshuffling its bits puts the 32 low bits of the calls in its low half and
 * the 32 high bits in its high half, so two row words give one word of each plane.  Four row words
 * are unshuffled side by side in one vector.
 */

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
PyObject *ab_bitplanes(PyObject *self, PyObject *args)
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
PyObject *ab_pair_counts(PyObject *self, PyObject *args)
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
