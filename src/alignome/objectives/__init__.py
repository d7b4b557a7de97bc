"""Training objectives: contrastive (InfoNCE/CLIP, decoupled or standard) and reconstruction.

The contrastive temperature a model learns is ``alignome.models.temperature``.

Losses take model outputs (tensors or the dict a model's ``forward`` returns)
and return a dict of named loss terms; they know nothing of models.
"""

from alignome.objectives.contrastive import ContrastiveForm, contrastive_loss
from alignome.objectives.paired import PairedContrastiveReconstructionLoss
from alignome.objectives.reconstruction import reconstruction_loss

__all__ = [
    "ContrastiveForm",
    "PairedContrastiveReconstructionLoss",
    "contrastive_loss",
    "reconstruction_loss",
]
