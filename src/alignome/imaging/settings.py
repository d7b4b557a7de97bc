"""How a NIfTI volume becomes a fixed-size array: the preprocessing settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

_AXES = ({"L", "R"}, {"A", "P"}, {"S", "I"})


class PreprocessSettings(BaseModel):
    """Preprocessing of one volume (see :func:`alignome.imaging.preprocess_volume`).

    Attributes
    ----------
    orientation
        Target axis codes (``"RAS"``: axis 0 towards Right, 1 Anterior, 2 Superior).
    spacing
        Voxel size in mm to resample to; ``None`` keeps the native grid.
    intensity
        ``"minmax"`` scales each volume to [0, 1]; ``"zscore"`` standardises
        the non-zero voxels (mean 0, sd 1; zeros stay 0).
    crop_foreground
        Crop to the bounding box of the head (see
        :func:`alignome.imaging.preprocess.foreground_mask`).
    size
        Output edge length: the volume is padded to a cube (aspect ratio kept)
        and resized to ``size³``. Recipes use 64, 96 or 128; any int >= 8 is accepted.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    orientation: str = "RAS"
    spacing: tuple[float, float, float] | None = (2.0, 2.0, 2.0)
    intensity: Literal["minmax", "zscore"] = "minmax"
    crop_foreground: bool = True
    size: int = 96

    @field_validator("orientation")
    @classmethod
    def _axcodes(cls, value: str) -> str:
        value = value.upper()
        if len(value) != 3 or any(sum(c in axis for c in value) != 1 for axis in _AXES):
            raise ValueError(f"orientation must be three axis codes, one of L/R, A/P and S/I each (e.g. RAS), got '{value}'")
        return value

    @field_validator("spacing")
    @classmethod
    def _positive(cls, value: tuple[float, float, float] | None) -> tuple[float, float, float] | None:
        if value is not None and min(value) <= 0:
            raise ValueError(f"spacing must be positive millimetres, got {value}")
        return value

    @field_validator("size")
    @classmethod
    def _size(cls, value: int) -> int:
        if value < 8:
            raise ValueError(f"size must be at least 8 voxels (64, 96 or 128 in recipes), got {value}")
        return value
