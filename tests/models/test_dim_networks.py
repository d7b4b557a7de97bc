"""The DCGAN encoder exposes its side-8 layer, the heads project per location, the decoder mirrors the encoder."""

import pytest
import torch

from alignome.models.dim import ConvProjection, MultimodalDIM
from alignome.models.dim.dcgan3d import DCGANEncoder3D


@pytest.mark.parametrize("size", [32, 64])
def test_encoder_features_have_side_8_and_decoder_returns_the_input_shape(size):
    torch.manual_seed(0)
    model = MultimodalDIM(size=size, latent_dim=16, base_width=4, decoders=True)
    out = model.encode(0, torch.randn(2, 1, size, size, size))
    assert out.latent.shape == (2, 16)
    assert out.locations.shape == (2, 8**3, 16)
    assert out.recon.shape == (2, 1, size, size, size)


def test_projection_acts_on_each_location_alone():
    torch.manual_seed(0)
    head = ConvProjection(3, 5)
    feats = torch.randn(2, 3, 2, 2, 2)
    out = head(feats)
    # location (0, 1, 1) of sample 1, as a 1×1×1 conv would see it alone
    alone = head(feats[1:2, :, 0:1, 1:2, 1:2])[0, 0]
    assert torch.allclose(out[1, 0 * 4 + 1 * 2 + 1], alone, atol=1e-6)


def test_rejects_a_side_that_does_not_reach_4_by_halving():
    with pytest.raises(ValueError, match="power of two"):
        DCGANEncoder3D(size=48)
