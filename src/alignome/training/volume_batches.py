"""Batches of preprocessed volumes for 3D training and inference: pairs, single scans, embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import BatchSampler, DataLoader, Dataset, SequentialSampler

from alignome.errors import DataError

# ------------------------------------------------------------------ datasets


def keep_batch(batch: Any) -> Any:
    return batch


def _take(volumes: np.ndarray, rows: np.ndarray) -> Tensor:
    """Rows of the volume array as a ``(B, 1, *spatial)`` tensor in the stored dtype."""
    block = np.ascontiguousarray(volumes[np.asarray(rows, dtype=np.int64)])
    return torch.from_numpy(block).unsqueeze(1)


class PairVolumes(Dataset):
    """Batches of visit pairs read from the volume array (one fancy index per view).

    ``__getitems__`` receives one batch of the batch sampler, a list of
    ``(a, b)`` positions in ``rows``, and returns ``{"xa", "xb", "rows_a",
    "rows_b"}`` with volumes ``(B, 1, S, S, S)`` in the stored dtype (float16
    stays float16 until the training step) and global scan-table rows.
    """

    def __init__(self, volumes: np.ndarray, rows: np.ndarray) -> None:
        self.volumes = volumes
        self.rows = np.asarray(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitems__(self, pairs: Sequence[tuple[int, int]]) -> dict[str, Tensor]:
        local = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        rows_a, rows_b = self.rows[local[:, 0]], self.rows[local[:, 1]]
        return {
            "xa": _take(self.volumes, rows_a),
            "xb": _take(self.volumes, rows_b),
            "rows_a": torch.from_numpy(rows_a),
            "rows_b": torch.from_numpy(rows_b),
        }

    def __getitem__(self, pair: tuple[int, int]) -> dict[str, Tensor]:
        return self.__getitems__([pair])


class ScanVolumes(Dataset):
    """Batches of single scans: ``__getitems__(positions) -> {"x", "rows"}``."""

    def __init__(self, volumes: np.ndarray, rows: np.ndarray) -> None:
        self.volumes = volumes
        self.rows = np.asarray(rows, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitems__(self, positions: Sequence[int]) -> dict[str, Tensor]:
        rows = self.rows[np.asarray(positions, dtype=np.int64)]
        return {"x": _take(self.volumes, rows), "rows": torch.from_numpy(rows)}

    def __getitem__(self, position: int) -> dict[str, Tensor]:
        return self.__getitems__([position])


def scan_loader(volumes: np.ndarray, rows: np.ndarray, batch_size: int, num_workers: int = 0,
                pin_memory: bool = False) -> DataLoader:
    """Sequential loader of single scans (validation, embedding)."""
    dataset = ScanVolumes(volumes, rows)
    sampler = BatchSampler(SequentialSampler(range(len(dataset))), batch_size=batch_size, drop_last=False)
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=keep_batch, num_workers=num_workers,
                      persistent_workers=num_workers > 0, pin_memory=pin_memory)


def pair_volume_count(batch: dict[str, Tensor]) -> int:
    """Volumes in a batch of pairs (two per pair)."""
    return 2 * int(batch["xa"].shape[0])


def batch_generator(seed: int, epoch: int, batch_idx: int, rank: int) -> torch.Generator:
    """CPU generator for the augmentations of one batch, seeded from (seed, epoch, batch, rank)."""
    state = np.random.SeedSequence([int(seed), int(epoch), int(batch_idx), int(rank)]).generate_state(2, np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))



@torch.no_grad()
def embed_volumes(model: nn.Module, volumes: np.ndarray, batch_size: int = 16) -> np.ndarray:
    """Normalised embeddings of every volume, without augmentation.

    Parameters
    ----------
    model
        A module whose ``forward(x)["embedding"]`` gives ``(B, d)`` embeddings
        (:class:`~alignome.models.cnn3d.ContrastiveEncoder3D` or the supervised
        reference); it runs in eval mode on its own device and is returned to
        its previous mode afterwards.
    volumes
        ``(N, S, S, S)`` array, float16 or float32, or the memory-mapped cache view
        (:class:`~alignome.imaging.cached_volumes.CachedVolumes`): only one batch is read at a time.
    batch_size
        Volumes per forward pass.

    Returns
    -------
    numpy.ndarray
        ``(N, d)`` float32, row ``i`` the embedding of volume ``i``.
    """
    if getattr(volumes, "ndim", 0) != 4:
        raise DataError(f"volumes must be an (N, S, S, S) array, got shape {getattr(volumes, 'shape', None)}",
                        field="volumes")
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        parts = []
        for start in range(0, volumes.shape[0], batch_size):
            x = _take(volumes, np.arange(start, min(start + batch_size, volumes.shape[0]))).to(device).float()
            parts.append(model(x)["embedding"].float().cpu())
        if not parts:  # no volumes: an empty (0, d) array of the model's embedding size
            x = torch.zeros((1, 1, *volumes.shape[1:]), device=device)
            return np.zeros((0, int(model(x)["embedding"].shape[1])), dtype=np.float32)
        return torch.cat(parts).numpy()
    finally:
        model.train(was_training)
