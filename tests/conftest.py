"""Shared test settings: one torch thread (the suite runs on 2 busy cores)."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(params=["kernel", "numpy"])
def bed_backend(request, monkeypatch):
    """Run a test with the C kernel on .bed bytes (scores, clumping, QC counts, text columns) and again with the
    NumPy fallbacks."""
    from alignome.genetics import qc_counts, qc_reports, qc_stats, score
    from alignome.io import fields

    if request.param == "kernel":
        if fields.bed_kernel() is None:
            pytest.skip("the C kernel alignome.genetics._bedscore is not built")
    else:
        for module in (fields, qc_counts, qc_stats, qc_reports, score):
            monkeypatch.setattr(module, "bed_kernel", lambda: None)
    return request.param
