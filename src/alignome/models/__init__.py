"""Neural network modules: MLP blocks, the SNP/volume encoder-decoder, gated fusion."""

from alignome.models.fusion import GatedFusionNet
from alignome.models.mlp import MLP
from alignome.models.snp_volume import SnpVolumeModel

__all__ = ["MLP", "GatedFusionNet", "SnpVolumeModel"]
