"""Parametric forced-expiration curves: volume–time, flow–volume, FEV1, FVC, PEF.

The forced expiration empties two lung compartments in parallel, a fast one (share ``w``, time
constant ``tau_fast``) and a slow one (``1 − w``, ``tau_slow``), after a short rise of effort
(``tau_rise``)::

    flow(t) ∝ (1 − e^(−t/tau_rise)) · (w/tau_fast · e^(−t/tau_fast) + (1 − w)/tau_slow · e^(−t/tau_slow))

scaled so that the volume expired by ``DURATION_S`` equals the subject's FVC. On the flow–volume
plot the curve rises steeply to the peak expiratory flow and then falls: almost linearly when the
fast compartment dominates (healthy), with the concave, "scooped" shape of airflow obstruction
when it does not (smaller ``w``, slower ``tau_fast``). FEV1/FVC is read off the curve as
spirometers do (volume at 1 s over volume at the end). The two-compartment form is the classical
description of forced expiration; the parameters are ours, set so that healthy FEV1/FVC is about
0.8 and PEF 7–10 L/s for an FVC of 4–5 L, the usual adult ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DURATION_S = 6.0  # a forced expiration is held for at least 6 s (ATS/ERS criterion)
STEP_S = 0.002


@dataclass(frozen=True)
class ExpirationParameters:
    """Per-subject parameters (arrays of shape ``(n,)``).

    Attributes
    ----------
    fvc_l
        Forced vital capacity in litres.
    fast_share
        ``w``, the share of the FVC in the fast compartment (obstruction lowers it).
    tau_fast_s, tau_slow_s, tau_rise_s
        Time constants in seconds.
    """

    fvc_l: np.ndarray
    fast_share: np.ndarray
    tau_fast_s: np.ndarray
    tau_slow_s: np.ndarray
    tau_rise_s: np.ndarray


@dataclass(frozen=True)
class ExpirationCurves:
    """Forced expirations sampled every ``STEP_S`` seconds.

    Attributes
    ----------
    time_s
        ``(T,)`` times.
    volume_l, flow_l_s
        ``(n, T)`` expired volume and flow.
    """

    time_s: np.ndarray
    volume_l: np.ndarray
    flow_l_s: np.ndarray

    @property
    def fvc(self) -> np.ndarray:
        """Volume at the end of the expiration."""
        return self.volume_l[:, -1]

    @property
    def fev1(self) -> np.ndarray:
        """Volume expired in the first second."""
        return self.volume_l[:, int(round(1.0 / STEP_S))]

    @property
    def fev1_fvc(self) -> np.ndarray:
        """FEV1/FVC, the clinical marker of obstruction."""
        return self.fev1 / self.fvc

    @property
    def pef(self) -> np.ndarray:
        """Peak expiratory flow."""
        return self.flow_l_s.max(axis=1)


def expiration_curves(params: ExpirationParameters, chunk: int = 512) -> ExpirationCurves:
    """Volume and flow of each subject's forced expiration (module docstring: the model)."""
    time = np.arange(0.0, DURATION_S + STEP_S / 2, STEP_S)
    n = params.fvc_l.shape[0]
    volume = np.empty((n, time.size), dtype=np.float32)
    flow = np.empty((n, time.size), dtype=np.float32)
    for start in range(0, n, chunk):
        part = slice(start, min(start + chunk, n))
        col = lambda values: np.asarray(values, dtype=np.float64)[part, None]  # noqa: E731
        w, fast, slow = col(params.fast_share), col(params.tau_fast_s), col(params.tau_slow_s)
        emptying = w / fast * np.exp(-time / fast) + (1.0 - w) / slow * np.exp(-time / slow)
        shape = (1.0 - np.exp(-time / col(params.tau_rise_s))) * emptying
        # trapezoidal volume, then one scale so the expiration ends at the subject's FVC
        cumulative = np.concatenate([np.zeros((shape.shape[0], 1)),
                                     np.cumsum((shape[:, 1:] + shape[:, :-1]) * STEP_S / 2.0, axis=1)], axis=1)
        scale = col(params.fvc_l) / cumulative[:, -1:]
        volume[part] = cumulative * scale
        flow[part] = shape * scale
    return ExpirationCurves(time_s=time, volume_l=volume, flow_l_s=flow)
