"""How a NIfTI volume becomes a fixed-size array: the preprocessing settings."""

from __future__ import annotations

from typing import Literal

RawStep = Literal["n4", "register", "skull_strip"]
#: The order the raw-T1 steps always run in (see :mod:`alignome.imaging.raw_t1`).
STEP_ORDER = ("n4", "register", "skull_strip")

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
    steps
        Raw-T1 steps run first, with ANTs (none by default: the input is then taken as a
        skull-stripped scan in MNI space): ``n4`` bias-field correction, ``register`` to the
        MNI152 template, ``skull_strip`` (see :mod:`alignome.imaging.raw_t1`); listed in this order.
    registration
        ``affine`` or ``syn`` (affine, then deformable), for ``register`` and ``skull_strip``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    orientation: str = "RAS"
    spacing: tuple[float, float, float] | None = (2.0, 2.0, 2.0)
    intensity: Literal["minmax", "zscore"] = "minmax"
    crop_foreground: bool = True
    size: int = 96
    steps: tuple[RawStep, ...] = ()
    registration: Literal["affine", "syn"] = "affine"

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

    @field_validator("steps")
    @classmethod
    def _in_order(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value) or list(value) != [s for s in STEP_ORDER if s in value]:
            raise ValueError(f"steps must be distinct and in the order they run, {list(STEP_ORDER)}; got {list(value)}")
        return value

    @property
    def template_mm(self) -> float:
        """Voxel size (mm) of the MNI grid that registration works on: the finest of ``spacing`` (1 mm without)."""
        return 1.0 if self.spacing is None else float(min(self.spacing))


def expected_input(settings: PreprocessSettings) -> dict[str, object]:
    """What the scans must be under ``settings``, and which raw-T1 steps run (the run log and metrics.json)."""
    if not settings.steps:
        need = "skull-stripped T1 scans already registered to MNI152 space (any grid and orientation)"
    elif "register" in settings.steps and "skull_strip" in settings.steps:
        need = "raw T1 heads (any grid, orientation and position; skull and neck allowed)"
    else:
        need = "T1 scans; the steps not run (of n4, register, skull_strip) must have been done before"
    return {"input": need, "steps": list(settings.steps),
            "registration": settings.registration if {"register", "skull_strip"} & set(settings.steps) else None}
