"""The compared embedders of paper 003 and the GEMCONT ablations, as settings of one backbone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from alignome.imaging.augment2d import Augment2D
from alignome.training.image_embedders import EmbedderSettings

#: Method name → (embedder kind, settings changed from the recipe's).
METHODS: dict[str, tuple[str, dict]] = {
    "gemcont": ("clip", {}),
    "simclr": ("simclr", {}),
    "vae": ("vae", {}),
    "supervised": ("supervised", {}),
    "pixels-pca": ("pixels-pca", {}),  # the linear baseline: PCA of the raw pixels, fitted on training images
    "gemcont-random-init": ("clip", {"projector_init": "random"}),
    "gemcont-no-scarf": ("clip", {"scarf_p": 0.0}),
    "gemcont-fixed-tau": ("clip", {"learnable_temperature": False}),
    "prs": ("clip", {}),  # spirometry study: the panel's PRS as the projector's only input
}
#: The row of simulated data that reads the truth itself (the rotation angle, the airway trait): no training.
ORACLE = "oracle"
#: The methods of paper 003's Fig. 2, in its order, then the linear baseline and the oracle; ablations follow.
FIGURE_METHODS = ("gemcont", "simclr", "vae", "supervised", "pixels-pca", ORACLE)


def method_settings(base: EmbedderSettings, method: str, seed: int) -> EmbedderSettings:
    """``base`` turned into ``method``'s settings, seeded with ``seed``."""
    kind, changes = METHODS[method]
    return replace(base, kind=kind, seed=seed, **changes)


def base_settings(recipe: Any) -> EmbedderSettings:
    """The recipe's shared backbone and optimiser as :class:`EmbedderSettings` (kind and seed set per unit)."""
    m = recipe.method
    return EmbedderSettings(
        widths=tuple(m.widths), pool_size=m.pool_size, embedding_dim=m.embedding_dim, epochs=m.epochs,
        batch_size=m.batch_size, lr=m.lr, weight_decay=m.weight_decay, warmup_epochs=m.warmup_epochs,
        temperature=m.temperature, learnable_temperature=m.learnable_temperature, form=m.contrastive_form,
        scarf_p=m.scarf_p, projector_init=m.projector_init, augment=Augment2D(kind=m.augment, erase_p=m.erase_p),
        val_fraction=m.supervised_val_fraction, patience=m.supervised_patience,
        backbone_checkpoint=None if m.backbone_checkpoint is None else str(m.backbone_checkpoint),
    )
