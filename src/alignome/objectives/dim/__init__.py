"""Objectives of the multimodal Deep InfoMax zoo (paper 001): InfoNCE constructions, CCA, MMVAE, reconstruction."""

from alignome.objectives.dim.cca import cca_correlations, cca_loss
from alignome.objectives.dim.critic import InfoNCEBound, infonce_bound, tanh_clip
from alignome.objectives.dim.mmvae import mmvae_iwae_bound
from alignome.objectives.dim.zoo import COMPONENTS, DIMObjective, Needs, parse_objective

__all__ = [
    "COMPONENTS", "DIMObjective", "InfoNCEBound", "Needs", "cca_correlations", "cca_loss", "infonce_bound",
    "mmvae_iwae_bound", "parse_objective", "tanh_clip",
]
