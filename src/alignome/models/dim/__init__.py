"""Multimodal Deep InfoMax networks of paper 001: DCGAN 3D encoder/decoder, projection heads, the two-modality model."""

from alignome.models.dim.dcgan3d import DCGANDecoder3D, DCGANEncoder3D, EncoderOutput
from alignome.models.dim.heads import ConvProjection
from alignome.models.dim.multimodal import MultimodalDIM, ModalityOutput

__all__ = ["ConvProjection", "DCGANDecoder3D", "DCGANEncoder3D", "EncoderOutput", "ModalityOutput", "MultimodalDIM"]
