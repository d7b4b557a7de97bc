"""The 3D training step reads nothing back from the training device (no host-device sync on a GPU).

On the CPU a GPU stall cannot be observed, so these tests run the step's pieces on
PyTorch's ``meta`` device: it has shapes and dtypes but no data, so any read of a
value on the host (``float(t)``, ``bool(t.any())``, ``t.cpu()``, boolean indexing,
``nonzero``) raises there, where on a GPU it would wait for the queued kernels.
benchmarks/gpu_sync_check.py counts the remaining syncs on a real GPU.
"""

from __future__ import annotations

import pytest
import torch

from alignome.imaging.augment import AugmentSettings, augment_batch, host_to_device
from alignome.objectives.contrastive import contrastive_loss
from alignome.training.lightning_runs import EpochRecorder
from alignome.training.supervised3d import IGNORE, supervised_loss

META = torch.device("meta")


def test_contrastive_loss_reads_no_device_value():
    z = torch.randn(4, 8, device=META)
    for kwargs in ({"logit_scale": torch.tensor(14.0, device=META)}, {"temperature": torch.tensor(0.07, device=META)}):
        out = contrastive_loss(z, z, form="standard", **kwargs)
        assert out["loss"].device == META and out["loss"].shape == ()


def test_contrastive_loss_still_checks_cpu_tensors():
    z = torch.randn(4, 8)
    with pytest.raises(ValueError, match="positive"):
        contrastive_loss(z, z, logit_scale=torch.tensor(-1.0))
    with pytest.raises(ValueError, match="scalar"):
        contrastive_loss(z, z, logit_scale=torch.ones(2, device=META))


@pytest.mark.parametrize("affine_p", [1.0, 0.5, 0.0])
def test_augment_batch_reads_no_device_value(affine_p):
    x = torch.randn(6, 1, 8, 8, 8, device=META)
    settings = AugmentSettings(affine_p=affine_p, flip_p=0.5, flip_axes=(0, 1))
    out = augment_batch(x, settings, torch.Generator().manual_seed(3))
    assert out.device == META and out.shape == x.shape and out.dtype == x.dtype


def test_host_to_device_keeps_values_and_devices():
    t = torch.arange(5)
    assert host_to_device(t, torch.device("cpu")) is t
    assert host_to_device(t, META).device == META


def test_supervised_training_loss_reads_no_device_value():
    out = {"diagnosis_logits": torch.randn(5, 3, device=META), "age": torch.randn(5, device=META)}
    codes = torch.zeros(5, dtype=torch.long, device=META)
    loss, parts = supervised_loss(out, codes, torch.randn(5, device=META), with_parts=False)
    assert loss.device == META and loss.shape == () and parts == {}


def test_supervised_loss_without_labels_is_zero_with_no_parts():
    out = {"diagnosis_logits": torch.randn(3, 2, requires_grad=True), "age": torch.randn(3, requires_grad=True)}
    loss, parts = supervised_loss(out, torch.full((3,), IGNORE), torch.full((3,), float("nan")))
    assert float(loss.detach()) == 0.0 and parts == {}
    loss.backward()
    assert torch.all(out["diagnosis_logits"].grad == 0) and torch.all(out["age"].grad == 0)


def test_supervised_loss_parts_count_only_labelled_rows():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [5.0, -5.0], [0.0, 3.0]])
    out = {"diagnosis_logits": logits, "age": torch.tensor([0.5, 0.0, 9.0, 1.0])}
    codes = torch.tensor([0, 0, IGNORE, 1])
    loss, parts = supervised_loss(out, codes, torch.tensor([0.0, float("nan"), float("nan"), 0.0]))
    assert parts["n_dx"] == 3 and parts["correct"] == 2
    assert parts["mse"] == pytest.approx((0.25 + 1.0) / 2)
    assert float(loss) == pytest.approx(parts["ce"] + parts["mse"])


def test_batches_keep_scan_rows_on_the_host(tmp_path):
    module = EpochRecorder(tmp_path)
    batch = {"xa": torch.randn(2, 1, 4, 4, 4), "xb": torch.randn(2, 1, 4, 4, 4),
             "rows_a": torch.tensor([3, 5]), "rows_b": torch.tensor([4, 6])}
    moved = module.transfer_batch_to_device(batch, META, 0)
    assert moved["xa"].device == META and moved["xb"].device == META
    assert moved["rows_a"].device.type == "cpu" and torch.equal(moved["rows_b"], batch["rows_b"])


def test_epoch_loss_is_summed_on_the_device(tmp_path):
    module = EpochRecorder(tmp_path)
    module._add_train_loss(torch.tensor(2.0), 3)
    module._add_train_loss(torch.tensor(1.0), 1)
    assert isinstance(module._train_loss_sum, torch.Tensor) and module._train_count == 4
    assert float(module._train_loss_sum) / module._train_count == pytest.approx(7.0 / 4)
