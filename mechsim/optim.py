r"""The one first-order optimiser of mechsim: Adam (Kingma & Ba, ICLR 2015).

For parameters :math:`\theta` and a stochastic gradient :math:`g_t` at step :math:`t = 1, 2, \dots`,

.. math::

    m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
    v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \qquad
    \Delta_t = \eta \, \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \varepsilon},

and an ascent step is :math:`\theta \leftarrow \theta + \Delta_t` (a descent step subtracts it).  Every
learner that trains numpy parameters by gradients (the CMDP policy-gradient learners, the debaters, the
Bradley–Terry judges) uses this class, so that one implementation is tested and tuned.

Example
-------
>>> import numpy as np
>>> from mechsim.optim import Adam
>>> theta = np.zeros(2)
>>> opt = Adam([theta], lr=0.1)
>>> for _ in range(200):
...     opt.ascend([-(theta - np.array([1.0, -2.0]))])   # gradient of -|theta - c|^2 / 2
>>> np.round(theta, 2).tolist()
[1.0, -2.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import check_nonnegative, check_positive

__all__ = ["Adam"]


class Adam:
    """Adam moment estimates for a list of parameter arrays.

    Parameters
    ----------
    params : sequence of ndarray
        The parameters (their shapes fix the moment arrays).  :meth:`ascend` and :meth:`descend` update
        them in place; :meth:`increments` only computes the step.
    lr : float
        Step size :math:`\\eta` (> 0).
    beta1, beta2 : float
        Decay rates of the first and second moment estimates, in [0, 1).
    eps : float
        Added to the root of the second moment (> 0).
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        self.params = list(params)
        self.lr = check_positive("lr", lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if check_nonnegative(name, beta) >= 1.0:
                raise InvalidInstanceError(f"{name}: expected a number in [0, 1), found {beta!r}", name)
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = check_positive("eps", eps)
        self.m = [np.zeros(np.shape(p)) for p in self.params]
        self.v = [np.zeros(np.shape(p)) for p in self.params]
        self.t = 0

    def increments(self, grads: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Advance the moment estimates by one step along ``grads`` and return the ascent increments."""
        if len(grads) != len(self.m):
            raise InvalidInstanceError(
                f"grads: expected {len(self.m)} gradient arrays (one per parameter), found {len(grads)}", "grads")
        self.t += 1
        c1 = 1.0 - self.beta1**self.t
        c2 = 1.0 - self.beta2**self.t
        out = []
        for g, m, v in zip(grads, self.m, self.v):
            # In-place moment updates: the parameters of the judges' MLPs are large and updated every batch.
            m *= self.beta1
            m += (1.0 - self.beta1) * g
            v *= self.beta2
            v += (1.0 - self.beta2) * g * g
            out.append(self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps))
        return out

    def ascend(self, grads: Sequence[np.ndarray]) -> None:
        """One ascent step: ``params[i] += increment[i]`` (in place)."""
        for p, inc in zip(self.params, self.increments(grads)):
            p += inc

    def descend(self, grads: Sequence[np.ndarray]) -> None:
        """One descent step: ``params[i] -= increment[i]`` (in place)."""
        for p, inc in zip(self.params, self.increments(grads)):
            p -= inc
