"""Hold BLAS to one thread around work made of many small matrix products."""

from __future__ import annotations

from threadpoolctl import threadpool_limits


def one_blas_thread() -> threadpool_limits:
    """A context holding BLAS to one thread.

    Small products (a probe's fit, a GWAS block's thin matrices) gain little from BLAS threads, and on
    busy cores their spin-waiting slows each call down many times over.
    """
    return threadpool_limits(limits=1, user_api="blas")
