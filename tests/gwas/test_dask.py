"""The Dask backend gives exactly the in-process results (local dask.distributed cluster, loopback)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alignome.gwas.run import run_gwas
from alignome.simulate.genotypes import simulate_genotypes, write_plink

distributed = pytest.importorskip("distributed")

N = 300


@pytest.fixture(scope="module")
def fileset(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gwasdask")
    geno = simulate_genotypes(N, 5, n_snps=200, segments=((1, 1_000_000), (2, 1_000_000)),
                              segment_length_bp=1_000_000)
    iids = [f"id{i}" for i in range(N)]
    write_plink(tmp / "g", geno, iids, np.ones(N, dtype=int))
    rng = np.random.default_rng(2)
    pheno = pd.DataFrame(rng.normal(size=(N, 3)), columns=["A", "B", "C"], index=pd.Index(iids, name="IID"))
    pheno.iloc[:7, 1] = np.nan
    covar = pd.DataFrame({"AGE": rng.normal(size=N)}, index=pd.Index(iids, name="IID"))
    return tmp, pheno, covar


def test_local_cluster_identical(fileset):
    tmp, pheno, covar = fileset
    kw = dict(block_size=37, genetic_pcs=2)
    local = {mode: run_gwas(tmp / "g", pheno, covar, mode=mode, **kw) for mode in ("multi", "single")}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        for mode in ("multi", "single"):
            remote = run_gwas(tmp / "g", pheno, covar, mode=mode, scheduler=client, **kw)
            pd.testing.assert_frame_equal(remote, local[mode], check_exact=True)
            np.testing.assert_array_equal(remote.attrs["genetic_pcs"].scores.to_numpy(),
                                          local[mode].attrs["genetic_pcs"].scores.to_numpy())
        # by address, as the CLI passes it
        by_address = run_gwas(tmp / "g", pheno, covar, scheduler=cluster.scheduler_address, block_size=37)
        pd.testing.assert_frame_equal(by_address, run_gwas(tmp / "g", pheno, covar, block_size=37), check_exact=True)


def test_local_dask_schedulers_identical(fileset):
    tmp, pheno, covar = fileset
    ref = run_gwas(tmp / "g", pheno, covar, block_size=50)
    for scheduler in ("threads", "synchronous"):
        pd.testing.assert_frame_equal(run_gwas(tmp / "g", pheno, covar, block_size=50, scheduler=scheduler), ref,
                                      check_exact=True)


def test_cluster_holds_a_bounded_window_of_blocks(fileset):
    """At most `in_flight` blocks are submitted and not yet gathered; results stay in block order."""
    from alignome.gwas import blocks

    tmp, _, _ = fileset
    bed = str(tmp / "g.bed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        seen = []
        for start, _stop in blocks.map_blocks(_block_start, bed, None, 200, 10, scheduler=client, in_flight=3):
            seen.append((start, len(client.who_has())))  # futures the client still tracks
        assert [s for s, _ in seen] == list(range(0, 200, 10))
        assert max(n for _, n in seen) <= 3 + 1  # + the scattered shared inputs; unbounded: 21


def _block_start(genotypes, start, stop):
    return start, stop
