r"""Every Nash equilibrium of a two-player game by support enumeration, with a degeneracy check.

For a bimatrix game with payoffs ``payoffs[0] = A`` (row player, shape ``(m, k)``) and ``payoffs[1] = B``
(column player), a pair of mixed strategies :math:`(x, y)` with supports :math:`I, J` is a Nash equilibrium when
each player is indifferent among the actions of its support and no other action pays more:

.. math::

    (A y)_i = v \ (i \in I), \quad (A y)_i \le v \ (i \notin I), \qquad
    (B^\top x)_j = w \ (j \in J), \quad (B^\top x)_j \le w \ (j \notin J), \qquad
    x, y \ge 0, \ \textstyle\sum x = \sum y = 1.

Support enumeration solves, for every pair of supports of equal size :math:`s = 1, \dots, \min(m, k)`, the two
square indifference systems (:math:`s + 1` unknowns each) and keeps the solutions that are probability vectors
and best responses.  The systems of one size are solved as one batch (``numpy.linalg.solve`` on stacked
matrices), in chunks of bounded memory.

Degeneracy.  A game is *non-degenerate* when no mixed strategy with support size :math:`s` has more than
:math:`s` pure best responses.  In a non-degenerate game every equilibrium has supports of equal size and its
systems have unique solutions, so support enumeration finds **all** equilibria, and there are finitely many (an
odd number).  In a degenerate game equilibria may form continua and may have supports of unequal size; the
function then returns the equilibria it finds at equal-size supports (extreme points of the equilibrium set,
not necessarily all of them) and says so: ``status == "degenerate"``, with a witness in ``degeneracy``.  The
check follows the definition: for every support :math:`S` of one player (size :math:`s`) and every set
:math:`T` of :math:`s + 1` actions of the other, it solves the overdetermined system "a strategy on :math:`S`
makes every action of :math:`T` pay the same" by least squares and reports a witness when a full-rank system is
consistent and its solution is a probability vector against which :math:`T` are best responses.  (A
degenerate strategy on a rank-deficient system has a vertex, which is the solution of a full-rank system of a
smaller support or a larger best-response set, so no witness is missed.)

Tolerances are in units of each player's payoff range (``max - min`` of its matrix), so the answer does not
depend on the payoffs' unit.  Every returned equilibrium is verified with :func:`mechsim.equilibria.nash_gap`
on the game in those units (gap at most ``atol``), else :class:`~mechsim.errors.SolverError`.  Work grows like
:math:`\binom{m + k}{m}`: games needing more than ``max_systems`` linear systems are refused before any work.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from mechsim.equilibria import check_payoffs, nash_gap
from mechsim.errors import InvalidInstanceError, SolverError
from mechsim.validation import check_integer, check_positive

__all__ = ["support_enumeration", "NashEquilibria", "MAX_SYSTEMS", "count_systems"]

#: Default largest number of linear systems :func:`support_enumeration` solves (about ten seconds' work).
MAX_SYSTEMS = 2_000_000

#: Systems solved per numpy batch (bounds the memory of one batch to a few tens of megabytes).
_CHUNK = 20_000


@dataclass(frozen=True, eq=False)
class NashEquilibria:
    """What :func:`support_enumeration` found.

    Attributes
    ----------
    equilibria : tuple of (ndarray, ndarray)
        ``(x, y)`` pairs: the row player's strategy (shape ``(m,)``) and the column player's (``(k,)``), ordered
        by support size and then by the supports' actions.
    payoffs : ndarray of shape (len(equilibria), 2)
        The players' expected payoffs at each equilibrium.
    status : str
        ``"complete"`` (non-degenerate game: these are all its equilibria) or ``"degenerate"`` (the equilibria
        found at equal-size supports, possibly none; the game may have others, and continua).
    degenerate : bool
    degeneracy : str
        A witness of degeneracy (a strategy with more pure best responses than its support size), or ``""``.
    n_systems : int
        Linear systems solved (support pairs and degeneracy checks).
    solve_time : float
        Seconds.
    """

    equilibria: tuple
    payoffs: np.ndarray
    status: str
    degenerate: bool
    degeneracy: str
    n_systems: int
    solve_time: float


def count_systems(m: int, k: int) -> int:
    """Linear systems :func:`support_enumeration` solves at most for an ``m x k`` game.

    Equal-size support pairs: :math:`\\binom{m+k}{m} - 1`; degeneracy checks (supports of size s against s + 1
    best responses): :math:`\\binom{m+k}{k-1} - k` and :math:`\\binom{m+k}{m-1} - m` (Vandermonde's identity).
    """
    m = check_integer("m", m, minimum=1)
    k = check_integer("k", k, minimum=1)
    return (math.comb(m + k, m) - 1) + (math.comb(m + k, k - 1) - k) + (math.comb(m + k, m - 1) - m)


def _pairs(n_first: int, n_second: int):
    """Chunks of index pairs ``(first, second)`` over ``range(n_first) x range(n_second)``."""
    total = n_first * n_second
    for start in range(0, total, _CHUNK):
        p = np.arange(start, min(start + _CHUNK, total))
        yield p // n_second, p % n_second


def _solve_square(M: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve a stack of square systems; returns (solutions, solved mask) skipping exactly singular ones."""
    try:
        return np.linalg.solve(M, rhs[..., None])[..., 0], np.ones(M.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        out = np.zeros(rhs.shape)
        ok = np.zeros(M.shape[0], dtype=bool)
        for t in range(M.shape[0]):
            try:
                out[t] = np.linalg.solve(M[t], rhs[t])
                ok[t] = True
            except np.linalg.LinAlgError:
                pass
        return out, ok


def _indifference(P: np.ndarray, own: np.ndarray, other: np.ndarray, tol: float):
    """For a stack of supports (``own`` of the best-responding player, ``other`` of the mixing one), the mixing
    player's strategy making every action of ``own`` pay the same against it, under payoff matrix ``P``
    (``P[i, j]``: best responder's payoff at its action i against the mixer's action j).

    Returns the mixed strategies (N, s), the values (N,) and the mask of those that are probability vectors
    against which ``own`` is exactly the set of equalisers and best responses within ``tol``.
    """
    N, s = own.shape
    M = np.empty((N, s + 1, s + 1))
    M[:, :s, :s] = P[own[:, :, None], other[:, None, :]]
    M[:, :s, s] = -1.0
    M[:, s, :s] = 1.0
    M[:, s, s] = 0.0
    rhs = np.zeros((N, s + 1))
    rhs[:, s] = 1.0
    z, ok = _solve_square(M, rhs)
    mix, value = z[:, :s], z[:, s]
    ok &= np.all(np.isfinite(z), axis=1) & np.all(mix >= -tol, axis=1)
    against = np.einsum("nsa,ns->na", P.T[other], mix)                     # (N, all own actions)
    on_support = np.take_along_axis(against, own, axis=1)
    ok &= np.all(np.abs(on_support - value[:, None]) <= tol, axis=1)
    ok &= np.max(against, axis=1) <= value + tol
    return mix, value, ok


def _degeneracy_witness(P: np.ndarray, tol: float, mixer: str) -> tuple[str, int]:
    """Search for a strategy of the mixing player (payoff matrix ``P`` of the responder, indexed
    ``[responder action, mixer action]``) with support size s and s + 1 pure best responses; (witness, systems)."""
    n_resp, n_mix = P.shape
    systems = 0
    for s in range(1, min(n_mix, n_resp - 1) + 1):
        supports = np.array(list(itertools.combinations(range(n_mix), s)), dtype=np.intp)
        responses = np.array(list(itertools.combinations(range(n_resp), s + 1)), dtype=np.intp)
        for si, ri in _pairs(len(supports), len(responses)):
            S, T = supports[si], responses[ri]
            N = S.shape[0]
            systems += N
            M = np.empty((N, s + 2, s + 1))
            M[:, :s + 1, :s] = P[T[:, :, None], S[:, None, :]]
            M[:, :s + 1, s] = -1.0
            M[:, s + 1, :s] = 1.0
            M[:, s + 1, s] = 0.0
            U, sing, Vt = np.linalg.svd(M, full_matrices=False)
            full_rank = sing[:, -1] > 1e-10 * np.maximum(sing[:, 0], 1e-300)
            # least squares z = V diag(1/sing) U^T e_last, for the full-rank systems
            coef = np.where(full_rank[:, None], U[:, -1, :] / np.where(sing > 0, sing, 1.0), 0.0)
            z = np.einsum("nij,ni->nj", Vt, coef)
            residual = np.einsum("nij,nj->ni", M, z)
            residual[:, -1] -= 1.0
            mix, value = z[:, :s], z[:, s]
            against = np.einsum("nsa,ns->na", P.T[S], mix)
            hit = (full_rank & np.all(np.abs(residual) <= tol, axis=1) & np.all(mix >= -tol, axis=1)
                   & (np.max(against, axis=1) <= value + tol))
            if np.any(hit):
                t = int(np.flatnonzero(hit)[0])
                other = "column" if mixer == "row" else "row"
                strategy = np.round(np.clip(mix[t], 0.0, None), 6).tolist()
                return (f"the {mixer} player's strategy {strategy} on actions {S[t].tolist()} has the {other} "
                        f"player's actions {T[t].tolist()} among its best responses"), systems
    return "", systems


def support_enumeration(payoffs, *, atol: float = 1e-9, max_systems: int = MAX_SYSTEMS) -> NashEquilibria:
    """Every Nash equilibrium of a non-degenerate two-player game (module docstring); degenerate games say so.

    Parameters
    ----------
    payoffs : array_like of shape (2, m, k)
        ``payoffs[0]`` the row player's payoffs, ``payoffs[1]`` the column player's (finite).
    atol : float, default 1e-9
        Tolerance of the equilibrium conditions and of the final :func:`~mechsim.equilibria.nash_gap` check,
        in units of each player's payoff range; also the tolerance at which ties count as degeneracy.
    max_systems : int
        Refuse games that need more linear systems (see :func:`count_systems`).

    Returns
    -------
    NashEquilibria

    Raises
    ------
    InvalidInstanceError
        Bad input (the message names the argument), or a game too large for ``max_systems``.
    SolverError
        An equilibrium failed the final ``nash_gap`` check, or a non-degenerate game gave none (numerical
        trouble).
    """
    u = check_payoffs(payoffs)
    if u.shape[0] != 2:
        raise InvalidInstanceError(f"payoffs: expected a two-player game of shape (2, m, k), found shape {u.shape}",
                                   argument="payoffs")
    atol = check_positive("atol", atol)
    max_systems = check_integer("max_systems", max_systems, minimum=1)
    m, k = u.shape[1:]
    needed = count_systems(m, k)
    if needed > max_systems:
        raise InvalidInstanceError(f"payoffs: expected a game needing at most max_systems={max_systems} linear "
                                   f"systems, found shape {u.shape} needing {needed} (support enumeration grows like "
                                   f"C(m + k, m))", argument="payoffs")
    start = time.perf_counter()
    with np.errstate(over="ignore"):         # an overflowing range is reported below
        spans = u.reshape(2, -1).max(axis=1) - u.reshape(2, -1).min(axis=1)
    if not np.all(np.isfinite(spans)):
        raise InvalidInstanceError("payoffs: expected payoff differences representable as finite floats, found "
                                   f"payoff ranges {spans.tolist()}", argument="payoffs")
    spans = np.where(spans > 0, spans, 1.0)
    A, B = u[0] / spans[0], u[1] / spans[1]
    unit_game = np.stack([A, B])
    # Candidates must meet the conditions well inside atol: cleaning (clipping round-off negatives, renormalising)
    # then moves payoffs by far less than atol, so the final nash_gap check passes for every true equilibrium.
    tol = atol / (4.0 * (max(m, k) + 1))
    found, keys = [], []
    n_systems = 0
    for s in range(1, min(m, k) + 1):
        rows = np.array(list(itertools.combinations(range(m), s)), dtype=np.intp)
        cols = np.array(list(itertools.combinations(range(k), s)), dtype=np.intp)
        for ri, ci in _pairs(len(rows), len(cols)):
            I, J = rows[ri], cols[ci]
            n_systems += I.shape[0]
            y, _, ok_y = _indifference(A, I, J, tol)          # column player's y makes the row player indifferent
            x, _, ok_x = _indifference(B.T, J, I, tol)        # row player's x makes the column player indifferent
            for t in np.flatnonzero(ok_x & ok_y):
                sx, sy = np.zeros(m), np.zeros(k)
                sx[I[t]] = np.clip(x[t], 0.0, None)
                sy[J[t]] = np.clip(y[t], 0.0, None)
                sx, sy = sx / sx.sum(), sy / sy.sum()
                if any(np.max(np.abs(sx - fx)) <= 1e-9 and np.max(np.abs(sy - fy)) <= 1e-9 for fx, fy in keys):
                    continue                                   # the same point from another support (degenerate)
                keys.append((sx, sy))
                found.append((I[t].copy(), J[t].copy(), sx, sy))
    witness, checks = _degeneracy_witness(B.T, tol, "row")
    n_systems += checks
    if not witness:
        witness, checks = _degeneracy_witness(A, tol, "column")
        n_systems += checks
    degenerate = bool(witness)
    if not degenerate and len(found) % 2 == 0:
        witness = f"an even number ({len(found)}) of equilibria, which no non-degenerate game has"
        degenerate = True
    equilibria = []
    for _, _, sx, sy in found:
        gap = nash_gap(unit_game, [sx, sy])
        if gap > atol:
            raise SolverError(f"support enumeration returned a profile whose nash_gap is {gap:.3g} payoff ranges, "
                              f"above atol={atol:g}", status="not audited")
        equilibria.append((sx, sy))
    if not equilibria and not degenerate:  # pragma: no cover - every non-degenerate game has an equilibrium
        raise SolverError("support enumeration found no equilibrium of a non-degenerate game (numerical trouble)",
                          status="no equilibrium")
    values = np.array([[sx @ u[0] @ sy, sx @ u[1] @ sy] for sx, sy in equilibria]).reshape(-1, 2)
    return NashEquilibria(tuple(equilibria), values, "degenerate" if degenerate else "complete", degenerate,
                          witness, n_systems, time.perf_counter() - start)
