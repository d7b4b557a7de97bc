/*
 * Result rows as plink2 writes them: tab-separated text, floats as C's "%.6g" (six significant
 * digits), NaN as "NA".
 *
 * rows(columns, count) → bytes: row i is column[0][i] TAB column[1][i] … NEWLINE, where each
 * column is one of
 *   - a bytes object: the same text on every row (e.g. the METHOD of a multi-trait scan);
 *   - a (data, offsets) pair of buffers: strings of an Arrow large_string array, string i being
 *     data[offsets[i] : offsets[i + 1]] (uint8 data, int64 offsets, count + 1 of them);
 *   - a float64 or int64 array of count values.
 * The GIL is released while the rows are formatted.
 *
 * "%.6g" is computed without printf: the six digits come from |x| · 10^(5 − e) rounded to an
 * integer, first in double (a correctly rounded power of ten: error < 2e-10 at this scale), then,
 * where that is within 1e-9 of a half, in long double (error < 1e-12), and where even that is within
 * 1e-7 of a half (a tie to the last place), and for 0 and ±inf, by printf itself, so the text is
 * always printf's.  The Python side (alignome.gwas.tsv) has a pure-Python path with the same output;
 * tests compare both with Python's "%.6g".
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define POW_RANGE 400 /* 10^k for |k| ≤ POW_RANGE: doubles span 10^-324 … 10^308 */
static long double POW10[2 * POW_RANGE + 1];
#define FAST_RANGE 300 /* 10^k as doubles for |k| ≤ FAST_RANGE (correctly rounded) */
static double POW10_FAST[2 * FAST_RANGE + 1];
#define MAX_NUMBER 32 /* bytes of one formatted number, at most */

static int printf_g6(double x, char *out) { return snprintf(out, MAX_NUMBER, "%.6g", x); }

static const char DIGIT_PAIRS[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                  "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                  "8081828384858687888990919293949596979899";

/* The six significant digits of ax > 0 as an integer 100000 … 999999 and its decimal exponent (that of
 * "%e" after rounding), or 0 where the rounding is too close to call (within 1e-9 of a half). */
static int six_digits_fast(double ax, int e10, int64_t *digits, int *exponent)
{
    for (int tries = 0; tries < 4; tries++) {
        const int k = 5 - e10;
        if (k < -FAST_RANGE || k > FAST_RANGE)
            return 0;
        const double scaled = ax * POW10_FAST[k + FAST_RANGE]; /* within ~1.2e-10 of ax · 10^k */
        const int64_t whole = (int64_t)scaled;
        const double frac = scaled - (double)whole;
        if (fabs(frac - 0.5) < 1e-9)
            return 0;
        if (scaled >= 999999.5)
            e10++; /* rounds to 10^6 or beyond: one more digit before the point */
        else if (scaled < 99999.5)
            e10--;
        else {
            *digits = whole + (frac > 0.5);
            *exponent = e10;
            return 1;
        }
    }
    return 0;
}

/* The same in long double (64-bit mantissa), for the whole range of doubles; 0 where too close to call. */
static int six_digits_long(double ax, int e10, int64_t *digits, int *exponent)
{
    for (int tries = 0; tries < 4; tries++) {
        const int k = 5 - e10;
        if (k < -POW_RANGE || k > POW_RANGE)
            return 0;
        const long double scaled = (long double)ax * POW10[k + POW_RANGE];
        const long double frac = scaled - floorl(scaled);
        if (fabsl(frac - 0.5L) < 1e-7L)
            return 0;
        if (scaled >= 999999.5L)
            e10++;
        else if (scaled < 99999.5L)
            e10--;
        else {
            *digits = (int64_t)(scaled + 0.5L);
            *exponent = e10;
            return 1;
        }
    }
    return 0;
}

/* x as printf("%.6g", x) writes it; NaN as NA.  Returns the bytes written. */
static int format_g6(double x, char *out)
{
    if (isnan(x)) {
        memcpy(out, "NA", 2);
        return 2;
    }
    if (!isfinite(x) || x == 0.0)
        return printf_g6(x, out);
    const double ax = fabs(x);
    int e2;
    frexp(ax, &e2); /* ax = f · 2^e2, f in [0.5, 1) */
    int e10 = (int)floor((e2 - 1) * 0.30102999566398120); /* floor(log10 ax), or one less */
    int64_t m;
    if (!six_digits_fast(ax, e10, &m, &e10) && !six_digits_long(ax, e10, &m, &e10))
        return printf_g6(x, out); /* a tie to the last place, or beyond the tables: printf decides */
    char d[6];
    memcpy(d, DIGIT_PAIRS + 2 * (m / 10000), 2);
    memcpy(d + 2, DIGIT_PAIRS + 2 * (m / 100 % 100), 2);
    memcpy(d + 4, DIGIT_PAIRS + 2 * (m % 100), 2);
    int last = 5; /* last significant digit kept (%g drops trailing zeros) */
    while (last > 0 && d[last] == '0')
        last--;
    char *p = out;
    if (x < 0)
        *p++ = '-';
    if (e10 < -4 || e10 >= 6) { /* d.ddddde±XX */
        *p++ = d[0];
        if (last > 0) {
            *p++ = '.';
            memcpy(p, d + 1, (size_t)last);
            p += last;
        }
        *p++ = 'e';
        *p++ = e10 < 0 ? '-' : '+';
        int ex = e10 < 0 ? -e10 : e10;
        if (ex >= 100)
            *p++ = (char)('0' + ex / 100);
        *p++ = (char)('0' + ex / 10 % 10);
        *p++ = (char)('0' + ex % 10);
    } else if (e10 >= 0) { /* ddd.ddd */
        memcpy(p, d, (size_t)e10 + 1);
        p += e10 + 1;
        if (last > e10) {
            *p++ = '.';
            memcpy(p, d + e10 + 1, (size_t)(last - e10));
            p += last - e10;
        }
    } else { /* 0.000ddd */
        *p++ = '0';
        *p++ = '.';
        for (int z = 0; z < -e10 - 1; z++)
            *p++ = '0';
        memcpy(p, d, (size_t)last + 1);
        p += last + 1;
    }
    return (int)(p - out);
}

static int format_int(int64_t v, char *out)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    char *p = out;
    if (v < 0)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    return (int)(p - out);
}

enum kind { CONSTANT, STRINGS, FLOATS, INTEGERS };

typedef struct {
    enum kind kind;
    const char *text; /* CONSTANT: the text; STRINGS: the data */
    Py_ssize_t length; /* CONSTANT: its length */
    const int64_t *offsets; /* STRINGS */
    const double *floats;
    const int64_t *integers;
} column_t;

/* Fill one column description from a Python object; buffers are kept in views[]. */
static int describe(PyObject *item, Py_ssize_t count, column_t *col, Py_buffer *views, int *n_views)
{
    memset(col, 0, sizeof *col);
    if (PyBytes_Check(item)) {
        col->kind = CONSTANT;
        col->text = PyBytes_AS_STRING(item);
        col->length = PyBytes_GET_SIZE(item);
        return 0;
    }
    if (PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 2) {
        Py_buffer *data = &views[(*n_views)], *off = &views[(*n_views) + 1];
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(item, 0), data, PyBUF_C_CONTIGUOUS) < 0)
            return -1;
        (*n_views)++;
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(item, 1), off, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
            return -1;
        (*n_views)++;
        if (off->itemsize != 8 || off->len / 8 < count + 1) {
            PyErr_SetString(PyExc_ValueError, "string offsets must be count + 1 int64 values");
            return -1;
        }
        const int64_t *o = (const int64_t *)off->buf;
        if (o[0] < 0 || o[count] > (int64_t)data->len) {
            PyErr_SetString(PyExc_ValueError, "string offsets outside the data");
            return -1;
        }
        for (Py_ssize_t i = 0; i < count; i++)
            if (o[i + 1] < o[i]) {
                PyErr_SetString(PyExc_ValueError, "string offsets must not decrease");
                return -1;
            }
        col->kind = STRINGS;
        col->text = (const char *)data->buf;
        col->offsets = o;
        return 0;
    }
    Py_buffer *view = &views[*n_views];
    if (PyObject_GetBuffer(item, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    (*n_views)++;
    const char f = view->format ? view->format[strspn(view->format, "@=<")] : 'B';
    if (view->len / (view->itemsize ? view->itemsize : 1) != count) {
        PyErr_Format(PyExc_ValueError, "a column has %zd values, expected %zd", view->len / view->itemsize, count);
        return -1;
    }
    if (f == 'd' && view->itemsize == 8) {
        col->kind = FLOATS;
        col->floats = (const double *)view->buf;
    } else if ((f == 'l' || f == 'q') && view->itemsize == 8) {
        col->kind = INTEGERS;
        col->integers = (const int64_t *)view->buf;
    } else {
        PyErr_Format(PyExc_TypeError, "a column must be bytes, (data, offsets) or float64/int64 values, not format '%s'",
                     view->format ? view->format : "B");
        return -1;
    }
    return 0;
}

static PyObject *rows(PyObject *self, PyObject *args)
{
    PyObject *columns;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "O!n", &PyTuple_Type, &columns, &count))
        return NULL;
    const Py_ssize_t k = PyTuple_GET_SIZE(columns);
    if (k == 0 || count < 0) {
        PyErr_SetString(PyExc_ValueError, "rows() needs at least one column and count ≥ 0");
        return NULL;
    }
    column_t *cols = PyMem_Calloc((size_t)k, sizeof(column_t));
    Py_buffer *views = PyMem_Calloc((size_t)(2 * k), sizeof(Py_buffer));
    int n_views = 0;
    PyObject *result = NULL;
    if (!cols || !views) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t bound = count; /* newlines */
    for (Py_ssize_t c = 0; c < k; c++) {
        if (describe(PyTuple_GET_ITEM(columns, c), count, &cols[c], views, &n_views) < 0)
            goto done;
        if (cols[c].kind == CONSTANT)
            bound += count * (cols[c].length + 1);
        else if (cols[c].kind == STRINGS)
            bound += cols[c].offsets[count] - cols[c].offsets[0] + count;
        else
            bound += count * (MAX_NUMBER + 1);
    }
    result = PyBytes_FromStringAndSize(NULL, bound);
    if (!result)
        goto done;
    char *p = PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        for (Py_ssize_t c = 0; c < k; c++) {
            const column_t *col = &cols[c];
            if (c)
                *p++ = '\t';
            switch (col->kind) {
            case CONSTANT:
                memcpy(p, col->text, (size_t)col->length);
                p += col->length;
                break;
            case STRINGS: {
                const int64_t a = col->offsets[i], b = col->offsets[i + 1];
                memcpy(p, col->text + a, (size_t)(b - a));
                p += b - a;
                break;
            }
            case FLOATS:
                p += format_g6(col->floats[i], p);
                break;
            case INTEGERS:
                p += format_int(col->integers[i], p);
                break;
            }
        }
        *p++ = '\n';
    }
    Py_END_ALLOW_THREADS
    if (_PyBytes_Resize(&result, p - PyBytes_AS_STRING(result)) < 0)
        result = NULL;
done:
    for (int v = 0; v < n_views; v++)
        PyBuffer_Release(&views[v]);
    PyMem_Free(views);
    PyMem_Free(cols);
    return result;
}

static PyObject *g6(PyObject *self, PyObject *arg)
{
    const double x = PyFloat_AsDouble(arg);
    if (x == -1.0 && PyErr_Occurred())
        return NULL;
    char buf[MAX_NUMBER];
    const int n = format_g6(x, buf);
    return PyUnicode_FromStringAndSize(buf, n);
}

static PyMethodDef methods[] = {
    {"rows", rows, METH_VARARGS, "rows(columns, count) -> bytes: tab-separated rows, floats as %.6g, NaN as NA."},
    {"g6", g6, METH_O, "g6(x) -> str: x as '%.6g' (NaN as NA), by the rows() formatter."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_tsv", "plink2-style result rows as text.", -1, methods};

PyMODINIT_FUNC PyInit__tsv(void)
{
    for (int k = -POW_RANGE; k <= POW_RANGE; k++)
        POW10[k + POW_RANGE] = powl(10.0L, (long double)k);
    for (int k = -FAST_RANGE; k <= FAST_RANGE; k++)
        POW10_FAST[k + FAST_RANGE] = (double)POW10[k + POW_RANGE];
    return PyModule_Create(&module);
}
