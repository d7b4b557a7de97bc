#include "_bedscore.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------------
 * PLINK 1.9 --clump (alignome.genetics.clump; its NumPy twin is alignome.genetics.clump_numpy): the report's
 * rows become entries (p <= load) and NSIG counts of the .bim's variants; index variants (entries with
 * p <= p1) are taken by p, .bim order breaking ties; for each one not yet clumped, every variant of its window
 * (its chromosome, |bp - its bp| <= radius) present in the report and not yet clumped gets its haplotype
 * counts with the index from AND + popcount of the 2-bit .bed calls, its r² bracketed without the EM
 * (ab_r2_screen) and, where the bracket cannot decide or the variant is listed in SP2 (p < p2), computed by
 * PLINK's EM (ab_em_r2); it joins when r² > r2.  The .bed comes mapped into memory (the operating system
 * pages it in and out as the windows move), rows read in place.
 *
 * A .bed word holds 32 calls, sample k in bits 2k (lo) and 2k+1 (hi): lo hi = 0 0 two copies of A1,
 * 1 0 missing, 0 1 heterozygous, 1 1 none.  Per sample, on its even bit: homozygous A1 ~(y | y >> 1),
 * heterozygous y >> 1 & ~y, called ~y | y >> 1, carrier of A1 ~y.
 */

/* ------------------------------- popcounts of 2-bit calls ----------------------------------------- */

/* The index variant's masks over the kept samples, `words` each: homozygous A1, carrier shifted to the
 * odd bits, heterozygous, carrier, called. */
enum { M_HOM, M_CARRIER_ODD, M_HET, M_CARRIER, M_CALLED, N_MASKS };

static inline __attribute__((always_inline)) uint64_t word_at(const uint8_t *row, Py_ssize_t w)
{
    uint64_t y;
    memcpy(&y, row + 8 * w, 8);
    return y;
}

/* Both variants called in every kept sample: k11 = |homᵃ ∧ carrierᵇ| + |carrierᵃ ∧ homᵇ| (even bits, then
 * odd ones, in one popcount) and the double heterozygotes |hetᵃ ∧ hetᵇ|. */
static inline __attribute__((always_inline)) void complete_body(const uint8_t *row, const uint64_t *m,
                                                                Py_ssize_t words, int64_t *out)
{
    const uint64_t *hom = m + M_HOM * words, *odd = m + M_CARRIER_ODD * words, *het = m + M_HET * words;
    uint64_t k = 0, n = 0;
    for (Py_ssize_t w = 0; w < words; w++) {
        const uint64_t y = word_at(row, w), ny = ~y;
        k += (uint64_t)__builtin_popcountll(ny & (hom[w] | (odd[w] & ~(y << 1))));
        n += (uint64_t)__builtin_popcountll(het[w] & (y >> 1) & ny);
    }
    out[0] = (int64_t)k;
    out[1] = (int64_t)n;
}

/* With missing calls: |homᵃ ∧ carrierᵇ|, |carrierᵃ ∧ homᵇ|, |hetᵃ ∧ hetᵇ|, |homᵃ ∧ calledᵇ|,
 * |carrierᵃ ∧ calledᵇ|, |calledᵃ ∧ homᵇ|, |calledᵃ ∧ carrierᵇ|, |calledᵃ ∧ calledᵇ|. */
static inline __attribute__((always_inline)) void general_body(const uint8_t *row, const uint64_t *m,
                                                               Py_ssize_t words, int64_t *out)
{
    const uint64_t *hom = m + M_HOM * words, *het = m + M_HET * words, *carrier = m + M_CARRIER * words,
                   *called = m + M_CALLED * words;
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    for (Py_ssize_t w = 0; w < words; w++) {
        const uint64_t y = word_at(row, w), ny = ~y, h = y >> 1;
        const uint64_t bhom = ny & ~h, bhet = h & ny, bcalled = ny | h;
        a0 += (uint64_t)__builtin_popcountll(hom[w] & ny);
        a1 += (uint64_t)__builtin_popcountll(carrier[w] & bhom);
        a2 += (uint64_t)__builtin_popcountll(het[w] & bhet);
        a3 += (uint64_t)__builtin_popcountll(hom[w] & bcalled);
        a4 += (uint64_t)__builtin_popcountll(carrier[w] & bcalled);
        a5 += (uint64_t)__builtin_popcountll(called[w] & bhom);
        a6 += (uint64_t)__builtin_popcountll(called[w] & ny);
        a7 += (uint64_t)__builtin_popcountll(called[w] & bcalled);
    }
    const uint64_t a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
    for (int j = 0; j < 8; j++)
        out[j] = (int64_t)a[j];
}

/* A row's homozygous-A1, heterozygous and called kept samples. */
static inline __attribute__((always_inline)) void counts_body(const uint8_t *row, const uint64_t *kept,
                                                              Py_ssize_t words, int64_t *out)
{
    uint64_t hom = 0, het = 0, called = 0;
    for (Py_ssize_t w = 0; w < words; w++) {
        const uint64_t y = word_at(row, w), ny = ~y, h = y >> 1;
        hom += (uint64_t)__builtin_popcountll(kept[w] & ny & ~h);
        het += (uint64_t)__builtin_popcountll(kept[w] & h & ny);
        called += (uint64_t)__builtin_popcountll(kept[w] & (ny | h));
    }
    out[0] = (int64_t)hom;
    out[1] = (int64_t)het;
    out[2] = (int64_t)called;
}

typedef void (*row_kernel)(const uint8_t *row, const uint64_t *m, Py_ssize_t words, int64_t *out);

typedef struct {
    row_kernel complete, general, counts;
} pair_kernels;

#define PAIR_KERNELS(name, attr)                                                                          \
    attr static void complete_##name(const uint8_t *row, const uint64_t *m, Py_ssize_t words, int64_t *out) \
    {                                                                                                     \
        complete_body(row, m, words, out);                                                                \
    }                                                                                                     \
    attr static void general_##name(const uint8_t *row, const uint64_t *m, Py_ssize_t words, int64_t *out)  \
    {                                                                                                     \
        general_body(row, m, words, out);                                                                 \
    }                                                                                                     \
    attr static void counts_##name(const uint8_t *row, const uint64_t *m, Py_ssize_t words, int64_t *out)   \
    {                                                                                                     \
        counts_body(row, m, words, out);                                                                  \
    }                                                                                                     \
    static const pair_kernels kernels_##name = {complete_##name, general_##name, counts_##name};

#ifdef QC_DISPATCH
PAIR_KERNELS(vpopcnt, __attribute__((target("avx512f,avx512vl,avx512bw,avx512vpopcntdq,popcnt"))))
PAIR_KERNELS(avx2, __attribute__((target("avx2,popcnt"))))
#endif
PAIR_KERNELS(default, )

static const pair_kernels *choose_kernels(void)
{
#ifdef QC_DISPATCH
    const int level = ab_qc_level();
    if (level == 2)
        return &kernels_vpopcnt;
    if (level == 1)
        return &kernels_avx2;
#endif
    return &kernels_default;
}

static void index_masks(const uint8_t *row, const uint64_t *kept, Py_ssize_t words, uint64_t *m, int64_t counts[3])
{
    counts[0] = counts[1] = counts[2] = 0;
    for (Py_ssize_t w = 0; w < words; w++) {
        const uint64_t y = word_at(row, w), ny = ~y, h = y >> 1, k = kept[w];
        const uint64_t hom = k & ny & ~h, het = k & h & ny, carrier = k & ny, called = k & (ny | h);
        m[M_HOM * words + w] = hom;
        m[M_CARRIER_ODD * words + w] = carrier << 1;
        m[M_HET * words + w] = het;
        m[M_CARRIER * words + w] = carrier;
        m[M_CALLED * words + w] = called;
        counts[0] += __builtin_popcountll(hom);
        counts[1] += __builtin_popcountll(het);
        counts[2] += __builtin_popcountll(called);
    }
}

/* ------------------------------- .bed rows ------------------------------------------------------ */

typedef struct {
    const uint8_t *bed; /* the whole file, mapped */
    Py_ssize_t size, row_bytes, words;
    uint8_t *tail;      /* a row near the end of the file, copied, with whole words */
    int mapped;         /* bed is a memory map of the file: its pages may be released (release_pages) */
    Py_ssize_t read;    /* bytes of rows read since the pages were last released */
} bed_rows;

/* Bytes of .bed rows read between releases of the mapped pages: the process keeps at most about this
 * much of the file resident, however many variants it has. */
#define RELEASE_BYTES ((Py_ssize_t)64 << 20)

/* Drop the mapped file's pages from this process (they stay in the page cache and come back on the next
 * read), so that its resident memory does not grow with the size of the .bed. */
static void release_pages(bed_rows *b)
{
    const long page = sysconf(_SC_PAGESIZE);
    if (b->mapped && page > 0 && (uintptr_t)b->bed % (uintptr_t)page == 0)
        madvise((void *)b->bed, (size_t)b->size, MADV_DONTNEED);
    b->read = 0;
}

/* Row v, readable as `words` whole words. */
static inline const uint8_t *bed_row(bed_rows *b, Py_ssize_t v)
{
    const Py_ssize_t at = 3 + v * b->row_bytes;
    if (at + 8 * b->words <= b->size)
        return b->bed + at;
    memcpy(b->tail, b->bed + at, (size_t)b->row_bytes);
    return b->tail;
}

/* ------------------------------- entries, index variants, windows -------------------------------- */

typedef struct {
    double p;
    int64_t row;
} by_p;

static int cmp_by_p(const void *a, const void *b)
{
    const by_p *x = a, *y = b;
    return x->p < y->p ? -1 : x->p > y->p ? 1 : (x->row > y->row) - (x->row < y->row);
}

typedef struct {
    int64_t chrom, pos, row;
} by_position;

static int cmp_by_position(const void *a, const void *b)
{
    const by_position *x = a, *y = b;
    if (x->chrom != y->chrom)
        return x->chrom < y->chrom ? -1 : 1;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static int cmp_int64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* First i in [lo, hi) with key[i] > v (after) or >= v (not after). */
static Py_ssize_t bound(const int64_t *key, Py_ssize_t lo, Py_ssize_t hi, int64_t v, int after)
{
    while (lo < hi) {
        const Py_ssize_t mid = lo + (hi - lo) / 2;
        if (key[mid] < v || (after && key[mid] == v))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int p_bin(double p)
{
    return p < 0.001 ? (p < 0.0001 ? 4 : 3) : p < 0.01 ? 2 : p < 0.05 ? 1 : 0;
}

/* ------------------------------- the clumping ---------------------------------------------------- */

typedef struct {
    /* in */
    const int64_t *chrom, *pos, *where;
    const double *p;
    Py_ssize_t n_var, n_rows;
    double p1, p2, r2, load;
    int64_t radius;
    /* per variant */
    double *entry_p;
    int64_t *nsig, *window, *members;
    int32_t *counts;
    uint8_t *present, *absorbed;
    double *member_r2;
    /* by chromosome and position: variant by_pos[i] (i itself where by_pos is NULL) */
    const int64_t *sorted_chrom, *sorted_pos;
    int64_t *by_pos, *sorted;
    /* per missing top variant, per index variant */
    by_p *lost, *order;
    Py_ssize_t n_lost, n_order;
    int64_t *sizes, *bins;
} clump_job;

/* Entries, NSIG counts, the missing top variants and the index variants, in order; 0 when out of memory. */
static int entries(clump_job *j)
{
    for (Py_ssize_t v = 0; v < j->n_var; v++)
        j->entry_p[v] = NAN;
    for (Py_ssize_t r = 0; r < j->n_rows; r++) {
        const int64_t v = j->where[r];
        const double p = j->p[r];
        if (v < 0)
            j->n_lost += p <= j->p1;
        else if (p > j->load && p >= 0.05)
            j->nsig[v]++;
        else if (p <= j->load)
            j->entry_p[v] = p; /* a repeated variant keeps its last row */
    }
    for (Py_ssize_t v = 0; v < j->n_var; v++) {
        const double p = j->entry_p[v];
        j->present[v] = p == p || j->nsig[v] > 0;
        j->n_order += p <= j->p1;
    }
    j->lost = PyMem_RawMalloc((size_t)(j->n_lost + 1) * sizeof(by_p));
    j->order = PyMem_RawMalloc((size_t)(j->n_order + 1) * sizeof(by_p));
    j->sizes = PyMem_RawMalloc((size_t)(j->n_order + 1) * sizeof(int64_t));
    j->bins = PyMem_RawCalloc((size_t)(5 * j->n_order + 1), sizeof(int64_t));
    if (!j->lost || !j->order || !j->sizes || !j->bins)
        return 0;
    for (Py_ssize_t r = 0, i = 0; r < j->n_rows; r++)
        if (j->where[r] < 0 && j->p[r] <= j->p1)
            j->lost[i++] = (by_p){j->p[r], r};
    for (Py_ssize_t v = 0, i = 0; v < j->n_var; v++)
        if (j->entry_p[v] <= j->p1)
            j->order[i++] = (by_p){j->entry_p[v], v};
    qsort(j->lost, (size_t)j->n_lost, sizeof(by_p), cmp_by_p);
    qsort(j->order, (size_t)j->n_order, sizeof(by_p), cmp_by_p);
    return 1;
}

/* The variants by chromosome and position, .bim order breaking ties; 0 when out of memory. */
static int positions(clump_job *j)
{
    int in_order = 1;
    for (Py_ssize_t v = 1; v < j->n_var && in_order; v++)
        in_order = j->chrom[v] > j->chrom[v - 1] || (j->chrom[v] == j->chrom[v - 1] && j->pos[v] >= j->pos[v - 1]);
    if (in_order) {
        j->sorted_chrom = j->chrom;
        j->sorted_pos = j->pos;
        return 1;
    }
    const size_t n = (size_t)(j->n_var ? j->n_var : 1);
    by_position *all = PyMem_RawMalloc(n * sizeof(by_position));
    j->by_pos = PyMem_RawMalloc(n * sizeof(int64_t));
    j->sorted = PyMem_RawMalloc(2 * n * sizeof(int64_t));
    if (!all || !j->by_pos || !j->sorted) {
        PyMem_RawFree(all);
        return 0;
    }
    for (Py_ssize_t v = 0; v < j->n_var; v++)
        all[v] = (by_position){j->chrom[v], j->pos[v], v};
    qsort(all, (size_t)j->n_var, sizeof(by_position), cmp_by_position);
    for (Py_ssize_t i = 0; i < j->n_var; i++) {
        j->by_pos[i] = all[i].row;
        j->sorted[i] = all[i].chrom;
        j->sorted[j->n_var + i] = all[i].pos;
    }
    PyMem_RawFree(all);
    j->sorted_chrom = j->sorted;
    j->sorted_pos = j->sorted + j->n_var;
    return 1;
}

/* Clumps around each index variant not clumped before (sizes[r] = -1 for those). */
static void clump_all(clump_job *j, bed_rows *rows, const uint64_t *kept, uint64_t *masks)
{
    const pair_kernels *kern = choose_kernels();
    const Py_ssize_t words = rows->words;
    int64_t n_kept = 0;
    for (Py_ssize_t w = 0; w < words; w++)
        n_kept += __builtin_popcountll(kept[w]);
    Py_ssize_t total = 0;
    for (Py_ssize_t r = 0; r < j->n_order; r++) {
        const int64_t iv = j->order[r].row;
        int64_t *bins = j->bins + 5 * r;
        if (j->absorbed[iv]) {
            j->sizes[r] = -1;
            continue;
        }
        int64_t ic[3];
        index_masks(bed_row(rows, iv), kept, words, masks, ic);
        const int index_complete = ic[2] == n_kept;
        /* the window: the index's chromosome in by_pos, then its positions */
        const Py_ssize_t first = bound(j->sorted_chrom, 0, j->n_var, j->chrom[iv], 0);
        const Py_ssize_t last = bound(j->sorted_chrom, first, j->n_var, j->chrom[iv], 1);
        const Py_ssize_t lo = bound(j->sorted_pos, first, last, j->pos[iv] - j->radius, 0);
        const Py_ssize_t hi = bound(j->sorted_pos, lo, last, j->pos[iv] + j->radius, 1);
        int sorted = 1;
        for (Py_ssize_t i = lo; i < hi; i++) {
            j->window[i - lo] = j->by_pos ? j->by_pos[i] : i;
            sorted &= i == lo || j->window[i - lo] > j->window[i - lo - 1];
        }
        if (!sorted) /* positions out of .bim order: the window in .bim order */
            qsort(j->window, (size_t)(hi - lo), sizeof(int64_t), cmp_int64);
        Py_ssize_t size = 0;
        for (Py_ssize_t i = 0; i < hi - lo; i++) {
            const int64_t v = j->window[i];
            if (v == iv || !j->present[v] || j->absorbed[v])
                continue;
            const uint8_t *y = bed_row(rows, v);
            int32_t *cc = j->counts + 3 * v;
            if (cc[0] < 0) {
                int64_t c[3];
                kern->counts(y, kept, words, c);
                cc[0] = (int32_t)c[0], cc[1] = (int32_t)c[1], cc[2] = (int32_t)c[2];
            }
            const int cand_complete = cc[2] == n_kept;
            int64_t k11, center, row1, row2, col1, col2, both;
            if (index_complete && cand_complete) {
                int64_t o[2];
                kern->complete(y, masks, words, o);
                k11 = o[0];
                center = o[1];
                row1 = ic[0], row2 = ic[0] + ic[1];
                col1 = cc[0], col2 = cc[0] + cc[1], both = cc[2];
            } else {
                int64_t o[8];
                kern->general(y, masks, words, o);
                k11 = o[0] + o[1];
                center = o[2];
                row1 = cand_complete ? ic[0] : o[3];
                row2 = cand_complete ? ic[0] + ic[1] : o[4];
                col1 = index_complete ? cc[0] : o[5];
                col2 = index_complete ? cc[0] + cc[1] : o[6];
                both = index_complete ? cc[2] : cand_complete ? ic[2] : o[7];
            }
            const int64_t k12 = row1 + row2 - k11 - center, k21 = col1 + col2 - k11 - center;
            const int64_t k22 = 2 * both - k11 - k12 - k21 - 2 * center;
            const ab_haplotypes h =
                ab_known_haplotypes((double)k11, (double)k12, (double)k21, (double)k22, (double)center);
            const double p = j->entry_p[v];
            const int listed = p < j->p2, decided = ab_r2_screen(&h, j->r2);
            double value = NAN;
            int joined = decided == 1;
            if (decided < 0 || (decided == 1 && listed)) { /* SP2 members keep their r² */
                value = ab_em_r2(&h);
                joined = fabs(value) > j->r2;
            }
            if (!joined)
                continue;
            j->absorbed[v] = 1;
            if (p == p) { /* an entry of the report */
                bins[p_bin(p)]++;
                if (listed) {
                    j->members[total + size] = v;
                    j->member_r2[total + size] = value;
                    size++;
                }
            }
            bins[0] += j->nsig[v];
        }
        j->sizes[r] = size;
        total += size;
        rows->read += (hi - lo + 1) * rows->row_bytes;
        if (rows->read > RELEASE_BYTES)
            release_pages(rows);
    }
}

/* (index_rows, index_p, bins, members, member_r2, lost, candidates) of a finished job. */
static PyObject *clump_result(const clump_job *j)
{
    PyObject *index = PyList_New(0), *index_p = PyList_New(0), *bins = PyList_New(0), *members = PyList_New(0),
             *member_r2 = PyList_New(0), *lost = PyList_New(j->n_lost), *result = NULL;
    if (!index || !index_p || !bins || !members || !member_r2 || !lost)
        goto done;
    Py_ssize_t at = 0;
    for (Py_ssize_t r = 0; r < j->n_order; r++) {
        if (j->sizes[r] < 0)
            continue;
        PyObject *b = Py_BuildValue("[LLLLL]", (long long)j->bins[5 * r], (long long)j->bins[5 * r + 1],
                                    (long long)j->bins[5 * r + 2], (long long)j->bins[5 * r + 3],
                                    (long long)j->bins[5 * r + 4]);
        PyObject *m = PyList_New(j->sizes[r]), *v = PyList_New(j->sizes[r]);
        PyObject *row = PyLong_FromLongLong(j->order[r].row), *p = PyFloat_FromDouble(j->order[r].p);
        int failed = !b || !m || !v || !row || !p;
        for (Py_ssize_t i = 0; !failed && i < j->sizes[r]; i++, at++) {
            PyObject *mi = PyLong_FromLongLong(j->members[at]), *vi = PyFloat_FromDouble(j->member_r2[at]);
            failed = !mi || !vi;
            if (failed) {
                Py_XDECREF(mi);
                Py_XDECREF(vi);
                break;
            }
            PyList_SET_ITEM(m, i, mi);
            PyList_SET_ITEM(v, i, vi);
        }
        failed = failed || PyList_Append(index, row) || PyList_Append(index_p, p) || PyList_Append(bins, b) ||
                 PyList_Append(members, m) || PyList_Append(member_r2, v);
        Py_XDECREF(b);
        Py_XDECREF(m);
        Py_XDECREF(v);
        Py_XDECREF(row);
        Py_XDECREF(p);
        if (failed)
            goto done;
    }
    for (Py_ssize_t i = 0; i < j->n_lost; i++) {
        PyObject *row = PyLong_FromLongLong(j->lost[i].row);
        if (!row)
            goto done;
        PyList_SET_ITEM(lost, i, row);
    }
    result = Py_BuildValue("(OOOOOOn)", index, index_p, bins, members, member_r2, lost, j->n_order);
done:
    Py_XDECREF(index);
    Py_XDECREF(index_p);
    Py_XDECREF(bins);
    Py_XDECREF(members);
    Py_XDECREF(member_r2);
    Py_XDECREF(lost);
    return result;
}

/* clump(bed, row_bytes, founders, chrom, pos, where, p, p1, p2, r2, load, radius, mapped=False) -> tuple;
 * mapped: bed is an mmap of the file, whose pages are released as the windows move on. */
PyObject *ab_clump(PyObject *self, PyObject *args)
{
    Py_ssize_t row_bytes;
    double p1, p2, r2, load;
    long long radius;
    int mapped = 0;
    Py_buffer bed, founders, chrom, pos, where, p;
    if (!PyArg_ParseTuple(args, "y*ny*y*y*y*y*ddddL|p", &bed, &row_bytes, &founders, &chrom, &pos, &where, &p, &p1,
                          &p2, &r2, &load, &radius, &mapped))
        return NULL;
    PyObject *result = NULL;
    clump_job j = {0};
    uint64_t *kept = NULL, *masks = NULL;
    bed_rows rows = {bed.buf, bed.len, row_bytes, (row_bytes + 7) / 8, NULL, mapped, 0};
    const Py_ssize_t n_var = chrom.len / 8, n_rows = p.len / 8, words = rows.words;
    int ok = row_bytes > 0 && founders.len > 4 * (row_bytes - 1) && founders.len <= 4 * row_bytes &&
             bed.len == 3 + n_var * row_bytes && chrom.len % 8 == 0 && pos.len == chrom.len && p.len % 8 == 0 &&
             where.len == p.len;
    const int64_t *wh = where.buf;
    for (Py_ssize_t r = 0; ok && r < n_rows; r++)
        ok = wh[r] >= -1 && wh[r] < n_var;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "clump: buffer sizes do not match (the .bed, founders, variants, report "
                                          "rows) or a report row names no variant");
        goto done;
    }
    const size_t nv = (size_t)(n_var ? n_var : 1);
    j.chrom = chrom.buf, j.pos = pos.buf, j.where = where.buf, j.p = p.buf, j.n_var = n_var, j.n_rows = n_rows;
    j.p1 = p1, j.p2 = p2, j.r2 = r2, j.load = load, j.radius = (int64_t)radius;
    j.entry_p = PyMem_RawMalloc(nv * sizeof(double));
    j.nsig = PyMem_RawCalloc(nv, sizeof(int64_t));
    j.counts = PyMem_RawMalloc(3 * nv * sizeof(int32_t));
    j.window = PyMem_RawMalloc(nv * sizeof(int64_t));
    j.present = PyMem_RawMalloc(nv);
    j.absorbed = PyMem_RawCalloc(nv, 1);
    j.members = PyMem_RawMalloc(nv * sizeof(int64_t));
    j.member_r2 = PyMem_RawMalloc(nv * sizeof(double));
    kept = PyMem_RawCalloc((size_t)words, sizeof(uint64_t));
    masks = PyMem_RawMalloc((size_t)(N_MASKS * words) * sizeof(uint64_t));
    rows.tail = PyMem_RawCalloc((size_t)words, sizeof(uint64_t));
    if (!j.entry_p || !j.nsig || !j.counts || !j.window || !j.present || !j.absorbed || !j.members ||
        !j.member_r2 || !kept || !masks || !rows.tail) {
        PyErr_NoMemory();
        goto done;
    }
    const uint8_t *f = founders.buf;
    for (Py_ssize_t s = 0; s < founders.len; s++) /* kept samples as calls: bit 2k of word w for sample 32w+k */
        kept[s / 32] |= (uint64_t)(f[s] != 0) << (2 * (s % 32));
    memset(j.counts, 0xFF, 3 * nv * sizeof(int32_t)); /* -1: not counted yet */
    int fine;
    Py_BEGIN_ALLOW_THREADS
    fine = entries(&j) && positions(&j);
    if (fine)
        clump_all(&j, &rows, kept, masks);
    Py_END_ALLOW_THREADS
    if (!fine) {
        PyErr_NoMemory();
        goto done;
    }
    result = clump_result(&j);
done:
    PyMem_RawFree(j.entry_p);
    PyMem_RawFree(j.nsig);
    PyMem_RawFree(j.counts);
    PyMem_RawFree(j.window);
    PyMem_RawFree(j.by_pos);
    PyMem_RawFree(j.sorted);
    PyMem_RawFree(j.present);
    PyMem_RawFree(j.absorbed);
    PyMem_RawFree(j.lost);
    PyMem_RawFree(j.order);
    PyMem_RawFree(j.sizes);
    PyMem_RawFree(j.bins);
    PyMem_RawFree(j.members);
    PyMem_RawFree(j.member_r2);
    PyMem_RawFree(kept);
    PyMem_RawFree(masks);
    PyMem_RawFree(rows.tail);
    PyBuffer_Release(&bed);
    PyBuffer_Release(&founders);
    PyBuffer_Release(&chrom);
    PyBuffer_Release(&pos);
    PyBuffer_Release(&where);
    PyBuffer_Release(&p);
    return result;
}
