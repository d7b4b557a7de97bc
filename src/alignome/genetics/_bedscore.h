/*
 * Shared by the sources of alignome.genetics._bedscore (_bedscore.c, the module; _bedscore_score.c,
 * _bedscore_clump.c, _bedscore_em.c, _bedscore_qc.c, _bedscore_hwe.c, _bedscore_text.c, _bedscore_fields.c):
 * includes, the vector types, the multiversioning macros, inline loads, and the entry points each file gives
 * the others.
 */
#ifndef ALIGNOME_BEDSCORE_H
#define ALIGNOME_BEDSCORE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MULTIVERSION __attribute__((target_clones("avx2", "default")))
#else
#define MULTIVERSION
#endif

/* The QC kernels (_bedscore_qc.c), the HWE test (_bedscore_hwe.c) and the clumping popcounts
 * (_bedscore_clump.c) have AVX2 / AVX-512 versions chosen at run time by ab_qc_level(). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define QC_DISPATCH 1
#endif

typedef double v4d __attribute__((vector_size(32))); /* 4 doubles: one AVX2 register, two SSE2 ones */
typedef uint64_t v4u __attribute__((vector_size(32))); /* 4 uint64: one AVX2 register, two SSE2 ones */

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

/* _bedscore_score.c: fills the dosage tables (once, from PyInit__bedscore). */
void ab_build_tables(void);

/* _bedscore_qc.c: 2: AVX-512 with vector popcounts, 1: AVX2 and popcnt, 0: neither (or not x86-64 GCC). */
int ab_qc_level(void);

/* _bedscore_em.c: PLINK 1.9's two-locus r² of a pair from its known haplotype counts k11 k12 k21 k22 and
 * double heterozygotes (center), also as fractions of all haplotypes (f, half = center / twice_tot). */
typedef struct {
    double k[4], center, twice_tot, f[4], half;
} ab_haplotypes;
ab_haplotypes ab_known_haplotypes(double k11, double k12, double k21, double k22, double center);
/* Signed r² (negative: repulsion) from the maximum-likelihood 1-1 haplotype frequency; NaN where PLINK
 * computes none (no pairwise-complete sample, or a variant monomorphic over them). */
double ab_em_r2(const ab_haplotypes *h);
/* 1: r² certainly above threshold, 0: certainly not (or undefined), -1: only ab_em_r2 can tell. */
int ab_r2_screen(const ab_haplotypes *h, double threshold);

/* The module's functions (their docstrings are in _bedscore.c's method table). */
PyObject *ab_accumulate(PyObject *self, PyObject *args);     /* _bedscore_score.c */
PyObject *ab_clump(PyObject *self, PyObject *args);          /* _bedscore_clump.c */
PyObject *ab_group_counts(PyObject *self, PyObject *args);   /* _bedscore_qc.c */
PyObject *ab_missing_counts(PyObject *self, PyObject *args); /* _bedscore_qc.c */
PyObject *ab_hwe(PyObject *self, PyObject *args);            /* _bedscore_hwe.c */
PyObject *ab_text_columns(PyObject *self, PyObject *args);   /* _bedscore_text.c */
PyObject *ab_text_rows(PyObject *self, PyObject *args);      /* _bedscore_text.c */
PyObject *ab_fields(PyObject *self, PyObject *args);         /* _bedscore_fields.c */
PyObject *ab_numbers(PyObject *self, PyObject *args);        /* _bedscore_fields.c */
PyObject *ab_match(PyObject *self, PyObject *args);          /* _bedscore_fields.c */

#endif
