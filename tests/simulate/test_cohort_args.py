"""The shared argument checks of the image-cohort simulators name the bad argument."""

from __future__ import annotations

import numpy as np
import pytest

from alignome.errors import ConfigError
from alignome.simulate.cohort_args import check_cohort_args

GOOD = {"subjects": 4, "seed": 0, "jobs": 1, "voxel_mm": 3.0}


@pytest.mark.parametrize(("name", "value"), [("subjects", 0), ("subjects", True), ("subjects", 2.0), ("seed", -1),
                                             ("jobs", 0), ("voxel_mm", 1.5), ("voxel_mm", 13), ("voxel_mm", True)])
def test_bad_argument_is_named(name: str, value: object) -> None:
    with pytest.raises(ConfigError) as err:
        check_cohort_args(**{**GOOD, name: value}, voxel_range_mm=(2.0, 12.0), voxel_fix="use --voxel-mm 3")
    assert err.value.field == name


def test_numpy_numbers_are_accepted() -> None:
    check_cohort_args(np.int64(4), np.int32(0), np.int64(2), np.float32(12.0), (2.0, 12.0), "use --voxel-mm 3")
