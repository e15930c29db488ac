r"""Exact equilibrium audits of finite normal-form games.

A game with players :math:`i = 1..n` and finite action sets :math:`A_i` is an array ``payoffs`` of shape
``(n, A_1, ..., A_n)``: ``payoffs[i][a]`` is :math:`u_i(a)` at the action profile :math:`a`.  A *distribution*
:math:`x` over profiles (shape ``(A_1, ..., A_n)``) is

- a **correlated equilibrium** (Aumann 1974) when no player gains by any *swap* of a recommended action,

  .. math::  G_i(a_i, a'_i) = \sum_{a_{-i}} x(a_i, a_{-i}) \big(u_i(a'_i, a_{-i}) - u_i(a_i, a_{-i})\big) \le 0
             \quad \forall i, a_i, a'_i;

- a **coarse correlated equilibrium** (Moulin & Vial 1978) when no player gains by committing in advance to a
  *fixed* action: :math:`\sum_a x(a) \big(u_i(a'_i, a_{-i}) - u_i(a)\big) \le 0` for all :math:`i, a'_i`.

The gaps measure how far a distribution is from each set, in units of payoff:

- :func:`ce_gap`: :math:`\max_i \sum_{a_i} \max_{a'_i} G_i(a_i, a'_i)`, the largest gain of any player from the
  best *swap function* (each recommendation mapped to its best deviation; :math:`a'_i = a_i` gains 0, so the
  inner maximum is never negative).  This is the per-round swap regret when :math:`x` is the empirical play.
- :func:`cce_gap`: :math:`\max_i \max_{a'_i} \big(E_x u_i(a'_i, a_{-i}) - E_x u_i(a)\big)^+`, the per-round
  external regret of the best fixed action.

Both are zero exactly on the respective sets; every CE is a CCE, and ``cce_gap <= ce_gap``.  A product
distribution :math:`x = \otimes_i \sigma_i` is a Nash equilibrium exactly when :func:`nash_gap` is zero.  The
computations are exact up to floating-point summation (one pass of ``numpy`` products and sums per player;
errors of order ``1e-15`` times the payoff range).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import (
    PROBABILITY_ATOL,
    check_allocation,
    check_array,
    check_nonnegative,
    check_probability_vector,
)

__all__ = [
    "check_payoffs",
    "check_profile_distribution",
    "swap_gains",
    "deviation_gains",
    "ce_gap",
    "cce_gap",
    "expected_payoffs",
    "welfare",
    "product_distribution",
    "nash_gap",
    "is_nash",
    "pure_nash_equilibria",
]

#: Largest number of action profiles a game may have (its payoff array is n * profiles floats).
MAX_PROFILES = 10**8


def check_payoffs(payoffs, name: str = "payoffs") -> np.ndarray:
    """Validate a payoff array of shape ``(n, A_1, ..., A_n)`` (``n >= 1`` players, ``A_i >= 1`` actions)."""
    if payoffs is None:
        raise InvalidInstanceError(f"{name}: expected an array of shape (n_players, A_1, ..., A_n), found None",
                                   argument=name)
    if isinstance(payoffs, np.ndarray) and payoffs.ndim >= 1:
        shape = payoffs.shape
    else:
        shape = np.shape(payoffs) if isinstance(payoffs, (list, tuple)) else None
    if shape is not None and len(shape) >= 1 and shape[0] >= 1:
        profiles = float(np.prod([float(s) for s in shape[1:]]))
        if profiles > MAX_PROFILES:
            raise InvalidInstanceError(f"{name}: expected at most {MAX_PROFILES} action profiles, found shape "
                                       f"{tuple(shape)} ({profiles:.3g} profiles)", argument=name)
        check_allocation(name, 8.0 * shape[0] * profiles, f"a payoff array of shape {tuple(shape)}")
    u = check_array(name, payoffs)
    if u.ndim < 2 or u.shape[0] != u.ndim - 1:
        raise InvalidInstanceError(
            f"{name}: expected shape (n_players, A_1, ..., A_n) with one action axis per player, found shape "
            f"{u.shape}" + (f" ({u.shape[0]} players but {u.ndim - 1} action axes)" if u.ndim >= 2 else ""),
            argument=name)
    if u.size == 0:
        raise InvalidInstanceError(f"{name}: expected at least one action per player, found shape {u.shape}",
                                   argument=name)
    return u


def check_profile_distribution(name: str, distribution, shape: Sequence[int],
                               atol: float = PROBABILITY_ATOL) -> np.ndarray:
    """Validate a distribution over action profiles: shape ``shape``, non-negative, summing to one."""
    x = check_array(name, distribution, shape=tuple(shape))
    flat = check_probability_vector(name, x.reshape(-1), atol=atol)
    return flat.reshape(x.shape)


def _checked(payoffs, distribution):
    u = check_payoffs(payoffs)
    x = check_profile_distribution("distribution", distribution, u.shape[1:])
    return u, x


def _swap_gains(u: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
    """``G_i[a, a'] = sum_r x[a, r] (u_i[a', r] - u_i[a, r])`` per player (validated inputs)."""
    out = []
    for i in range(u.shape[0]):
        ui = np.moveaxis(u[i], i, 0).reshape(u.shape[1 + i], -1)   # (A_i, rest)
        xi = np.moveaxis(x, i, 0).reshape(u.shape[1 + i], -1)
        out.append(xi @ ui.T - np.sum(xi * ui, axis=1)[:, None])
    return out


def swap_gains(payoffs, distribution) -> list[np.ndarray]:
    """Every player's swap gains: ``G[i][a_i, a'_i]`` of the module docstring (the CE constraints' left sides).

    Returns
    -------
    list of ndarray
        One ``(A_i, A_i)`` array per player; the diagonal is zero.
    """
    return _swap_gains(*_checked(payoffs, distribution))


def _deviation_gains(u: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
    out = []
    for i in range(u.shape[0]):
        ui = np.moveaxis(u[i], i, 0).reshape(u.shape[1 + i], -1)
        marginal_rest = np.moveaxis(x, i, 0).reshape(u.shape[1 + i], -1).sum(axis=0)   # x(a_{-i})
        out.append(ui @ marginal_rest - float(np.sum(x * u[i])))
    return out


def deviation_gains(payoffs, distribution) -> list[np.ndarray]:
    """Every player's gain from each fixed action: ``E_x u_i(a'_i, a_{-i}) - E_x u_i(a)`` (shape ``(A_i,)``)."""
    return _deviation_gains(*_checked(payoffs, distribution))


def ce_gap(payoffs, distribution) -> float:
    """How far ``distribution`` is from the correlated equilibria of ``payoffs`` (module docstring; 0 on CE).

    Parameters
    ----------
    payoffs : array_like of shape (n, A_1, ..., A_n)
    distribution : array_like of shape (A_1, ..., A_n)
        Non-negative, summing to one within :data:`~mechsim.validation.PROBABILITY_ATOL`.

    Returns
    -------
    float
        :math:`\\max_i \\sum_{a_i} \\max_{a'_i} G_i(a_i, a'_i) \\ge 0`.
    """
    return float(max(np.sum(np.max(g, axis=1)) for g in _swap_gains(*_checked(payoffs, distribution))))


def cce_gap(payoffs, distribution) -> float:
    """How far ``distribution`` is from the coarse correlated equilibria of ``payoffs`` (0 on CCE).

    Parameters
    ----------
    payoffs : array_like of shape (n, A_1, ..., A_n)
    distribution : array_like of shape (A_1, ..., A_n)

    Returns
    -------
    float
        :math:`\\max_i \\max_{a'_i} (E_x u_i(a'_i, a_{-i}) - E_x u_i(a))^+ \\ge 0`.
    """
    return float(max(0.0, *(float(np.max(g)) for g in _deviation_gains(*_checked(payoffs, distribution)))))


def expected_payoffs(payoffs, distribution) -> np.ndarray:
    """Every player's expected payoff under ``distribution`` (shape ``(n,)``)."""
    u, x = _checked(payoffs, distribution)
    return np.tensordot(u, x, axes=x.ndim)


def welfare(payoffs, distribution) -> float:
    """The expected sum of the players' payoffs under ``distribution``."""
    return float(np.sum(expected_payoffs(payoffs, distribution)))


def _check_strategies(u: np.ndarray, strategies) -> list[np.ndarray]:
    n = u.shape[0]
    if strategies is None or isinstance(strategies, (str, bytes)) or not isinstance(strategies, (Sequence,
                                                                                              np.ndarray)):
        raise InvalidInstanceError(f"strategies: expected {n} mixed strategies (one per player), found "
                                   f"{type(strategies).__name__}", argument="strategies")
    if len(strategies) != n:
        raise InvalidInstanceError(f"strategies: expected {n} mixed strategies (one per player), found "
                                   f"{len(strategies)}", argument="strategies")
    return [check_probability_vector(f"strategies[{i}]", s, size=u.shape[1 + i]) for i, s in enumerate(strategies)]


def product_distribution(strategies) -> np.ndarray:
    """The distribution over profiles of independent mixed strategies, ``x(a) = prod_i sigma_i(a_i)``."""
    if strategies is None or isinstance(strategies, (str, bytes)) or not isinstance(strategies, (Sequence,
                                                                                              np.ndarray)):
        raise InvalidInstanceError(f"strategies: expected a sequence of mixed strategies, found "
                                   f"{type(strategies).__name__}", argument="strategies")
    if len(strategies) == 0:
        raise InvalidInstanceError("strategies: expected at least one mixed strategy, found none",
                                   argument="strategies")
    sigmas = [check_probability_vector(f"strategies[{i}]", s) for i, s in enumerate(strategies)]
    check_allocation("strategies", 8.0 * float(np.prod([float(s.size) for s in sigmas])),
                     "the product distribution of the strategies")
    out = sigmas[0]
    for s in sigmas[1:]:
        out = np.multiply.outer(out, s)
    return out


def nash_gap(payoffs, strategies) -> float:
    """The largest gain of any player from a unilateral deviation from the mixed profile ``strategies``.

    Parameters
    ----------
    payoffs : array_like of shape (n, A_1, ..., A_n)
    strategies : sequence of n probability vectors
        ``strategies[i]`` has length ``A_i``.

    Returns
    -------
    float
        :math:`\\max_i \\max_{a'_i} u_i(a'_i, \\sigma_{-i}) - u_i(\\sigma) \\ge 0`: zero exactly at a Nash equilibrium.
    """
    u = check_payoffs(payoffs)
    sigmas = _check_strategies(u, strategies)
    x = product_distribution(sigmas)
    return float(max(0.0, *(float(np.max(g)) for g in _deviation_gains(u, x))))


def is_nash(payoffs, strategies, atol: float = 1e-9) -> bool:
    """Whether ``strategies`` is a Nash equilibrium of ``payoffs`` within ``atol`` (see :func:`nash_gap`)."""
    atol = check_nonnegative("atol", atol)
    return nash_gap(payoffs, strategies) <= atol


def pure_nash_equilibria(payoffs) -> list[tuple[int, ...]]:
    """Every pure-strategy Nash equilibrium of ``payoffs``, as action profiles in lexicographic order.

    A profile is an equilibrium when each player's action is a best response to the others' (exact comparison
    of the payoff entries: ``u_i(a) >= max_{a'_i} u_i(a'_i, a_{-i})``).
    """
    u = check_payoffs(payoffs)
    best = np.ones(u.shape[1:], dtype=bool)
    for i in range(u.shape[0]):
        best &= u[i] >= np.max(u[i], axis=i, keepdims=True)
    return [tuple(int(k) for k in a) for a in np.argwhere(best)]

