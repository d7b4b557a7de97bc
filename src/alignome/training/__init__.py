"""Training loops.

Paper 000's pretrainer and fusion classifier fit tiny MLPs hundreds of times in
nested cross-validation, so they are plain-PyTorch, scikit-learn-style estimators
(no Lightning). The 3D encoders of paper 004 train with Lightning
(:mod:`alignome.training.contrastive3d`, :mod:`alignome.training.supervised3d`) for
atomic checkpoints, resume, mixed precision and DDP. Neither sets the number of
torch threads: the caller decides (``torch.set_num_threads``).
"""

from alignome.training.classifier import FusionClassifier
from alignome.training.holdout import group_holdout, stratified_holdout
from alignome.training.pretrain import ContrastivePretrainer
from alignome.training.vae_gan import VaeGanClassifier

__all__ = ["ContrastivePretrainer", "FusionClassifier", "VaeGanClassifier", "group_holdout", "stratified_holdout"]
