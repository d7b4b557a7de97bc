"""Neural network modules: MLP blocks, the SNP/volume encoder-decoder, gated fusion, 3D CNN encoders, Ko et al.'s VAE+GAN."""

from alignome.models.cnn3d import CNN3DEncoder, ContrastiveEncoder3D
from alignome.models.fusion import GatedFusionNet
from alignome.models.mlp import MLP
from alignome.models.snp_volume import SnpVolumeModel
from alignome.models.vae_gan import VaeGanNet

__all__ = ["CNN3DEncoder", "ContrastiveEncoder3D", "MLP", "GatedFusionNet", "SnpVolumeModel", "VaeGanNet"]
