#include "_bedscore.h"

#include <stdlib.h>

/* ---------------------------------------------------------------------------------------------------
 * Columns of whitespace-separated text as byte spans (alignome.io.fields): the [start, end) spans of
 * chosen fields of every line, numbers read from spans, and the rows of one column found in another by
 * hashing, so that a .bim or an association report of millions of lines is read without a Python object
 * per cell.
 */

/* Byte classes: 0 printable, 1 blank (space, \t, \n, \v, \f, \r), 2 not plain ASCII text. */
static unsigned char byte_class[256];

static void build_byte_class(void)
{
    for (int b = 0; b < 256; b++)
        byte_class[b] = b == ' ' || (b >= 9 && b <= 13) ? 1 : b >= 127 || b < 32 ? 2 : 0;
}

/* fields(data, count, wanted) -> (bytes, rows, longest) or None.  The spans of fields wanted[0], wanted[1], …
 * of every non-blank line: bytes of int64 (len(wanted), capacity, 2) [start, end) byte offsets, of which the
 * first `rows` of each field are filled, and the longest of each field (a list); None where a non-blank line
 * does not hold `count` fields or a byte is not printable ASCII (the rules of text_columns). */
PyObject *ab_fields(PyObject *self, PyObject *args)
{
    Py_buffer data, wanted;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "y*ny*", &data, &count, &wanted))
        return NULL;
    PyObject *result = NULL, *spans = NULL;
    const unsigned char *s = data.buf, *want = wanted.buf;
    const Py_ssize_t size = data.len, nw = wanted.len;
    Py_ssize_t *slot = NULL;
    int64_t longest[256] = {0};
    if (count < 1 || nw < 1 || nw > 256) {
        PyErr_SetString(PyExc_ValueError, "fields: count must be positive and 1 … 256 fields be wanted");
        goto done;
    }
    slot = PyMem_Malloc((size_t)count * sizeof(Py_ssize_t));
    if (!slot) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t j = 0; j < count; j++)
        slot[j] = -1;
    for (Py_ssize_t j = 0; j < nw; j++) {
        if (want[j] >= count || slot[want[j]] >= 0) {
            PyErr_SetString(PyExc_ValueError, "fields: the wanted fields must be distinct and below count");
            goto done;
        }
        slot[want[j]] = j;
    }
    if (!byte_class[' '])
        build_byte_class();
    Py_ssize_t cap = 1; /* lines, at most */
    for (const unsigned char *at = s, *end = s + size; (at = memchr(at, '\n', (size_t)(end - at))); at++)
        cap++;
    spans = PyBytes_FromStringAndSize(NULL, nw * cap * 2 * (Py_ssize_t)sizeof(int64_t));
    if (!spans)
        goto done;
    int64_t *out = (int64_t *)PyBytes_AS_STRING(spans);
    Py_ssize_t i = 0, row = 0;
    while (i < size) {
        Py_ssize_t field = 0;
        while (i < size && s[i] != '\n') {
            const unsigned char c = byte_class[s[i]];
            if (c) {
                if (c == 2)
                    goto refuse;
                i++;
                continue;
            }
            const Py_ssize_t start = i;
            while (i < size && !byte_class[s[i]])
                i++;
            if (field >= count)
                goto refuse;
            if (slot[field] >= 0) {
                int64_t *at = out + 2 * (slot[field] * cap + row);
                at[0] = start;
                at[1] = i;
                if (i - start > longest[slot[field]])
                    longest[slot[field]] = i - start;
            }
            field++;
        }
        if (field != 0 && field != count)
            goto refuse;
        row += field != 0;
        i++; /* the newline */
    }
    PyObject *most = PyList_New(nw);
    for (Py_ssize_t j = 0; most && j < nw; j++) {
        PyObject *v = PyLong_FromLongLong(longest[j]);
        if (!v) {
            Py_CLEAR(most);
            break;
        }
        PyList_SET_ITEM(most, j, v);
    }
    if (most)
        result = Py_BuildValue("OnO", spans, row, most);
    Py_XDECREF(most);
    goto done;
refuse:
    result = Py_None;
    Py_INCREF(result);
done:
    Py_XDECREF(spans);
    PyMem_Free(slot);
    PyBuffer_Release(&data);
    PyBuffer_Release(&wanted);
    return result;
}

/* Whether s[0 … n) is [+-]?(digits[.digits*]|.digits)([eE][+-]?digits)? (decimal = 1) or [+-]?digits (0). */
static int number_syntax(const char *s, Py_ssize_t n, int decimal)
{
    Py_ssize_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (!decimal)
        return digits > 0 && i == n;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        const Py_ssize_t first = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == first)
            return 0;
    }
    return i == n;
}

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A decimal of at most 15 significant digits and a power of ten within 10^±22, read with one correctly rounded
 * multiplication or division of exact doubles (Clinger's fast path: the value strtod gives); 0 otherwise. */
static int exact_decimal(const char *s, Py_ssize_t n, double *value)
{
    Py_ssize_t i = 0;
    const int negative = n > 0 && s[0] == '-';
    if (n > 0 && (s[0] == '+' || s[0] == '-'))
        i++;
    uint64_t mantissa = 0;
    int digits = 0, scale = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        mantissa = mantissa * 10 + (uint64_t)(s[i] - '0');
        digits += mantissa != 0;
    }
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            mantissa = mantissa * 10 + (uint64_t)(s[i] - '0');
            digits += mantissa != 0;
            scale--;
        }
    if (digits > 15)
        return 0;
    if (i < n) { /* the exponent (the syntax is checked already) */
        i++;
        const int minus = s[i] == '-';
        i += s[i] == '+' || s[i] == '-';
        int e = 0;
        for (; i < n; i++) {
            e = e * 10 + (s[i] - '0');
            if (e > 400)
                return 0;
        }
        scale += minus ? -e : e;
    }
    if (scale < -22 || scale > 22)
        return 0;
    const double m = (double)mantissa; /* exact: below 10^15 */
    *value = scale < 0 ? m / POW10[-scale] : m * POW10[scale];
    if (negative)
        *value = -*value;
    return 1;
}

/* numbers(data, spans, decimal, out[, low, high]) -> int.  The field of each span as a number into out: float64
 * as strtod reads [+-]?(digits[.digits]|.digits)([eE][+-]?digits)? (decimal true), or int64 from [+-]?digits.
 * Returns the first row whose field is not such a number (or, for int64, out of range; for float64, outside
 * [low, high]), -1 when every row is one. */
PyObject *ab_numbers(PyObject *self, PyObject *args)
{
    Py_buffer data, spans, out;
    int decimal;
    double low = -INFINITY, high = INFINITY;
    if (!PyArg_ParseTuple(args, "y*y*pw*|dd", &data, &spans, &decimal, &out, &low, &high))
        return NULL;
    PyObject *result = NULL;
    const Py_ssize_t n = spans.len / 16;
    if (spans.len % 16 || out.len != n * 8) {
        PyErr_SetString(PyExc_ValueError, "numbers: spans must be int64 (n, 2) and out hold n 8-byte numbers");
        goto done;
    }
    const int64_t *sp = spans.buf;
    const char *text = data.buf;
    Py_ssize_t bad = -1;
    char local[64];
    for (Py_ssize_t r = 0; r < n && bad < 0; r++) {
        const int64_t start = sp[2 * r], end = sp[2 * r + 1];
        if (start < 0 || end < start || end > data.len) {
            PyErr_SetString(PyExc_ValueError, "numbers: a span lies outside the data");
            goto done;
        }
        const char *s = text + start;
        const Py_ssize_t len = (Py_ssize_t)(end - start);
        if (!number_syntax(s, len, decimal)) {
            bad = r;
            break;
        }
        if (decimal) {
            double value;
            if (!exact_decimal(s, len, &value)) {
                char *copy = len < (Py_ssize_t)sizeof local ? local : PyMem_Malloc((size_t)len + 1);
                if (!copy) {
                    PyErr_NoMemory();
                    goto done;
                }
                memcpy(copy, s, (size_t)len);
                copy[len] = 0;
                value = strtod(copy, NULL);
                if (copy != local)
                    PyMem_Free(copy);
            }
            ((double *)out.buf)[r] = value;
            if (!(value >= low && value <= high))
                bad = r;
        } else {
            const int negative = s[0] == '-';
            uint64_t v = 0;
            const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
            for (Py_ssize_t i = s[0] == '-' || s[0] == '+'; i < len && bad < 0; i++) {
                const uint64_t digit = (uint64_t)(s[i] - '0');
                if (v > (limit - digit) / 10)
                    bad = r;
                v = v * 10 + digit;
            }
            if (bad < 0)
                ((int64_t *)out.buf)[r] = negative ? (int64_t)(0 - v) : (int64_t)v;
        }
    }
    result = PyLong_FromSsize_t(bad);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&spans);
    PyBuffer_Release(&out);
    return result;
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t mum(uint64_t a, uint64_t b)
{
    const __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* A hash of len bytes at s: whole (overlapping) words, no byte loop for ids of up to 16 bytes. */
static inline uint64_t span_hash(const unsigned char *s, int64_t len)
{
    uint64_t a = 0, b = 0, h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)len;
    if (len >= 8) {
        int64_t i = 0;
        for (; i + 16 < len; i += 8)
            h = mum(h ^ load64(s + i), 0xbf58476d1ce4e5b9ULL);
        a = load64(s + i);
        b = load64(s + len - 8);
    } else if (len >= 4) {
        a = load32(s);
        b = load32(s + len - 4);
    } else if (len > 0) {
        a = (uint64_t)s[0] << 16 | (uint64_t)s[len >> 1] << 8 | s[len - 1];
    }
    return mum(a ^ h, b ^ 0x94d049bb133111ebULL);
}

/* Whether row i of column a and row j of column b hold the same bytes. */
static inline int same(const unsigned char *ta, const int64_t *pa, int64_t i, const unsigned char *tb,
                       const int64_t *pb, int64_t j)
{
    const int64_t len = pa[2 * i + 1] - pa[2 * i];
    if (pb[2 * j + 1] - pb[2 * j] != len)
        return 0;
    const unsigned char *x = ta + pa[2 * i], *y = tb + pb[2 * j];
    if (len > 16)
        return memcmp(x, y, (size_t)len) == 0;
    if (len >= 8)
        return load64(x) == load64(y) && load64(x + len - 8) == load64(y + len - 8);
    if (len >= 4)
        return load32(x) == load32(y) && load32(x + len - 4) == load32(y + len - 4);
    for (int64_t k = 0; k < len; k++)
        if (x[k] != y[k])
            return 0;
    return 1;
}

/* match(data_a, spans_a, data_b, spans_b, out) -> int: out[j] = the first row of column a whose field has the
 * bytes of row j of column b, -1 where none (spans int64 (rows, 2); out int64, one per row of b).  Returns the
 * first row of a that repeats an earlier one, -1 when none does. */
PyObject *ab_match(PyObject *self, PyObject *args)
{
    Py_buffer da, sa, db, sb, out;
    if (!PyArg_ParseTuple(args, "y*y*y*y*w*", &da, &sa, &db, &sb, &out))
        return NULL;
    PyObject *result = NULL;
    uint64_t *table = NULL;
    const Py_ssize_t na = sa.len / 16, nb = sb.len / 16;
    if (sa.len % 16 || sb.len % 16 || out.len != nb * 8 || na >= ((Py_ssize_t)1 << 32)) {
        PyErr_SetString(PyExc_ValueError, "match: spans must be int64 (rows, 2), fewer than 2^32 in a, and out "
                                          "int64 (rows of b)");
        goto done;
    }
    const int64_t *pa = sa.buf, *pb = sb.buf;
    for (Py_ssize_t r = 0; r < na + nb; r++) {
        const int64_t *p = r < na ? pa + 2 * r : pb + 2 * (r - na);
        if (p[0] < 0 || p[1] < p[0] || p[1] > (r < na ? da.len : db.len)) {
            PyErr_SetString(PyExc_ValueError, "match: a span lies outside the data");
            goto done;
        }
    }
    size_t cap = 16;
    while (cap < 2 * (size_t)na)
        cap *= 2;
    /* a slot: the row of a (low 32 bits) + 1, 0 when empty, and the high 32 bits of its hash */
    table = PyMem_Calloc(cap, sizeof(uint64_t));
    if (!table) {
        PyErr_NoMemory();
        goto done;
    }
    const unsigned char *ta = da.buf, *tb = db.buf;
    int64_t *o = out.buf;
    Py_ssize_t repeat = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < na; r++) {
        if (r && same(ta, pa, r - 1, ta, pa, r)) { /* a run of one value: only its first row goes in */
            repeat = repeat < 0 ? r : repeat;
            continue;
        }
        const uint64_t hash = span_hash(ta + pa[2 * r], pa[2 * r + 1] - pa[2 * r]);
        for (size_t h = (size_t)hash & (cap - 1);; h = (h + 1) & (cap - 1)) {
            if (!table[h]) {
                table[h] = (hash & 0xFFFFFFFF00000000ULL) | (uint64_t)(r + 1);
                break;
            }
            if ((table[h] >> 32) == (hash >> 32) && same(ta, pa, (int64_t)(table[h] & 0xFFFFFFFF) - 1, ta, pa, r)) {
                repeat = repeat < 0 ? r : repeat; /* a repeat: the first row stays */
                break;
            }
        }
    }
    for (Py_ssize_t r = 0; r < nb; r++) {
        if (r && same(tb, pb, r - 1, tb, pb, r)) {
            o[r] = o[r - 1];
            continue;
        }
        const uint64_t hash = span_hash(tb + pb[2 * r], pb[2 * r + 1] - pb[2 * r]);
        o[r] = -1;
        for (size_t h = (size_t)hash & (cap - 1); table[h]; h = (h + 1) & (cap - 1)) {
            const int64_t at = (int64_t)(table[h] & 0xFFFFFFFF) - 1;
            if ((table[h] >> 32) == (hash >> 32) && same(ta, pa, at, tb, pb, r)) {
                o[r] = at;
                break;
            }
        }
    }
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(repeat);
done:
    PyMem_Free(table);
    PyBuffer_Release(&da);
    PyBuffer_Release(&sa);
    PyBuffer_Release(&db);
    PyBuffer_Release(&sb);
    PyBuffer_Release(&out);
    return result;
}
