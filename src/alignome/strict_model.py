"""The base of every settings section read from YAML: unknown keys are errors."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A settings section whose unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid")
