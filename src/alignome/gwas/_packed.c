/*
 * W·G for genotypes still packed as PLINK .bed bytes (2 bits per call), without decoding them.
 *
 * For every byte position j (samples 4j … 4j+3) a 256-row table holds, for each possible byte,
 * the sum over its four calls of value(call) · W[sample, :]; a variant's product is then the sum
 * of one table row per byte: n/4 vector additions instead of n multiply-adds plus writing and
 * reading back n float64 genotypes.  Calls count A1 (00 → 2, 10 → 1, 11 → 0, as bed-reader's
 * count_A1=True) and a missing call (01) counts 0: the product is that of the genotypes with
 * missing calls set to zero.  Samples outside the selection have zero weight, so one kernel
 * serves any subset or order of the .fam samples (the caller scatters W's rows to .fam order).
 *
 * The Python side (alignome.gwas.packed_kernel) checks shapes and falls back to NumPy when this
 * extension is not built; tests compare the two.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TILE 16 /* columns of W per pass: one 256-row table is 32 KiB */
#ifndef SPAN
#define SPAN 8 /* byte positions per pass over the variants */
#endif

static const double CODE_VALUE[4] = {2.0, 0.0, 1.0, 0.0};
static const int CODE_SQUARE[4] = {4, 0, 1, 0};

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define MULTIVERSION
#endif

typedef double v4d __attribute__((vector_size(32))); /* 4 doubles: one AVX2 register, two SSE2 ones */
#define VECS (TILE / 4)

static inline __attribute__((always_inline)) v4d load4(const double *p)
{
    v4d x;
    memcpy(&x, p, sizeof x);
    return x;
}

/* Columns p0 … p0+TILE of out (m × ppad, row-major) += table rows of each variant's bytes.
 * Tables are built for SPAN byte positions at a time (SPAN × 32 KiB, in L2); each variant then
 * sums its SPAN table rows in registers and touches its output row once per span. */
MULTIVERSION
static void cross_tile(const uint8_t *raw, Py_ssize_t m, Py_ssize_t width, const double *wt, Py_ssize_t ppad,
                       Py_ssize_t p0, double *out, v4d *table)
{
    v4d lo[16][VECS], hi[16][VECS];
    for (Py_ssize_t j0 = 0; j0 < width; j0 += SPAN) {
        const Py_ssize_t span = width - j0 < SPAN ? width - j0 : SPAN;
        for (Py_ssize_t s = 0; s < span; s++) {
            const double *c0 = wt + 4 * (j0 + s) * ppad + p0, *c1 = c0 + ppad, *c2 = c1 + ppad, *c3 = c2 + ppad;
            for (int k = 0; k < VECS; k++) {
                const v4d w0 = load4(c0 + 4 * k), w1 = load4(c1 + 4 * k), w2 = load4(c2 + 4 * k),
                          w3 = load4(c3 + 4 * k);
                for (int a = 0; a < 4; a++)
                    for (int b = 0; b < 4; b++) {
                        lo[a + 4 * b][k] = CODE_VALUE[a] * w0 + CODE_VALUE[b] * w1;
                        hi[a + 4 * b][k] = CODE_VALUE[a] * w2 + CODE_VALUE[b] * w3;
                    }
            }
            v4d *tab = table + s * 256 * VECS;
            for (int byte = 0; byte < 256; byte++)
                for (int k = 0; k < VECS; k++)
                    tab[byte * VECS + k] = lo[byte & 15][k] + hi[byte >> 4][k];
        }
        for (Py_ssize_t v = 0; v < m; v++) {
            const uint8_t *bytes = raw + v * width + j0;
            v4d acc[VECS] = {{0}};
            for (Py_ssize_t s = 0; s < span; s++) {
                const v4d *row = table + (s * 256 + bytes[s]) * VECS;
                for (int k = 0; k < VECS; k++)
                    acc[k] += row[k];
            }
            double *dst = out + v * ppad + p0;
            for (int k = 0; k < VECS; k++) {
                const v4d sum = load4(dst + 4 * k) + acc[k];
                memcpy(dst + 4 * k, &sum, sizeof sum);
            }
        }
    }
}

/* Σ g² over the selected samples (mask: one byte per sample of the padded .fam, 0/1). */
static void sum_squares(const uint8_t *raw, Py_ssize_t m, Py_ssize_t width, const uint8_t *mask, double *sumsq)
{
    /* square[k][byte]: Σ g² over the calls of `byte` whose sample bit is set in the 4-bit mask k */
    uint8_t square[16][256];
    for (int k = 0; k < 16; k++)
        for (int byte = 0; byte < 256; byte++) {
            int s = 0;
            for (int c = 0; c < 4; c++)
                if (k >> c & 1)
                    s += CODE_SQUARE[(byte >> (2 * c)) & 3];
            square[k][byte] = (uint8_t)s;
        }
    uint8_t *nibble = malloc(width > 0 ? (size_t)width : 1);
    if (!nibble)
        return;
    for (Py_ssize_t j = 0; j < width; j++)
        nibble[j] = (uint8_t)(mask[4 * j] | mask[4 * j + 1] << 1 | mask[4 * j + 2] << 2 | mask[4 * j + 3] << 3);
    for (Py_ssize_t v = 0; v < m; v++) {
        const uint8_t *bytes = raw + v * width;
        int64_t s = 0;
        for (Py_ssize_t j = 0; j < width; j++)
            s += square[nibble[j]][bytes[j]];
        sumsq[v] = (double)s;
    }
    free(nibble);
}

/* cross(raw, wt, mask, out, sumsq, m, width, ppad): see the module docstring. */
static PyObject *cross(PyObject *self, PyObject *args)
{
    Py_buffer raw, wt, mask, out, sumsq;
    Py_ssize_t m, width, ppad;
    if (!PyArg_ParseTuple(args, "y*y*y*w*w*nnn", &raw, &wt, &mask, &out, &sumsq, &m, &width, &ppad))
        return NULL;
    PyObject *result = NULL;
    if (m < 0 || width < 0 || ppad < 0 || ppad % TILE || raw.len != m * width ||
        wt.len != (Py_ssize_t)sizeof(double) * 4 * width * ppad || mask.len != 4 * width ||
        out.len != (Py_ssize_t)sizeof(double) * m * ppad || sumsq.len != (Py_ssize_t)sizeof(double) * m) {
        PyErr_SetString(PyExc_ValueError, "cross: buffer sizes do not match (m, width, ppad)");
        goto done;
    }
    v4d *table = aligned_alloc(64, SPAN * 256 * TILE * sizeof(double));
    if (!table) {
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    memset(out.buf, 0, (size_t)out.len);
    for (Py_ssize_t p0 = 0; p0 < ppad; p0 += TILE)
        cross_tile(raw.buf, m, width, wt.buf, ppad, p0, out.buf, table);
    sum_squares(raw.buf, m, width, mask.buf, sumsq.buf);
    Py_END_ALLOW_THREADS
    free(table);
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&raw);
    PyBuffer_Release(&wt);
    PyBuffer_Release(&mask);
    PyBuffer_Release(&out);
    PyBuffer_Release(&sumsq);
    return result;
}

static PyMethodDef methods[] = {
    {"cross", cross, METH_VARARGS, "cross(raw, wt, mask, out, sumsq, m, width, ppad): W·G and Σg² of packed .bed bytes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_packed", "Products with packed .bed genotypes.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__packed(void) { return PyModule_Create(&module); }
