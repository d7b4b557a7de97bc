/*
 * Upper tails of the t, χ² and F distributions for the association tests, without SciPy.
 *
 * The GWAS command would otherwise import scipy.special (0.15 s of start-up, as long as
 * the whole scan of 100k variants on two cores takes) for three functions:
 *
 *   t_two_sided(t, nu, out)   2·P(T_nu > |t|) = I_x(nu/2, 1/2), x = nu/(nu + t²)
 *   chi2_sf(x, d, out)        P(χ²_d > x), integer d: closed-form sums (erfc + Poisson terms)
 *   f_sf(f, d1, d2, out)      P(F_{d1,d2} > f) = I_x(d2/2, d1/2), x = d2/(d2 + d1 f), integer d1
 *
 * I_x(a, 1/2) is the one non-elementary piece.  It is the modified-Lentz continued fraction of
 * the regularized incomplete beta function, evaluated in long double, either for I_x(a, 1/2)
 * itself (the tail: p small) or for its complement I_{1−x}(1/2, a) (p large), whichever
 * converges well; x and 1 − x are formed from t²/nu so that neither loses digits.  The prefactor
 * x^a (1−x)^b / B(a, b) uses log Γ(a + 1/2) − log Γ(a) from the Stirling series for large a
 * (the difference of two lgamma values would lose digits there).  I_x(a, k/2) for integer k
 * follows from I_x(a, 1/2) or I_x(a, 1) = x^a by the recurrence in b, which adds positive terms.
 *
 * Tests (tests/test_gwas_tails.py) compare all three with scipy.special (and mpmath at high
 * precision) over degrees of freedom from 1 to 10^6 and p-values down to 1e-300.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* defines _GNU_SOURCE (lgamma_r) */
#include <math.h>
#include <string.h>

#define LOG_PI 1.1447298858494002
#define LOG_GAMMA_3_2 (-0.12078223763524522) /* log Γ(3/2) */
#define MAX_STEPS 20000

static double lgamma_pos(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}

/* Stirling-series remainder of log Γ(z): 1/(12z) − 1/(360z³) + 1/(1260z⁵) − 1/(1680z⁷). */
static double stirling_tail(double z)
{
    const double z2 = 1.0 / (z * z);
    return (1.0 / 12.0 - z2 * (1.0 / 360.0 - z2 * (1.0 / 1260.0 - z2 / 1680.0))) / z;
}

/* log Γ(a + 1/2) − log Γ(a) for a > 0, to about one unit in the last place. */
static double log_gamma_half_ratio(double a)
{
    if (a < 30.0)
        return lgamma_pos(a + 0.5) - lgamma_pos(a);
    return a * log1p(0.5 / a) + 0.5 * log(a) - 0.5 + (stirling_tail(a + 0.5) - stirling_tail(a));
}

/* The continued fraction of I_x(a, b) = x^a y^b / (a B(a, b)) · cf, y = 1 − x (modified Lentz), in the
 * floating type REAL.  Where x is close to 1 the fraction loses about log10(1/y) digits: long double
 * (beta_cf_long) keeps those cases near double precision, double (beta_cf) is quicker elsewhere. */
#define BETA_CF(NAME, REAL, FABS, EPS)                                                                   \
    static REAL NAME(REAL a, REAL b, REAL x, REAL y)                                                     \
    {                                                                                                    \
        const REAL qab = a + b, qap = a + 1, qam = a - 1, tiny = (REAL)1e-300;                           \
        REAL c = 1, d = x <= (REAL)0.5 ? 1 - qab * x / qap : ((1 - b) + qab * y) / qap; /* no cancellation */ \
        if (FABS(d) < tiny)                                                                              \
            d = tiny;                                                                                    \
        d = 1 / d;                                                                                       \
        REAL h = d;                                                                                      \
        for (int m = 1; m <= MAX_STEPS; m++) {                                                           \
            const REAL m2 = 2 * (REAL)m;                                                                 \
            REAL aa = m * (b - m) * x / ((qam + m2) * (a + m2));                                         \
            d = 1 + aa * d;                                                                              \
            d = FABS(d) < tiny ? tiny : d;                                                               \
            c = 1 + aa / c;                                                                              \
            c = FABS(c) < tiny ? tiny : c;                                                               \
            d = 1 / d;                                                                                   \
            h *= d * c;                                                                                  \
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));                                     \
            d = 1 + aa * d;                                                                              \
            d = FABS(d) < tiny ? tiny : d;                                                               \
            c = 1 + aa / c;                                                                              \
            c = FABS(c) < tiny ? tiny : c;                                                               \
            d = 1 / d;                                                                                   \
            const REAL step = d * c;                                                                     \
            h *= step;                                                                                   \
            if (FABS(step - 1) < EPS)                                                                    \
                break;                                                                                   \
        }                                                                                                \
        return h;                                                                                        \
    }
BETA_CF(beta_cf, double, fabs, 2.5e-16)
BETA_CF(beta_cf_long, long double, fabsl, 2e-19L)

/* I_x(a, 1/2) from r = (1 − x)/x > 0 (so x = 1/(1 + r), 1 − x = r/(1 + r)); log_norm = −log B(a, 1/2). */
static double beta_half(double a, double r, double log_norm)
{
    const double x = 1.0 / (1.0 + r), y = r / (1.0 + r);
    const double lnx = -log1p(r);
    if (a >= 10.0 && a * y < 3.3) {
        /* p ≥ 0.01: 1 − I_y(1/2, a), I_y(1/2, a) = 2 x^a y^½ / B(a, 1/2) · Σ_k (a+½)_k / (3/2)_k · y^k
         * (the power series converges in at most a few dozen terms here; most tests of a scan take this path) */
        double sum = 1.0, term = 1.0;
        for (int k = 0; k < 400; k++) {
            term *= (a + 0.5 + k) / (1.5 + k) * y;
            sum += term;
            if (term < 1e-17 * sum)
                break;
        }
        return 1.0 - 2.0 * exp(a * lnx + log_norm) * sqrt(y) * sum;
    }
    const double log_front = a * lnx + 0.5 * (log(r) + lnx) + log_norm; /* log(x^a y^½ / B(a, 1/2)) */
    if (x >= (a + 1.0) / (a + 2.5)) /* p large, a < 10: 1 − I_y(1/2, a) by the continued fraction */
        return 1.0 - exp(log_front) * beta_cf(0.5, a, y, x) / 0.5;
    /* the tail: p small */
    const double cf = y < 1e-3 ? (double)beta_cf_long(a, 0.5L, x, y) : beta_cf(a, 0.5, x, y);
    return exp(log_front + log(cf) - log(a));
}

static double t_two_sided(double t, double nu, double log_norm)
{
    if (isnan(t) || !(nu > 0.0))
        return NAN;
    if (isinf(t))
        return 0.0;
    if (isinf(nu)) /* the normal limit */
        return erfc(fabs(t) / 1.4142135623730951);
    const double r = t * t / nu;
    if (r == 0.0)
        return 1.0;
    if (isinf(r))
        return 0.0;
    return beta_half(0.5 * nu, r, log_norm);
}

/* −log B(a, 1/2) = log Γ(a + 1/2) − log Γ(a) − log Γ(1/2). */
static double log_norm_half(double a) { return log_gamma_half_ratio(a) - 0.5 * LOG_PI; }

/* P(χ²_d > x) for integer d ≥ 1. */
static double chi2_sf(double x, long d)
{
    if (isnan(x) || d < 1)
        return NAN;
    if (x <= 0.0)
        return 1.0;
    if (isinf(x))
        return 0.0;
    const long double z = 0.5L * x;
    long double sum = 0.0L, term;
    double base = 0.0;
    long k;
    if (d % 2 == 0) { /* e^{−z} Σ_{j<d/2} z^j / j! */
        term = 1.0L;
        k = d / 2;
        for (long j = 0; j < k; j++) {
            sum += term;
            term *= z / (j + 1);
        }
    } else { /* erfc(√z) + e^{−z} Σ_{j<(d−1)/2} z^{j+½} / Γ(j + 3/2) */
        base = erfc(sqrt(0.5 * x));
        term = 2.0L * sqrtl(z / 3.14159265358979323846264338327950288L);
        k = (d - 1) / 2;
        for (long j = 0; j < k; j++) {
            sum += term;
            term *= z / (j + 1.5L);
        }
    }
    if (sum == 0.0L || isinf(sum)) /* the sum overflows only where e^{−z} has long underflowed */
        return base;
    return base + exp(-(double)z + (double)logl(sum));
}

/* P(F_{d1,d2} > f) for integer d1 ≥ 1 and d2 > 0: I_x(d2/2, d1/2), x = d2 / (d2 + d1 f). */
static double f_sf(double f, long d1, double d2)
{
    if (isnan(f) || d1 < 1 || !(d2 > 0.0))
        return NAN;
    if (f <= 0.0)
        return 1.0;
    if (isinf(f))
        return 0.0;
    const double r = d1 * f / d2, a = 0.5 * d2;
    if (isinf(r))
        return 0.0;
    const double lnx = -log1p(r), lny = log(r) + lnx, y = r / (1.0 + r);
    long double sum = 0.0L, term = 1.0L;
    double base, log_first;
    long k;
    if (d1 % 2 == 0) { /* I_x(a, 1) = x^a, then + x^a (a)_j y^j / j! */
        base = 0.0;
        log_first = a * lnx;
        k = d1 / 2;
        for (long j = 0; j < k; j++) {
            sum += term;
            term *= (a + j) / (j + 1.0L) * y;
        }
    } else { /* I_x(a, 1/2), then + x^a y^{½+j} Γ(a+½+j) / (Γ(a) Γ(3/2+j)) */
        base = beta_half(a, r, log_norm_half(a));
        log_first = a * lnx + 0.5 * lny + log_gamma_half_ratio(a) - LOG_GAMMA_3_2;
        k = (d1 - 1) / 2;
        for (long j = 0; j < k; j++) {
            sum += term;
            term *= (a + 0.5L + j) / (1.5L + j) * y;
        }
    }
    if (sum == 0.0L)
        return base;
    return base + exp(log_first + (double)logl(sum));
}

/* ---------------------------------------------------------------------------------------------- */

typedef struct {
    Py_buffer view;
    int held;
} buffer_t;

static int get_doubles(PyObject *obj, buffer_t *b, int writable, Py_ssize_t n, const char *name)
{
    if (PyObject_GetBuffer(obj, &b->view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    b->held = 1;
    if (b->view.itemsize != 8 || !b->view.format || b->view.format[strspn(b->view.format, "@=<")] != 'd') {
        PyErr_Format(PyExc_TypeError, "%s must be contiguous float64", name);
        return -1;
    }
    if (n >= 0 && b->view.len / 8 != n) {
        PyErr_Format(PyExc_ValueError, "%s has %zd values, expected %zd", name, b->view.len / 8, n);
        return -1;
    }
    return 0;
}

static void release(buffer_t *b, int count)
{
    for (int i = 0; i < count; i++)
        if (b[i].held)
            PyBuffer_Release(&b[i].view);
}

/* out[i] = fn(x[i], second[i]) over contiguous float64 arrays of the same length. */
static PyObject *map2(PyObject *args, int kind)
{
    PyObject *xo, *so, *oo;
    long d = 0;
    if (kind == 2) {
        if (!PyArg_ParseTuple(args, "OlOO", &xo, &d, &so, &oo))
            return NULL;
    } else if (kind == 1) {
        if (!PyArg_ParseTuple(args, "OlO", &xo, &d, &oo))
            return NULL;
        so = NULL;
    } else if (!PyArg_ParseTuple(args, "OOO", &xo, &so, &oo))
        return NULL;
    buffer_t b[3] = {{.held = 0}, {.held = 0}, {.held = 0}};
    PyObject *result = NULL;
    if (get_doubles(xo, &b[0], 0, -1, "x") < 0)
        goto done;
    const Py_ssize_t n = b[0].view.len / 8;
    if (so && get_doubles(so, &b[1], 0, n, "the degrees of freedom") < 0)
        goto done;
    if (get_doubles(oo, &b[2], 1, n, "out") < 0)
        goto done;
    const double *x = b[0].view.buf, *s = so ? b[1].view.buf : NULL;
    double *out = b[2].view.buf;
    Py_BEGIN_ALLOW_THREADS
    double last_nu = NAN, log_norm = NAN; /* −log B(nu/2, 1/2), kept while nu repeats */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (kind == 0) {
            if (s[i] != last_nu && s[i] > 0.0 && isfinite(s[i])) {
                last_nu = s[i];
                log_norm = log_norm_half(0.5 * last_nu);
            }
            out[i] = t_two_sided(x[i], s[i], log_norm);
        } else
            out[i] = kind == 1 ? chi2_sf(x[i], d) : f_sf(x[i], d, s[i]);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    release(b, 3);
    return result;
}

static PyObject *py_t_two_sided(PyObject *self, PyObject *args) { return map2(args, 0); }
static PyObject *py_chi2_sf(PyObject *self, PyObject *args) { return map2(args, 1); }
static PyObject *py_f_sf(PyObject *self, PyObject *args) { return map2(args, 2); }

static PyMethodDef methods[] = {
    {"t_two_sided", py_t_two_sided, METH_VARARGS, "t_two_sided(t, nu, out): out = 2·P(T_nu > |t|)."},
    {"chi2_sf", py_chi2_sf, METH_VARARGS, "chi2_sf(x, d, out): out = P(χ²_d > x), integer d."},
    {"f_sf", py_f_sf, METH_VARARGS, "f_sf(f, d1, d2, out): out = P(F_{d1,d2} > f), integer d1."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_tails", "Upper tails of t, χ² and F.", -1, methods};

PyMODINIT_FUNC PyInit__tails(void) { return PyModule_Create(&module); }
