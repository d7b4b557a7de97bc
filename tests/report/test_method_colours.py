"""Figures tell every method of ad-gated-fusion apart from the others and from the grey oracle."""

import matplotlib.colors as mcolors

from alignome.recipes.ad_gated_fusion.methods import METHODS
from alignome.report.figures import _ORACLE_COLOUR, _method_colours


def test_every_method_has_its_own_colour_and_none_is_grey_but_the_oracle():
    colours = _method_colours(list(METHODS))
    rgb = {m: mcolors.to_rgb(c) for m, c in colours.items()}
    others = [m for m in METHODS if m != "oracle"]
    assert len({rgb[m] for m in others}) == len(others)
    assert rgb["oracle"] == mcolors.to_rgb(_ORACLE_COLOUR)
    assert all(len(set(rgb[m])) > 1 for m in others)  # r == g == b would be a grey
