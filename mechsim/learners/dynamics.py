r"""No-regret dynamics in finite n-player games, measured against the (coarse) correlated equilibria.

Setting.  A game has players :math:`i = 1, \dots, n`, finite action sets :math:`A_i` and payoffs
:math:`u_i(a)`, given as an array of shape ``(n, A_1, ..., A_n)`` (:mod:`mechsim.equilibria`).  In every round
:math:`t = 1, \dots, T` each player draws its action :math:`a_i^t \sim p_i^t` from its own learner, all players
at once and independently; the profile :math:`a^t = (a_1^t, \dots, a_n^t)` is played, and then every learner
observes

- with full information (``hedge``, ``regret_matching``, ``regret_matching_plus``, ``swap_hedge``) the reward
  of each of its actions against the others' realised actions, :math:`r_i^t = u_i(\cdot, a_{-i}^t)`;
- with bandit feedback (``exp3``) only its own realised payoff :math:`u_i(a^t)`.

What is measured.  The empirical distribution of the *sampled* profiles,
:math:`x_t(a) = |\{s \le t : a^s = a\}| / t`, and the players' realised cumulative regrets (payoff units)

.. math::

    R^{\mathrm{ext}}_i(t) = \max_{b \in A_i} \sum_{s \le t} u_i(b, a^s_{-i}) - u_i(a^s), \qquad
    R^{\mathrm{swap}}_i(t) = \sum_{c \in A_i} \max_{b \in A_i} \sum_{s \le t,\ a^s_i = c}
                             u_i(b, a^s_{-i}) - u_i(a^s) \;\ge\; 0.

Summing over rounds is integrating against :math:`x_t`, so both are :math:`t` times the exact gaps of
:math:`x_t` (:func:`mechsim.equilibria.cce_gap`, :func:`mechsim.equilibria.ce_gap`):

.. math::

    \mathrm{cce\_gap}(x_t) = \max\big(0, \max_i R^{\mathrm{ext}}_i(t)\big) / t, \qquad
    \mathrm{ce\_gap}(x_t) = \max_i R^{\mathrm{swap}}_i(t) / t.

A learner whose regret grows as :math:`O(\sqrt t)` against *every* sequence therefore drives the empirical
distribution of play to the coarse correlated equilibria (external regret: Hedge, regret matching, EXP3) or to
the correlated equilibria (swap regret: ``swap_hedge``) at rate :math:`O(t^{-1/2})` (Foster and Vohra 1997;
Hart and Mas-Colell 2000; Blum and Mansour 2007).  It is the distribution of sampled profiles, not the product
of the players' mixed strategies, that converges: the players' independent randomisation correlates through
the history.  The guarantees of the learners bound the regret of their *expected* play
:math:`\sum_t \langle p_i^t, r_i^t \rangle`; the realised regret measured here differs from it by a sum of
bounded martingale differences, :math:`O(\sqrt{t \log(1/\delta)})` with probability :math:`1 - \delta`
(Azuma), so the rate is the same.

Learners.  Every player runs its own copy of the same learner of this package (one copy of each update
rule): ``hedge`` is :class:`~mechsim.learners.Hedge` on the losses :math:`1 - \tilde r_i^t`;
``regret_matching`` and ``regret_matching_plus`` are :class:`~mechsim.learners.RegretMatching` (``plus=False``
/ ``True``) on the utilities :math:`\tilde r_i^t`; ``exp3`` is :class:`~mechsim.learners.Exp3` on the
realised loss :math:`1 - \tilde u_i(a^t)`.  ``swap_hedge`` is the Blum--Mansour reduction from swap to
external regret: player :math:`i` keeps one Hedge :math:`H_c` per action :math:`c`, stacks their
distributions as the rows of a row-stochastic matrix :math:`Q` (:math:`Q_{c\cdot} = q_c`), plays a stationary
distribution :math:`p = p Q` and gives :math:`H_c` the scaled loss vector :math:`p(c)(1 - \tilde r_i^t)`.
Because :math:`\sum_c p(c) q_c = p`, the swap regret of :math:`p` against any swap function :math:`\phi` is the
sum over :math:`c` of :math:`H_c`'s external regret against :math:`\phi(c)`, so it is at most
:math:`\sum_c \mathrm{Regret}(H_c) = O(|A_i| \sqrt{t \ln |A_i|})`.  The stationary distribution is the
solution of the linear system :math:`p (Q - I) = 0,\ \sum_c p(c) = 1` (unique while Hedge's weights are
positive; if underflow splits the chain, the minimum-norm solution, a convex combination of the closed
classes' stationary distributions), checked to :data:`STATIONARY_ATOL` before it is played.

Rescaling and learning rates.  The learners see the payoffs rescaled to [0, 1] by the game's range,
:math:`\tilde u = (u - \min u) / (\max u - \min u)` (minimum and maximum over all players and profiles; a
constant game is all zeros), so a learning rate is in units of the rescaled payoff and the play for a given
seed does not depend on the payoff scale: ``c * payoffs + d`` (``c > 0``) gives the same profiles (exactly
when ``c`` is a power of two and ``d = 0``; otherwise up to floating-point rounding of the rescaled payoffs)
and regrets, gaps and welfare multiplied by ``c`` (welfare shifted by ``n d``).  Regrets, gaps and welfare
are reported in the original payoff units.  Rates:

- ``learning_rate=None`` or ``"anytime"`` (default): the anytime schedules, tuned to no horizon, so that the
  guarantee holds at every checkpoint of one run: Hedge and each sub-learner of ``swap_hedge``
  :math:`\eta_t = \sqrt{8 \ln K_i / t}`, EXP3 :math:`\eta_t = \sqrt{\ln K_i / (t K_i)}`;
- ``"tuned"``: tuned to the horizon ``rounds`` (Hedge :math:`\sqrt{8 \ln K_i / T}`, EXP3
  :math:`\sqrt{2 \ln K_i / (T K_i)}`), the better constant at :math:`T` only;
- a positive number: a fixed Hedge rate for ``hedge`` and ``swap_hedge``.

Regret matching has no rate (it is scale-free); EXP3 takes no fixed rate.

Speed.  No learner can be vectorised over the rounds of a game (each round's feedback depends on the others'
sampled actions), so play is one loop over rounds with every uniform pre-drawn from one generator (``seed``),
``rounds x n`` numbers in round-major order.  ``hedge`` and ``swap_hedge`` are vectorised across players (the
players' weight vectors stacked, padded with zero-probability actions to the largest action set, and the
reward vectors :math:`u_i(\cdot, a_{-i})` looked up in per-player ``(A_{-i}, A_i)`` tables); regret matching
and EXP3 are sequential learners whose state is kept in Python floats, and the loop calls their own update
rules with no per-round validation.  Counts of the empirical distribution are accumulated with ``bincount``
from the flat profile indices between checkpoints.

Example
-------
>>> from mechsim.equilibria import shapley_game
>>> from mechsim.learners import play_no_regret
>>> run = play_no_regret(shapley_game(), "hedge", rounds=20_000, seed=0)
>>> run.empirical_distribution.shape
(3, 3)
>>> bool(run.cce_gap[-1] < 0.03)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import mul

import numpy as np

from mechsim.equilibria import cce_gap, ce_gap, check_payoffs, deviation_gains, swap_gains, welfare
from mechsim.errors import InvalidInstanceError, SolverError
from mechsim.learners import _core
from mechsim.learners._core import _draw, _sample_rows, _softmax_rows
from mechsim.learners.bandits import Exp3
from mechsim.learners.experts import Hedge
from mechsim.learners.regret_matching import RegretMatching
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_array,
    check_choice,
    check_integer,
    check_positive,
)

__all__ = ["NoRegretDynamics", "play_no_regret", "DYNAMICS_LEARNERS", "STATIONARY_ATOL"]

#: The learners :func:`play_no_regret` runs.
DYNAMICS_LEARNERS = ("hedge", "regret_matching", "regret_matching_plus", "exp3", "swap_hedge")

#: Largest violation of ``p = p Q`` (and of ``p >= 0``) accepted for a ``swap_hedge`` player's stationary
#: distribution.
STATIONARY_ATOL = 1e-9

_RATE_NAMES = ("anytime", "tuned")


@dataclass(frozen=True)
class NoRegretDynamics:
    """Outcome of :func:`play_no_regret` (see :mod:`mechsim.learners.dynamics` for the definitions).

    Attributes
    ----------
    learner : str
        The learner every player ran.
    rounds : int
        Number of rounds ``T``.
    seed : int, Generator or None
        The ``seed`` argument.
    learning_rate : str or float
        ``"anytime"``, ``"tuned"`` or the fixed Hedge rate (in units of the rescaled payoffs).
    payoff_range : tuple of float
        ``(min, max)`` of the payoffs, the affine map to [0, 1] that the learners saw.
    profiles : ndarray of int, shape (T, n)
        The sampled action profile of every round.
    empirical_distribution : ndarray, shape (A_1, ..., A_n)
        Empirical distribution of the ``T`` sampled profiles.
    checkpoints : ndarray of int, shape (C,)
        Rounds ``t`` at which the curves below were recorded (increasing).
    cce_gap, ce_gap : ndarray, shape (C,)
        Exact gaps (:func:`mechsim.equilibria.cce_gap`, :func:`mechsim.equilibria.ce_gap`) of the empirical
        distribution of the first ``t`` rounds: ``max(0, max_i external_regret[:, i]) / t`` and
        ``max_i swap_regret[:, i] / t``.
    external_regret, swap_regret : ndarray, shape (C, n)
        Every player's realised cumulative external and swap regret after ``t`` rounds, in payoff units
        (external regret may be negative; swap regret is not).  Computed as ``t`` times the deviation and swap
        gains of the empirical distribution (:func:`mechsim.equilibria.deviation_gains`,
        :func:`mechsim.equilibria.swap_gains`), so exact up to rounding of order ``1e-16 t`` times the payoff
        range (a regret that is exactly zero may show as ``1e-13``).
    welfare : ndarray, shape (C,)
        Expected sum of payoffs under the empirical distribution of the first ``t`` rounds (the average
        realised welfare per round).
    """

    learner: str
    rounds: int
    seed: object
    learning_rate: str | float
    payoff_range: tuple[float, float]
    profiles: np.ndarray
    empirical_distribution: np.ndarray
    checkpoints: np.ndarray
    cce_gap: np.ndarray
    ce_gap: np.ndarray
    external_regret: np.ndarray
    swap_regret: np.ndarray
    welfare: np.ndarray

    @property
    def n_players(self) -> int:
        return int(self.profiles.shape[1])

    @property
    def n_actions(self) -> tuple[int, ...]:
        return tuple(int(k) for k in self.empirical_distribution.shape)


# ----------------------------------------------------------------------------------------------------------
# The game as the learners see it
# ----------------------------------------------------------------------------------------------------------

class _Game:
    """Rescaled payoffs and the index arithmetic of the per-round loop (validated payoffs in)."""

    def __init__(self, u: np.ndarray):
        self.u = u
        self.n = u.shape[0]
        self.shape = tuple(int(k) for k in u.shape[1:])
        self.k = np.array(self.shape, dtype=np.int64)
        self.kmax = int(self.k.max())
        lo, hi = float(u.min()), float(u.max())
        width = hi - lo
        if not math.isfinite(width):
            raise InvalidInstanceError(f"payoffs: expected a payoff range (max - min) that is finite in float64, "
                                       f"found min {lo:.6g} and max {hi:.6g}; rescale the payoffs", "payoffs")
        self.range = (lo, hi)
        self.scaled = (u - lo) / width if width > 0 else np.zeros_like(u)
        # flat index of a profile (C order) and, per player, of the others' actions a_{-i} in the order of
        # moveaxis(u_i, i, -1).reshape(-1, A_i)
        self.strides = np.array([math.prod(self.shape[j + 1:]) for j in range(self.n)], dtype=np.int64)
        self.rest_strides = np.zeros((self.n, self.n), dtype=np.int64)
        for i in range(self.n):
            for j in range(self.n):
                if j != i:
                    self.rest_strides[i, j] = math.prod(self.shape[m] for m in range(j + 1, self.n) if m != i)
        rests = [math.prod(self.shape) // k for k in self.shape]
        check_allocation("payoffs", 8.0 * sum(rests) * self.kmax,
                         f"reward tables of {sum(rests)} rows and {self.kmax} columns")
        #: tables[i][r] = rescaled u_i(., a_{-i}) for the others' profile of index r, shape (A_{-i}, A_i)
        self.tables = [np.ascontiguousarray(np.moveaxis(self.scaled[i], i, -1).reshape(-1, self.shape[i]))
                       for i in range(self.n)]
        self.offsets = np.concatenate([[0], np.cumsum(rests)[:-1]]).astype(np.int64)
        #: rows of all players' loss tables 1 - tables[i], stacked and padded with zeros to kmax columns
        self.loss_table = np.zeros((sum(rests), self.kmax))
        for i, t in enumerate(self.tables):
            self.loss_table[self.offsets[i]:self.offsets[i] + t.shape[0], :t.shape[1]] = 1.0 - t
        self.mask = np.arange(self.kmax)[None, :] < self.k[:, None]   # (n, kmax): real actions

    def losses(self, actions: np.ndarray) -> np.ndarray:
        """Every player's loss vector ``1 - u~_i(., a_{-i})`` at the profile ``actions``, shape (n, kmax)."""
        return self.loss_table[self.offsets + self.rest_strides @ actions]


# ----------------------------------------------------------------------------------------------------------
# The per-round loops
# ----------------------------------------------------------------------------------------------------------

def _hedge_rates(hedges: list[Hedge], start: int, count: int) -> np.ndarray:
    """Rates of rounds ``start + 1 .. start + count`` of every player's Hedge, shape (count, n).

    A one-action player's rate is irrelevant (its only action has probability one) but multiplies the
    padding's infinite losses: it is set to 1 so that the product stays infinite instead of NaN.
    """
    rates = np.hstack([h._rates(start, count) for h in hedges])
    rates[:, [h.n_actions == 1 for h in hedges]] = 1.0
    return rates


def _play_hedge(game: _Game, rng: np.random.Generator, rounds: int, hedges: list[Hedge]) -> np.ndarray:
    profiles = np.empty((rounds, game.n), dtype=np.int64)
    cumulative = np.where(game.mask, 0.0, np.inf)   # padded actions never get probability
    for lo in range(0, rounds, _core._CHUNK):
        m = min(_core._CHUNK, rounds - lo)
        uniforms = rng.random((m, game.n))
        rates = _hedge_rates(hedges, lo, m)[:, :, None]
        for j in range(m):
            a = _sample_rows(_softmax_rows(rates[j] * cumulative), uniforms[j])
            profiles[lo + j] = a
            cumulative += game.losses(a)
    return profiles


def _violation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Per player, the larger of ``max |p Q - p|`` and ``max(-p)`` (NaN if ``p`` is)."""
    return np.maximum(np.abs((p[:, None, :] @ q)[:, 0, :] - p).max(axis=1), -p.min(axis=1))


def _stationary(q: np.ndarray, mask: np.ndarray, eye: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """A stationary distribution ``p = p Q`` of each row-stochastic ``q[i]`` (shape (n, k, k)), checked.

    ``eye`` is the (k, k) identity and ``rhs`` the (n, k, 1) array of unit vectors ``e_k`` (passed in, to keep
    them out of the per-round cost).
    """
    n, k, _ = q.shape
    system = np.swapaxes(q, 1, 2) - eye
    system[:, -1, :] = 1.0          # one balance equation is redundant: replace it by sum(p) = 1
    try:
        p = np.linalg.solve(system, rhs)[..., 0]
    except np.linalg.LinAlgError:
        p = np.full((n, k), np.nan)
    violation = _violation(p, q)
    if not violation.max() <= STATIONARY_ATOL:     # also when NaN
        for i in np.flatnonzero(~(violation <= STATIONARY_ATOL)):
            # several closed classes (Hedge weights underflowed to zero): the minimum-norm solution
            stacked = np.vstack([q[i].T - eye, np.ones((1, k))])
            p[i] = np.linalg.lstsq(stacked, np.eye(k + 1)[-1], rcond=None)[0]
        worst = float(_violation(p, q).max())
        if not worst <= STATIONARY_ATOL:
            raise SolverError(f"swap_hedge: no stationary distribution within {STATIONARY_ATOL:g} of the "
                              f"sub-learners' matrix (violation {worst:.3g})", status="stationary-distribution")
    p = np.where(mask, np.maximum(p, 0.0), 0.0)    # rounding residue below STATIONARY_ATOL
    return p / p.sum(axis=1, keepdims=True)


def _play_swap_hedge(game: _Game, rng: np.random.Generator, rounds: int, hedges: list[Hedge]) -> np.ndarray:
    n, k = game.n, game.kmax
    profiles = np.empty((rounds, n), dtype=np.int64)
    eye, rhs = np.eye(k), np.zeros((n, k, 1))
    rhs[:, -1] = 1.0
    # cumulative[i, c] are the losses of player i's sub-learner for action c; padded sub-learners (c >= A_i)
    # point at action 0 and are never played, padded actions are never recommended
    cumulative = np.where(game.mask[:, None, :] & game.mask[:, :, None], 0.0, np.inf)
    cumulative[:, :, 0] = np.where(game.mask, cumulative[:, :, 0], 0.0)
    for lo in range(0, rounds, _core._CHUNK):
        m = min(_core._CHUNK, rounds - lo)
        uniforms = rng.random((m, n))
        rates = _hedge_rates(hedges, lo, m)[:, :, None, None]
        for j in range(m):
            q = _softmax_rows((rates[j] * cumulative).reshape(n * k, k)).reshape(n, k, k)
            p = _stationary(q, game.mask, eye, rhs)
            a = _sample_rows(p, uniforms[j])
            profiles[lo + j] = a
            cumulative += p[:, :, None] * game.losses(a)[:, None, :]
    return profiles


def _play_sequential(game: _Game, rng: np.random.Generator, rounds: int, step) -> np.ndarray:
    """Play with ``step(uniforms) -> profile``, one call per round on Python floats (the sequential learners)."""
    profiles = np.empty((rounds, game.n), dtype=np.int64)
    for lo in range(0, rounds, _core._CHUNK):
        uniforms = rng.random((min(_core._CHUNK, rounds - lo), game.n)).tolist()
        profiles[lo:lo + len(uniforms)] = [step(us) for us in uniforms]
    return profiles


def _play_regret_matching(game: _Game, rng: np.random.Generator, rounds: int, plus: bool) -> np.ndarray:
    players = [RegretMatching(k, plus=plus) for k in game.shape]
    rows = [t.tolist() if p._small else t for t, p in zip(game.tables, players)]
    rest = game.rest_strides.tolist()

    def step(us):
        sigmas = [p._strategy() for p in players]
        a = [_draw(s, u, p._small) for s, u, p in zip(sigmas, us, players)]
        for p, s, r, table in zip(players, sigmas, rest, rows):
            p._step(table[sum(map(mul, a, r))], s)
        return a

    return _play_sequential(game, rng, rounds, step)


def _play_exp3(game: _Game, rng: np.random.Generator, rounds: int, tuned: bool) -> np.ndarray:
    players = [Exp3(k, horizon=rounds if tuned else None) for k in game.shape]
    own = [game.scaled[i].reshape(-1).tolist() for i in range(game.n)]   # u~_i at each flat profile
    strides = game.strides.tolist()

    def step(us):
        weights = [p._weights() for p in players]
        totals = [p._total(w) for p, w in zip(players, weights)]
        a = [_draw(w, u, p._small) for w, u, p in zip(weights, us, players)]
        flat = sum(map(mul, a, strides))
        for p, ai, w, total, payoff in zip(players, a, weights, totals, own):
            p._learn(ai, 1.0 - payoff[flat], w, total)
        return a

    return _play_sequential(game, rng, rounds, step)


# ----------------------------------------------------------------------------------------------------------
# Measurement
# ----------------------------------------------------------------------------------------------------------

def _measure(game: _Game, profiles: np.ndarray, checkpoints: np.ndarray) -> dict:
    flat = profiles @ game.strides
    size = math.prod(game.shape)
    counts = np.zeros(size, dtype=np.int64)
    c = checkpoints.size
    out = {"cce_gap": np.empty(c), "ce_gap": np.empty(c), "welfare": np.empty(c),
           "external_regret": np.empty((c, game.n)), "swap_regret": np.empty((c, game.n))}
    done = 0
    for j, t in enumerate(checkpoints.tolist()):
        counts += np.bincount(flat[done:t], minlength=size)
        done = t
        x = (counts / t).reshape(game.shape)
        out["cce_gap"][j] = cce_gap(game.u, x)
        out["ce_gap"][j] = ce_gap(game.u, x)
        out["welfare"][j] = welfare(game.u, x)
        out["external_regret"][j] = [t * float(np.max(g)) for g in deviation_gains(game.u, x)]
        out["swap_regret"][j] = [t * float(np.sum(np.max(g, axis=1))) for g in swap_gains(game.u, x)]
    counts += np.bincount(flat[done:], minlength=size)
    out["empirical_distribution"] = (counts / profiles.shape[0]).reshape(game.shape)
    return out


# ----------------------------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------------------------

def _check_checkpoints(checkpoints, rounds: int) -> np.ndarray:
    if checkpoints is None:
        return np.unique(np.geomspace(1, rounds, num=min(rounds, 30)).round().astype(np.int64))
    arr = check_array("checkpoints", checkpoints, ndim=1)
    if arr.size == 0:
        raise InvalidInstanceError("checkpoints: expected at least one round, found an empty array", "checkpoints")
    if np.any(arr != np.round(arr)):
        bad = int(np.flatnonzero(arr != np.round(arr))[0])
        raise InvalidInstanceError(f"checkpoints: expected whole rounds, found {arr[bad]!r} at index {bad}",
                                   "checkpoints")
    if arr.min() < 1 or arr.max() > rounds:
        raise InvalidInstanceError(f"checkpoints: expected rounds in [1, {rounds}], found [{arr.min():.6g}, "
                                   f"{arr.max():.6g}]", "checkpoints")
    return np.unique(arr.astype(np.int64))


def _check_rate(learning_rate, learner: str) -> str | float:
    if learning_rate is None:
        return "anytime"
    if isinstance(learning_rate, str):
        rate = check_choice("learning_rate", learning_rate, _RATE_NAMES)
    else:
        rate = check_positive("learning_rate", learning_rate)
    if learner in ("regret_matching", "regret_matching_plus") and rate != "anytime":
        raise InvalidInstanceError(f"learning_rate: expected None or 'anytime' for {learner} (regret matching has "
                                   f"no learning rate), found {learning_rate!r}", "learning_rate")
    if learner == "exp3" and not isinstance(rate, str):
        raise InvalidInstanceError(f"learning_rate: expected None, 'anytime' or 'tuned' for exp3 (no fixed rate), "
                                   f"found {learning_rate!r}", "learning_rate")
    return rate


def play_no_regret(payoffs, learner: str = "hedge", rounds: int = 10_000, seed=None, *, checkpoints=None,
                   learning_rate=None) -> NoRegretDynamics:
    """Every player of a finite game runs its own no-regret learner; measure play against the equilibria.

    Parameters
    ----------
    payoffs : array_like, shape (n, A_1, ..., A_n)
        ``payoffs[i][a]`` is player ``i``'s payoff at profile ``a`` (general-sum, any finite values).
    learner : {"hedge", "regret_matching", "regret_matching_plus", "exp3", "swap_hedge"}
        The learner of every player (module docstring): full information except ``exp3`` (bandit feedback);
        ``swap_hedge`` minimises swap regret (its play approaches the correlated equilibria), the others
        external regret (coarse correlated equilibria).
    rounds : int
        Number of rounds ``T >= 1``.
    seed : int, Generator or None
        The one source of randomness: ``rounds x n`` uniforms drawn in round-major order.  Same seed, same
        play.
    checkpoints : array of int, optional
        Rounds in ``[1, T]`` at which to record gaps, regrets and welfare (sorted, duplicates dropped).
        Default: about 30 log-spaced rounds from 1 to ``T``.
    learning_rate : None, "anytime", "tuned" or float
        ``None``/``"anytime"``: anytime schedules; ``"tuned"``: tuned to ``rounds``; a positive number: a
        fixed Hedge rate (``hedge``, ``swap_hedge``), in units of the payoffs rescaled to [0, 1].  Regret
        matching accepts only the default.

    Returns
    -------
    NoRegretDynamics
        With the sampled profiles, the final empirical distribution and, per checkpoint ``t``, the exact CCE
        and CE gaps of the empirical distribution of the first ``t`` rounds, both regrets of every player
        (gap = positive part of the largest regret / ``t``) and the welfare.

    Raises
    ------
    InvalidInstanceError
        On bad arguments (the message names the argument).
    SolverError
        If a ``swap_hedge`` player's stationary distribution cannot be computed to :data:`STATIONARY_ATOL`.
    """
    u = check_payoffs(payoffs)
    learner = check_choice("learner", learner, DYNAMICS_LEARNERS)
    rounds = check_integer("rounds", rounds, minimum=1)
    n = u.shape[0]
    check_allocation("rounds", 16.0 * rounds * n, f"the profiles of {rounds} rounds of {n} players")
    rng = as_generator(seed)
    marks = _check_checkpoints(checkpoints, rounds)
    rate = _check_rate(learning_rate, learner)
    game = _Game(u)
    if learner in ("hedge", "swap_hedge"):
        hedges = [Hedge(k, learning_rate=None if isinstance(rate, str) else rate,
                        horizon=rounds if rate == "tuned" else None) for k in game.shape]
        play = _play_hedge if learner == "hedge" else _play_swap_hedge
        profiles = play(game, rng, rounds, hedges)
    elif learner == "exp3":
        profiles = _play_exp3(game, rng, rounds, tuned=rate == "tuned")
    else:
        profiles = _play_regret_matching(game, rng, rounds, plus=learner == "regret_matching_plus")
    measured = _measure(game, profiles, marks)
    return NoRegretDynamics(learner=learner, rounds=rounds, seed=seed, learning_rate=rate,
                            payoff_range=game.range, profiles=profiles, checkpoints=marks, **measured)
