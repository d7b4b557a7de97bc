"""Plain-PyTorch, scikit-learn-style estimators for pretraining and fusion classification.

These fit tiny MLPs hundreds of times in nested cross-validation, so they use
plain training loops (no Lightning) and never set the number of torch threads:
the caller decides (``torch.set_num_threads``).
"""

from alignome.training.classifier import FusionClassifier
from alignome.training.holdout import group_holdout, stratified_holdout
from alignome.training.pretrain import ContrastivePretrainer

__all__ = ["ContrastivePretrainer", "FusionClassifier", "group_holdout", "stratified_holdout"]
