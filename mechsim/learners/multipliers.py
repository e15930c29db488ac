r"""Lagrange multipliers of a constrained MDP, moved by projected dual ascent or a PID controller.

For the Lagrangian :math:`L(\pi, \lambda) = V_r^\pi - \sum_k \lambda_k (J_k^\pi - d_k)` with
:math:`\lambda \ge 0`, a primal-dual method alternates a policy step on the reward :math:`r - \lambda
\cdot c` with a multiplier step driven by the measured violation :math:`e_t = J_t - d`.  The PID
Lagrangian of Stooke, Achiam & Abbeel (ICML 2020) is

.. math::

    I_t = \max(0,\ I_{t-1} + K_I e_t), \qquad
    D_t = \max(0,\ J_t - J_{t-1}) \ (D_1 = 0), \qquad
    \lambda_t = \min\big(\lambda_{\max},\ \max(0,\ K_P e_t + I_t + K_D D_t)\big),

with :math:`I_0` the initial multipliers.  With :math:`K_P = K_D = 0` it is projected (sub)gradient ascent
on the dual, :math:`\lambda_t = \max(0, \lambda_{t-1} + K_I e_t)`: the classical primal-dual step with
step size :math:`K_I`.  In floating point the two coincide exactly (``0 * e`` is a signed zero, and
adding a signed zero to a non-negative number changes nothing).

:class:`PIDController` is the one implementation of this update in mechsim.  The CMDP learners of
:mod:`mechsim.learners.lagrangian` use it through the rules :class:`GradientMultiplier` and
:class:`PIDMultiplier` (``start`` a controller, then ``update`` it once per iteration), and the
:class:`~mechsim.envs.lagrangian_reward.LagrangeMultipliers` of the ``LagrangianReward`` wrapper holds one
fed with batches of finished episodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mechsim.validation import (
    _fail,
    check_allocation,
    check_array,
    check_integer,
    check_nonnegative,
    check_positive,
)

__all__ = ["GradientMultiplier", "PIDController", "PIDMultiplier", "check_gains"]


def check_gains(name: str, value, n: int) -> np.ndarray:
    """``value`` as ``n`` finite non-negative numbers: one number for all, or an array of shape ``(n,)``."""
    if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, (str, bytes)):
        raise _fail(name, f"a non-negative number or {n} of them", f"{type(value).__name__} {value!r}")
    arr = check_array(name, value)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    elif arr.shape != (n,):
        raise _fail(name, f"a non-negative number or an array of shape ({n},), one per constraint",
                    f"shape {arr.shape}")
    if arr.size and arr.min() < 0:
        raise _fail(name, "non-negative values", f"{arr.min():.6g}")
    return np.array(arr, dtype=float)


class PIDController:
    r"""State and update of PID-Lagrangian multipliers (see the module docstring).

    Parameters
    ----------
    n : int
        Number of constraints ``m``.
    kp, ki, kd : float or ndarray of shape (m,)
        Gains :math:`K_P, K_I, K_D` (non-negative).
    initial : float or ndarray of shape (m,)
        :math:`I_0 \ge 0`, the starting integral term (and multipliers).
    max_value : float
        :math:`\lambda_{\max} > 0` (``inf``: no cap).

    Attributes
    ----------
    integral : ndarray of shape (m,)
        The integral term :math:`I_t`.
    previous : ndarray of shape (m,) or None
        The last costs :math:`J_{t-1}` (None before the first update).
    """

    __slots__ = ("kp", "ki", "kd", "max_value", "integral", "previous")

    def __init__(self, n: int, *, kp=0.0, ki=0.0, kd=0.0, initial=0.0, max_value: float = math.inf):
        n = check_integer("n", n, minimum=0)
        check_allocation("n", 8.0 * 6 * n, f"PID state for {n} constraints")
        self.kp, self.ki, self.kd = (check_gains(name, g, n) for name, g in (("kp", kp), ("ki", ki), ("kd", kd)))
        if isinstance(max_value, bool) or not isinstance(max_value, (int, float, np.integer, np.floating)) \
                or not max_value > 0:
            raise _fail("max_value", "a positive number (inf: no cap)", repr(max_value))
        self.max_value = float(max_value)
        self.integral = check_gains("initial", initial, n)
        self.previous: np.ndarray | None = None

    def update(self, costs: np.ndarray, limits: np.ndarray) -> np.ndarray:
        """One step from the measured costs ``J_t``; returns the new multipliers (a fresh array)."""
        n = self.integral.size
        costs = check_array("costs", costs, shape=(n,))
        limits = check_array("limits", limits, shape=(n,))
        error = costs - limits
        self.integral = np.maximum(0.0, self.integral + self.ki * error)
        rise = np.zeros_like(error) if self.previous is None else np.maximum(0.0, costs - self.previous)
        self.previous = np.array(costs, dtype=float)
        lam = np.maximum(0.0, self.kp * error + self.integral + self.kd * rise)
        return lam if self.max_value == math.inf else np.minimum(lam, self.max_value)


@dataclass(frozen=True)
class GradientMultiplier:
    """Projected gradient ascent on the multipliers: ``lambda <- max(0, lambda + lr (J - d))``.

    The :class:`PIDController` with ``K_I = lr`` and ``K_P = K_D = 0``, starting from ``lambda = 0``.
    """

    lr: float = 0.1

    def __post_init__(self):
        object.__setattr__(self, "lr", check_positive("lr", self.lr))

    def start(self, n: int) -> PIDController:
        """A fresh controller for ``n`` constraints."""
        return PIDController(n, ki=self.lr)

    def update(self, state: PIDController, costs: np.ndarray, limits: np.ndarray) -> np.ndarray:
        """Step ``state`` with the costs ``J`` measured this iteration; returns the new multipliers."""
        return state.update(costs, limits)


@dataclass(frozen=True)
class PIDMultiplier:
    """PID Lagrangian multipliers (Stooke et al. 2020), default gains ``(0.1, 0.01, 0.01)``, from zero."""

    kp: float = 0.1
    ki: float = 0.01
    kd: float = 0.01

    def __post_init__(self):
        for name in ("kp", "ki", "kd"):
            object.__setattr__(self, name, check_nonnegative(name, getattr(self, name)))

    def start(self, n: int) -> PIDController:
        """A fresh controller for ``n`` constraints."""
        return PIDController(n, kp=self.kp, ki=self.ki, kd=self.kd)

    def update(self, state: PIDController, costs: np.ndarray, limits: np.ndarray) -> np.ndarray:
        """Step ``state`` with the costs ``J`` measured this iteration; returns the new multipliers."""
        return state.update(costs, limits)
