"""Ctrl-C during a Lightning training reaches the command as KeyboardInterrupt (Lightning turns it into exit 1)."""

from __future__ import annotations

import signal
import sys

import lightning as L
import pytest
from lightning.pytorch.trainer.states import TrainerStatus

from alignome.training.lightning_io import StepTimer
from alignome.training.lightning_runs import run_trainer


def test_lightnings_exit_after_ctrl_c_becomes_keyboard_interrupt(tmp_path, monkeypatch):
    def interrupted_fit(self, *args, **kwargs):  # what Lightning's _call_and_handle_interrupt does on Ctrl-C
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.state.status = TrainerStatus.INTERRUPTED
        sys.exit(1)

    monkeypatch.setattr(L.Trainer, "fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt):
        run_trainer(L.LightningModule(), tmp_path, 1, "32-true", None, "max", StepTimer(lambda batch: 0), False,
                    1, "auto", "cpu")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # a second Ctrl-C works again
