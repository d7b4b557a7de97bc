"""Throughput of a fitted embedder, from the seconds and images its training recorded."""

from __future__ import annotations


class TrainingSpeed:
    """Mixin of a record with ``seconds`` (all training), ``data_seconds`` (gathering the data) and
    ``images_seen`` (training images processed, repeats counted)."""

    seconds: float
    data_seconds: float
    images_seen: int

    @property
    def images_per_s(self) -> float:
        """Training images processed per second, data included (NaN when no time was recorded)."""
        return self.images_seen / self.seconds if self.seconds > 0 else float("nan")

    @property
    def data_share(self) -> float:
        """Share of the training time spent gathering (and augmenting) the data."""
        return self.data_seconds / self.seconds if self.seconds > 0 else float("nan")
