"""The compared embedders of paper 003 and the GEMCONT ablations, as settings of one backbone."""

from __future__ import annotations

from dataclasses import replace

from alignome.training.image_embedders import EmbedderSettings

#: Method name → (embedder kind, settings changed from the recipe's).
METHODS: dict[str, tuple[str, dict]] = {
    "gemcont": ("clip", {}),
    "simclr": ("simclr", {}),
    "vae": ("vae", {}),
    "supervised": ("supervised", {}),
    "gemcont-random-init": ("clip", {"projector_init": "random"}),
    "gemcont-no-scarf": ("clip", {"scarf_p": 0.0}),
    "gemcont-fixed-tau": ("clip", {"learnable_temperature": False}),
}
#: The methods of paper 003's Fig. 2, in its order; ablations follow.
FIGURE_METHODS = ("gemcont", "simclr", "vae", "supervised")


def method_settings(base: EmbedderSettings, method: str, seed: int) -> EmbedderSettings:
    """``base`` turned into ``method``'s settings, seeded with ``seed``."""
    kind, changes = METHODS[method]
    return replace(base, kind=kind, seed=seed, **changes)
