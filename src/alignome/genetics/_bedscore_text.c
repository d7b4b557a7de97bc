#include "_bedscore.h"

/* ---------------------------------------------------------------------------------------------------
 * Report text (alignome.genetics.qc_reports.write_qc): rows of whitespace tables, each cell written as Python's
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
PyObject *ab_text_rows(PyObject *self, PyObject *args)
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
PyObject *ab_text_columns(PyObject *self, PyObject *args)
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
