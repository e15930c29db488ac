"""Committee scoring rules: a positional vector and an OWA vector.

A ranking ``v`` places the ``k`` members of a committee ``S`` at positions ``p_1 < ... < p_k``
(0 = top).  A committee scoring rule is given by a non-increasing positional vector
``gamma = (gamma(0), ..., gamma(m-1))`` (a function of the number of items ``m``) and an OWA vector
``lambda = (lambda_1, ..., lambda_k)`` (a function of the committee size ``k``)::

    f(v, S) = sum_j lambda_j * gamma(p_j),        F(S) = sum_v w_v f(v, S)

The best-placed member gets ``lambda_1``.  Built-in rules (Borda is ``gamma(p) = m-1-p``: the top item
gets ``m-1`` points and the last gets 0):

============================  ==================  =====================  =========
rule                          gamma(p)            lambda                 separable
============================  ==================  =====================  =========
:func:`sntv`                  1 if p = 0          all ones               yes
:func:`bloc` ``(l)``          1 if p < l          all ones               yes
:func:`k_borda`               m-1-p               all ones               yes
:func:`borda_cc`              m-1-p               (1, 0, ..., 0)         no
:func:`approval_cc` ``(l)``   1 if p < l          (1, 0, ..., 0)         no
:func:`approval_pav` ``(l)``  1 if p < l          (1, 1/2, ..., 1/k)     no
:func:`harmonic_borda`        m-1-p               (1, 1/2, ..., 1/k)     no
============================  ==================  =====================  =========

A rule is *separable* when lambda is constant: then ``F(S)`` is a sum of per-item scores (modular).
With non-increasing, non-negative lambda ``F`` is monotone submodular; the exact solver handles any
lambda (see :mod:`mechsim.solvers.committee`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import check_array, check_integer

__all__ = [
    "BordaVector",
    "CommitteeScoringRule",
    "FirstVector",
    "HarmonicVector",
    "OnesVector",
    "TopVector",
    "approval_cc",
    "approval_pav",
    "bloc",
    "borda_cc",
    "harmonic_borda",
    "k_borda",
    "rule_from_name",
    "sntv",
]


# Vector families are small frozen dataclasses rather than lambdas so that rules pickle (process
# pools, Ray) and print readably.
@dataclass(frozen=True)
class BordaVector:
    """``gamma(p) = m - 1 - p``."""

    def __call__(self, m: int) -> np.ndarray:
        return np.arange(m - 1, -1, -1, dtype=float)


@dataclass(frozen=True)
class TopVector:
    """``gamma(p) = 1`` for ``p < l`` and 0 otherwise (``l`` is capped at ``m``)."""

    l: int

    def __call__(self, m: int) -> np.ndarray:
        out = np.zeros(m)
        out[: min(self.l, m)] = 1.0
        return out


@dataclass(frozen=True)
class OnesVector:
    """``lambda_j = 1`` for every ``j``."""

    def __call__(self, k: int) -> np.ndarray:
        return np.ones(k)


@dataclass(frozen=True)
class FirstVector:
    """``lambda = (1, 0, ..., 0)`` (Chamberlin-Courant)."""

    def __call__(self, k: int) -> np.ndarray:
        out = np.zeros(k)
        out[:1] = 1.0
        return out


@dataclass(frozen=True)
class HarmonicVector:
    """``lambda_j = 1/j`` (proportional approval voting)."""

    def __call__(self, k: int) -> np.ndarray:
        return 1.0 / np.arange(1, k + 1)


@dataclass(frozen=True)
class _FixedVector:
    values: tuple
    what: str

    def __call__(self, size: int) -> np.ndarray:
        if size != len(self.values):
            raise InvalidInstanceError(
                f"{self.what}: this rule's vector was given for length {len(self.values)}, "
                f"but {size} is needed", argument=self.what)
        return np.asarray(self.values, dtype=float)


def _as_vector_fn(value, what: str) -> Callable[[int], np.ndarray]:
    if callable(value):
        return value
    arr = check_array(what, value, ndim=1)
    return _FixedVector(tuple(float(x) for x in arr), what)


@dataclass(frozen=True)
class CommitteeScoringRule:
    """An ordinal committee scoring rule ``(gamma, lambda)``.

    Parameters
    ----------
    positional : callable ``m -> array (m,)`` or array_like
        Non-increasing positional vector ``gamma``; a fixed array applies only to its own length.
    owa : callable ``k -> array (k,)`` or array_like
        OWA vector ``lambda`` (any finite values; best-placed member first).
    name : str
        Display name.

    Examples
    --------
    >>> rule = CommitteeScoringRule([3, 1, 0, 0], [1, 0.5], name="custom")
    >>> rule.gamma(4), rule.owa_vector(2)
    (array([3., 1., 0., 0.]), array([1. , 0.5]))
    """

    positional: Callable[[int], np.ndarray]
    owa: Callable[[int], np.ndarray]
    name: str = "custom"

    def __post_init__(self):
        object.__setattr__(self, "positional", _as_vector_fn(self.positional, "positional"))
        object.__setattr__(self, "owa", _as_vector_fn(self.owa, "owa"))

    def gamma(self, m: int) -> np.ndarray:
        """Positional vector for ``m`` items, validated (finite, length ``m``, non-increasing)."""
        m = check_integer("m", m, minimum=1)
        g = check_array("positional", self.positional(m), ndim=1, shape=(m,))
        if m > 1 and np.any(np.diff(g) > 0):
            p = int(np.argmax(np.diff(g) > 0))
            raise InvalidInstanceError(
                f"positional: expected a non-increasing vector, found gamma({p})={g[p]:g} < "
                f"gamma({p + 1})={g[p + 1]:g} (rule {self.name!r}, m={m})", argument="positional")
        return g

    def owa_vector(self, k: int) -> np.ndarray:
        """OWA vector for committee size ``k``, validated (finite, length ``k``)."""
        k = check_integer("k", k, minimum=1)
        return check_array("owa", self.owa(k), ndim=1, shape=(k,))

    def is_separable(self, k: int | None = None) -> bool:
        """True when lambda is constant (``F`` is modular: a sum of per-item scores).

        For the built-in families the answer does not depend on ``k``; for a custom callable OWA vector
        it is checked at ``k`` (default: 2, 3 and 10).
        """
        if isinstance(self.owa, OnesVector):
            return True
        if isinstance(self.owa, (FirstVector, HarmonicVector)):
            return False
        ks = [k] if k is not None else ([len(self.owa.values)] if isinstance(self.owa, _FixedVector)
                                        else [2, 3, 10])
        for kk in ks:
            lam = self.owa_vector(kk)
            if not np.allclose(lam, lam[0], rtol=0, atol=1e-12 * max(1.0, abs(lam[0]))):
                return False
        return True

    def is_owa_nonincreasing(self, k: int) -> bool:
        """True when ``lambda_1 >= ... >= lambda_k`` (the prefix LP relaxation of z is then exact)."""
        lam = self.owa_vector(k)
        return bool(np.all(np.diff(lam) <= 0))

    def __str__(self) -> str:
        return self.name


def sntv() -> CommitteeScoringRule:
    """Single non-transferable vote: each voter gives 1 point to its top item."""
    return CommitteeScoringRule(TopVector(1), OnesVector(), name="SNTV")


def bloc(l: int) -> CommitteeScoringRule:
    """``l``-Bloc: each voter gives 1 point to each of its top ``l`` items."""
    l = check_integer("l", l, minimum=1)
    return CommitteeScoringRule(TopVector(l), OnesVector(), name=f"{l}-Bloc")


def k_borda() -> CommitteeScoringRule:
    """k-Borda: the sum of the members' Borda scores ``m-1-p``."""
    return CommitteeScoringRule(BordaVector(), OnesVector(), name="k-Borda")


def borda_cc() -> CommitteeScoringRule:
    """Borda Chamberlin-Courant: each voter counts the Borda score of its best-placed member."""
    return CommitteeScoringRule(BordaVector(), FirstVector(), name="Borda-CC")


def approval_cc(l: int) -> CommitteeScoringRule:
    """``l``-approval Chamberlin-Courant: a voter scores 1 if a member is among its top ``l``."""
    l = check_integer("l", l, minimum=1)
    return CommitteeScoringRule(TopVector(l), FirstVector(), name=f"{l}-CC")


def approval_pav(l: int) -> CommitteeScoringRule:
    """``l``-approval PAV: a voter with ``t`` members in its top ``l`` scores ``1 + 1/2 + ... + 1/t``."""
    l = check_integer("l", l, minimum=1)
    return CommitteeScoringRule(TopVector(l), HarmonicVector(), name=f"{l}-PAV")


def harmonic_borda() -> CommitteeScoringRule:
    """Harmonic Borda: the j-th best-placed member's Borda score is weighted ``1/j``."""
    return CommitteeScoringRule(BordaVector(), HarmonicVector(), name="harmonic Borda")


_SIMPLE = {"sntv": sntv, "k-borda": k_borda, "borda": k_borda, "borda-cc": borda_cc,
           "harmonic-borda": harmonic_borda, "harmonic borda": harmonic_borda}
_WITH_L = {"bloc": bloc, "cc": approval_cc, "pav": approval_pav}


def rule_from_name(name: str | CommitteeScoringRule) -> CommitteeScoringRule:
    """Build a rule from a short name.

    Accepted: ``"sntv"``, ``"borda"`` / ``"k-borda"``, ``"borda-cc"``, ``"harmonic-borda"`` and
    ``"<l>-bloc"``, ``"<l>-cc"``, ``"<l>-pav"`` (case-insensitive).  A rule object is returned unchanged.
    """
    if isinstance(name, CommitteeScoringRule):
        return name
    key = str(name).strip().lower().replace("_", "-")
    if key in _SIMPLE:
        return _SIMPLE[key]()
    match = re.fullmatch(r"(\d+)-(bloc|cc|pav)", key)
    if match:
        return _WITH_L[match.group(2)](int(match.group(1)))
    raise InvalidInstanceError(
        f"rule: expected one of 'sntv', 'borda', 'borda-cc', 'harmonic-borda', '<l>-bloc', '<l>-cc', "
        f"'<l>-pav' or a CommitteeScoringRule, found {name!r}", argument="rule")
