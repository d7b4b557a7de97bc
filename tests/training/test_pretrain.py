"""Tests of the pretraining and fusion-classifier estimators."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from alignome.recipes.ad_gated_fusion.schema import ClassifierConfig
from alignome.training.pretrain import PretrainSettings
from alignome.errors import DataError
from alignome.objectives import PairedContrastiveReconstructionLoss
from alignome.training import ContrastivePretrainer, FusionClassifier, group_holdout, stratified_holdout


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> object:
    """Tiny models: one intra-op thread is fastest and immune to CPU contention."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _cohort(n_sub: int, seed: int) -> dict[str, np.ndarray]:
    """Scans whose SNPs and volumes share a latent factor per subject."""
    rng = np.random.default_rng(seed)
    k, p, r = 4, 40, 12
    mix = np.random.default_rng(123)  # the same generative maps for every cohort
    w_s, w_v = mix.normal(size=(k, p)), mix.normal(size=(k, r))
    u = rng.normal(size=(n_sub, k))
    visits = rng.integers(2, 4, n_sub)
    groups = np.repeat(np.arange(n_sub) + 1000 * seed, visits)
    sub = np.repeat(np.arange(n_sub), visits)
    age = rng.normal(size=len(sub)).astype(np.float32)
    snps = (u @ w_s + 0.5 * rng.normal(size=(n_sub, p)))[sub].astype(np.float32)
    vols = (u[sub] @ w_v + 0.3 * age[:, None] + 0.5 * rng.normal(size=(len(sub), r))).astype(np.float32)
    return {"snps": snps, "age": age, "volumes": vols, "groups": groups}


def _cfg(**pretrain: object) -> PretrainSettings:
    pcfg = {"epochs": 40, "batch_size": 64, "lr": 3e-3, "weight_decay": 1e-4, "patience": 8, "val_fraction": 0.2,
            "stop_on": "total", "same_subject_negatives": True, "contrastive_weight": 1.0, "temperature": 0.1,
            **pretrain}
    return PretrainSettings(embedding_dim=8, hidden=(32,), dropout=0.0, contrastive_form="decoupled",
                            reconstruction_weight=1.0, age_conditioning=True, **pcfg)


@pytest.fixture(scope="module")
def train_data() -> dict[str, np.ndarray]:
    return _cohort(150, seed=0)


@pytest.fixture(scope="module")
def test_data() -> dict[str, np.ndarray]:
    data = _cohort(40, seed=1)
    first = np.unique(data["groups"], return_index=True)[1]  # one scan per subject
    return {k: v[first] for k, v in data.items()}


@pytest.fixture(scope="module")
def fitted(train_data: dict[str, np.ndarray]) -> ContrastivePretrainer:
    return ContrastivePretrainer(_cfg(), seed=0).fit(**train_data)


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


# ----------------------------------------------------------------------------- holdouts


def test_group_holdout_never_splits_a_group() -> None:
    groups = np.repeat(np.arange(30), np.arange(30) % 4 + 1)
    tr, va = group_holdout(groups, 0.2, seed=5)
    assert len(np.intersect1d(tr, va)) == 0 and len(tr) + len(va) == len(groups)
    assert not set(groups[tr]) & set(groups[va])
    assert len(np.unique(groups[va])) == 6
    assert len(group_holdout(groups, 0.0, 0)[1]) == 0
    assert len(group_holdout(np.zeros(5), 0.5, 0)[1]) == 0  # one group: nothing held out


def test_stratified_holdout_keeps_class_proportions() -> None:
    y = np.array([0] * 60 + [1] * 30 + [2] * 10 + [3])
    tr, va = stratified_holdout(y, 0.2, seed=0)
    assert np.bincount(y[va], minlength=4).tolist() == [12, 6, 2, 0]
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(len(y)))


# ----------------------------------------------------------------------------- pretraining


def test_pretraining_aligns_held_out_pairs(fitted: ContrastivePretrainer, test_data: dict[str, np.ndarray]) -> None:
    z_s, z_v = fitted.transform(test_data["snps"], test_data["age"], test_data["volumes"])
    assert z_s.shape == z_v.shape == (40, 8)
    sim = _cosine(z_s, z_v)
    matched = np.diag(sim).mean()
    mismatched = sim[~np.eye(40, dtype=bool)].mean()
    top1 = np.mean(sim.argmax(axis=1) == np.arange(40))
    assert matched > mismatched + 0.4
    assert top1 > 0.3  # chance is 1/40
    assert fitted.contrastive_form_ == "decoupled"


def test_history_and_best_weights_restored(fitted: ContrastivePretrainer, train_data: dict[str, np.ndarray]) -> None:
    hist = fitted.history_
    assert [h["epoch"] for h in hist] == list(range(1, len(hist) + 1))
    for h in hist:
        assert {"epoch", "train_loss", "val_loss", "train_contrastive", "train_reconstruction"} <= set(h)
        assert h["train_loss"] == pytest.approx(h["train_contrastive"] + h["train_reconstruction"], rel=1e-5)
    val_losses = [h["val_loss"] for h in hist]
    assert fitted.best_epoch_ == int(np.argmin(val_losses)) + 1
    # the restored weights reproduce the best validation loss
    val = np.isin(train_data["groups"], fitted.val_groups_)
    cfg = fitted.settings
    loss_fn = PairedContrastiveReconstructionLoss(cfg.temperature, cfg.contrastive_form, 1.0, 1.0)
    t = {k: torch.from_numpy(v[val]) for k, v in train_data.items() if k != "groups"}
    with torch.no_grad():
        loss = loss_fn(fitted.model_(t["snps"], t["age"], t["volumes"]), t["snps"], t["volumes"])["loss"]
    assert loss.item() == pytest.approx(min(val_losses), rel=1e-5)


def test_validation_split_is_subject_wise(fitted: ContrastivePretrainer, train_data: dict[str, np.ndarray]) -> None:
    all_groups = set(np.unique(train_data["groups"]).tolist())
    val, train = set(fitted.val_groups_.tolist()), set(fitted.train_groups_.tolist())
    assert val and train and not val & train
    assert val | train == all_groups
    assert len(val) == round(0.2 * len(all_groups))


def test_same_seed_same_embeddings(train_data: dict[str, np.ndarray], test_data: dict[str, np.ndarray]) -> None:
    cfg = _cfg(epochs=4)
    args = (test_data["snps"], test_data["age"], test_data["volumes"])
    a = ContrastivePretrainer(cfg, seed=7).fit(**train_data).transform(*args)
    b = ContrastivePretrainer(cfg, seed=7).fit(**train_data).transform(*args)
    c = ContrastivePretrainer(cfg, seed=8).fit(**train_data).transform(*args)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_only_reconstruction_has_no_contrastive_contribution(train_data: dict[str, np.ndarray]) -> None:
    est = ContrastivePretrainer(_cfg(epochs=3), seed=0, contrastive_weight=0.0).fit(**train_data)
    for h in est.history_:
        assert h["train_contrastive"] == 0.0
        assert h["train_loss"] == pytest.approx(h["train_reconstruction"])
    only_cont = ContrastivePretrainer(_cfg(epochs=3), seed=0, reconstruction_weight=0.0).fit(**train_data)
    assert all(h["train_reconstruction"] == 0.0 for h in only_cont.history_)


def test_no_age_variant_ignores_age(train_data: dict[str, np.ndarray], test_data: dict[str, np.ndarray]) -> None:
    est = ContrastivePretrainer(_cfg(epochs=3), seed=0, age_conditioning=False).fit(**train_data)
    assert not est.model_.age_conditioning
    z1, _ = est.transform(test_data["snps"], test_data["age"], test_data["volumes"])
    z2, _ = est.transform(test_data["snps"], None, test_data["volumes"])
    assert np.array_equal(z1, z2)
    aged = ContrastivePretrainer(_cfg(epochs=3), seed=0).fit(**train_data)
    z3, _ = aged.transform(test_data["snps"], test_data["age"], test_data["volumes"])
    z4, _ = aged.transform(test_data["snps"], test_data["age"] + 1.0, test_data["volumes"])
    assert not np.allclose(z3, z4)


def test_pretrainer_rejects_nan(train_data: dict[str, np.ndarray]) -> None:
    snps = train_data["snps"].copy()
    snps[0, 0] = np.nan
    with pytest.raises(DataError):
        ContrastivePretrainer(_cfg(epochs=1), seed=0).fit(snps, train_data["age"], train_data["volumes"], train_data["groups"])


# ----------------------------------------------------------------------------- classifier


def _clf_data(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    z_mri = rng.normal(size=(n, 8)).astype(np.float32)
    z_snp = rng.normal(size=(n, 8)).astype(np.float32)
    score = z_mri[:, 0] + z_mri[:, 1]
    y = (score > 0).astype(int)
    mmse = 1.0 / (1.0 + np.exp(score))
    demo = np.column_stack([rng.integers(0, 2, n), rng.normal(16, 3, n)]).astype(np.float32)
    return {"z_snp": z_snp, "z_mri": z_mri, "demographics": demo, "y": y, "mmse01": mmse}


def test_classifier_learns_separable_problem() -> None:
    tr, te = _clf_data(400, 0), _clf_data(200, 1)
    clf = FusionClassifier(n_classes=2, seed=0).fit(**tr)
    args = (te["z_snp"], te["z_mri"], te["demographics"])
    proba = clf.predict_proba(*args)
    assert proba.shape == (200, 2) and np.allclose(proba.sum(1), 1.0)
    assert roc_auc_score(te["y"], proba[:, 1]) > 0.9
    mmse = clf.predict_mmse(*args)
    assert ((mmse >= 0) & (mmse <= 1)).all()
    assert np.corrcoef(mmse, te["mmse01"])[0, 1] > 0.7
    alpha = clf.gate_weights(*args)
    assert alpha.shape == (200, 2) and np.allclose(alpha.sum(1), 1.0)
    assert clf.predict(*args).shape == (200,)


def test_classifier_nan_mmse_and_missing_modality() -> None:
    tr = _clf_data(200, 2)
    tr["mmse01"][::2] = np.nan
    tr["z_snp"][:20] = np.nan  # 20 subjects without genotypes
    clf = FusionClassifier(n_classes=2, epochs=40, seed=0).fit(**tr)
    assert all(np.isfinite(h["train_loss"]) and np.isfinite(h["val_loss"]) for h in clf.history_)
    proba = clf.predict_proba(tr["z_snp"], tr["z_mri"], tr["demographics"])
    assert np.isfinite(proba).all()
    alpha = clf.gate_weights(tr["z_snp"], tr["z_mri"], tr["demographics"])
    assert np.all(alpha[:20] == [0.0, 1.0])
    # all-NaN MMSE: the MMSE term is simply absent
    tr["mmse01"][:] = np.nan
    clf2 = FusionClassifier(n_classes=2, epochs=10, seed=0).fit(**tr)
    assert all(np.isfinite(h["train_loss"]) for h in clf2.history_)


def test_classifier_single_modality_and_three_classes() -> None:
    d = _clf_data(150, 3)
    y3 = np.digitize(d["z_mri"][:, 0], [-0.5, 0.5])
    clf = FusionClassifier(n_classes=3, modalities=("snp",), epochs=20, seed=0)
    clf.fit(d["z_snp"], d["z_mri"], d["demographics"], y3, d["mmse01"])
    assert np.all(clf.gate_weights(d["z_snp"], d["z_mri"], d["demographics"]) == [1.0, 0.0])
    assert clf.predict_proba(d["z_snp"], d["z_mri"], d["demographics"]).shape == (150, 3)
    with pytest.raises(DataError):
        FusionClassifier(n_classes=2).fit(d["z_snp"], d["z_mri"], d["demographics"], y3)


def test_classifier_deterministic_and_sklearn_compatible() -> None:
    d = _clf_data(120, 4)
    a = FusionClassifier(2, epochs=15, seed=3).fit(**d).predict_proba(d["z_snp"], d["z_mri"], d["demographics"])
    b = FusionClassifier(2, epochs=15, seed=3).fit(**d).predict_proba(d["z_snp"], d["z_mri"], d["demographics"])
    assert np.array_equal(a, b)
    clf = FusionClassifier(2, hidden=16, modalities=("mri",))
    params = clone(clf).get_params()
    assert params["hidden"] == 16 and tuple(params["modalities"]) == ("mri",)
    from_cfg = FusionClassifier.from_settings(ClassifierConfig(hidden=64).model_dump(), n_classes=3, seed=5)
    assert from_cfg.hidden == 64 and from_cfg.seed == 5 and from_cfg.n_classes == 3


@pytest.mark.parametrize("stop_on, column", [("total", "val_loss"), ("reconstruction", "val_reconstruction")])
def test_early_stopping_restores_the_epoch_best_on_the_monitored_loss(
    train_data: dict[str, np.ndarray], stop_on: str, column: str
) -> None:
    pre = ContrastivePretrainer(_cfg(epochs=30, patience=30, stop_on=stop_on), seed=2).fit(**train_data)
    curve = np.array([h[column] for h in pre.history_])
    assert pre.stopped_on_ == stop_on
    assert pre.best_epoch_ == int(np.argmin(curve)) + 1
    assert pre.best_loss_ == pytest.approx(curve.min())


def test_reconstruction_stop_rule_falls_back_to_total_without_reconstruction(train_data: dict[str, np.ndarray]) -> None:
    pre = ContrastivePretrainer(_cfg(epochs=5, stop_on="reconstruction"), seed=0, reconstruction_weight=0.0).fit(**train_data)
    assert pre.stopped_on_ == "total"
    assert pre.best_epoch_ == int(np.argmin([h["val_loss"] for h in pre.history_])) + 1


def test_same_subject_negatives_option_changes_training(train_data: dict[str, np.ndarray]) -> None:
    kept = ContrastivePretrainer(_cfg(epochs=3, same_subject_negatives=True), seed=0).fit(**train_data)
    left_out = ContrastivePretrainer(_cfg(epochs=3, same_subject_negatives=False), seed=0).fit(**train_data)
    # identical first-epoch reconstruction inputs, different contrastive denominators
    assert kept.history_[0]["train_contrastive"] != left_out.history_[0]["train_contrastive"]


def test_unknown_stop_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="stop_on"):
        _cfg(stop_on="alignment")
