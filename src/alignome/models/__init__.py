"""Neural network modules: MLP blocks, the SNP/volume encoder-decoder, gated fusion, 3D CNN encoders."""

from alignome.models.cnn3d import CNN3DEncoder, ContrastiveEncoder3D
from alignome.models.fusion import GatedFusionNet
from alignome.models.mlp import MLP
from alignome.models.snp_volume import SnpVolumeModel

__all__ = ["CNN3DEncoder", "ContrastiveEncoder3D", "MLP", "GatedFusionNet", "SnpVolumeModel"]
