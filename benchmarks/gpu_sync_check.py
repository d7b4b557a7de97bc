"""Host-device synchronisations and precision of the 3D training steps (run by benchmarks/gpu_check.sh).

Trains the ClinImCL encoder (``fit_contrastive``) and the supervised reference
(``fit_supervised``) for a few epochs on a small synthetic cohort and reports,
as JSON on stdout:

* every CUDA synchronisation that ``torch.cuda.set_sync_debug_mode("warn")``
  reports during ``trainer.fit``, grouped by the innermost frame in alignome's
  code (else Lightning's, else any), and per training step;
* the dtypes that Conv3d and Linear layers produced while training (bf16 under
  ``bf16-mixed``), and the precision and accelerator Lightning ran with;
* wall time and training volumes per second of each fit.

Without CUDA it runs the same fits on the CPU (no synchronisation report), as a
smoke test of the script.

Usage:  python benchmarks/gpu_sync_check.py [--epochs 3] [--size 32] [--subjects 24] [--out DIR]
(the ``alignome`` package is imported from ``PYTHONPATH``/the environment, so one
script checks two code trees).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

import alignome
from alignome.training.lightning_runs import read_batch_log
from alignome.training.contrastive3d import ContrastiveTrainSettings, fit_contrastive
from alignome.training.supervised3d import fit_supervised


def synthetic_cohort(subjects: int, size: int, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """``subjects`` x 2-3 visits of a subject pattern plus per-visit noise, float16, with labels."""
    rng = np.random.default_rng(seed)
    volumes, rows = [], []
    for s in range(subjects):
        base = rng.normal(size=(size, size, size)).astype(np.float32)
        for v in range(2 + s % 2):
            volumes.append(base + 0.5 * rng.normal(size=base.shape).astype(np.float32))
            rows.append({"scan_id": f"sub-{s:03d}_ses-{v}", "subject": f"sub-{s:03d}", "visit": v,
                         "age": 60.0 + s % 10 + v, "diagnosis": ("AD" if s % 2 else "CN") if len(rows) % 7 else None})
    return np.stack(volumes).astype(np.float16), pd.DataFrame(rows)


class SyncRecorder:
    """Collect the sync-debug warnings with the place in the code that caused them."""

    def __init__(self) -> None:
        self.places: collections.Counter[str] = collections.Counter()
        self._previous = None

    def _place(self) -> str:
        frames = [f for f in traceback.extract_stack()[:-2]
                  if "gpu_sync_check" not in f.filename and "warnings" not in f.filename]
        for markers in (("/alignome/", "/lightning/"), ("",)):  # innermost frame of alignome or Lightning
            for frame in reversed(frames):
                if any(m in frame.filename for m in markers):
                    return f"{frame.filename.split('/site-packages/')[-1].split('/src/')[-1]}:{frame.lineno} {frame.line}"
        return "?"

    def _show(self, message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        if "synchroniz" in str(message):
            self.places[self._place()] += 1
        elif self._previous is not None:
            self._previous(message, category, filename, lineno, file, line)

    def __enter__(self) -> "SyncRecorder":
        self._previous = warnings.showwarning
        warnings.showwarning = self._show
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        return self

    def __exit__(self, *exc: object) -> None:
        torch.cuda.set_sync_debug_mode(0)
        warnings.showwarning = self._previous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--subjects", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    volumes, scans = synthetic_cohort(args.subjects, args.size)
    subjects = sorted(scans["subject"].unique())
    is_val = scans["subject"].isin(subjects[-max(2, args.subjects // 4):]).to_numpy()
    train, val = np.flatnonzero(~is_val), np.flatnonzero(is_val)
    settings = ContrastiveTrainSettings(epochs=args.epochs, batch_size=args.batch_size, fraction=1.0, lr=3e-4,
                                        pool_size=3, precision="auto")
    dtypes: collections.Counter[str] = collections.Counter()

    def record_dtype(module: nn.Module, inputs: object, output: object) -> None:
        if module.training and isinstance(module, (nn.Conv3d, nn.Linear)) and isinstance(output, torch.Tensor):
            dtypes[f"{type(module).__name__}->{str(output.dtype).removeprefix('torch.')}"] += 1

    hook = torch.nn.modules.module.register_module_forward_hook(record_dtype)
    report: dict[str, object] = {"alignome_from": str(Path(alignome.__file__).parent), "cuda": cuda,
                                 "torch": torch.__version__, "volumes": list(volumes.shape)}
    root = args.out or Path(tempfile.mkdtemp(prefix="gpu_sync_check_"))
    for name, fit in (("contrastive", fit_contrastive), ("supervised", fit_supervised)):
        dtypes.clear()
        recorder = SyncRecorder()
        t0 = time.perf_counter()
        if cuda:
            with recorder:
                result = fit(volumes, scans, train, val, settings, root / name, resume=False, progress=False)
        else:
            result = fit(volumes, scans, train, val, settings, root / name, resume=False, progress=False)
        seconds = time.perf_counter() - t0
        log = read_batch_log(root / name)
        steps = int(log[["epoch", "batch"]].drop_duplicates().shape[0])
        syncs = sum(recorder.places.values())
        report[name] = {
            "seconds": round(seconds, 2), "steps": steps, "info": {k: result.info.get(k) for k in
                                                                   ("precision", "accelerator", "devices", "strategy")},
            "train_volumes_per_s": result.timing.get("train_volumes_per_s"),
            "train_loss": [round(float(v), 4) for v in result.curves["train_loss"]],
            "val_loss": [round(float(v), 4) for v in result.curves["val_loss"]],
            "layer_output_dtypes": dict(dtypes),
            "syncs_in_fit": syncs, "syncs_per_train_step": round(syncs / max(steps, 1), 2),
            "sync_places": dict(recorder.places.most_common(25)),
        }
    hook.remove()
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
