r"""Regret measurement: run learners against environments over horizons and seeds, fit the growth exponent.

Regret of a learner playing distributions :math:`p_t` against losses :math:`\ell_t \in [0,1]^K`:

- against an adversary (a fixed, oblivious sequence), the expected-play regret
  :math:`R_T = \sum_{t \le T} \langle p_t, \ell_t \rangle - \min_i \sum_{t \le T} \ell_{t,i}`;
- in a stochastic environment with mean losses :math:`\mu`, the pseudo-regret
  :math:`\bar R_T = \sum_{t \le T} \langle p_t, \mu \rangle - T \min_i \mu_i`.

Both are what the learners' guarantees bound (see :mod:`mechsim.learners`).  Rates are read off a
log-log regression: if :math:`R_T \approx c T^\alpha` then :math:`\log R_T = \log c + \alpha \log T`, and
:func:`fit_regret_exponent` estimates :math:`\alpha` by ordinary least squares on all (horizon, seed)
points with a Student-t confidence interval,
:math:`\hat\alpha \pm t_{n-2, 1-(1-\gamma)/2} \, \hat\sigma / \sqrt{\sum_j (x_j - \bar x)^2}`.
The reference shapes are :math:`\sqrt{T \log K}` (slope 1/2: Hedge, EXP3, regret matching) and
:math:`T^{2/3}` (explore-then-commit).

Environments (all with losses in [0, 1]): :class:`BernoulliLosses` (i.i.d. Bernoulli losses),
:class:`AlternatingLosses` (the classic sequence on which follow-the-leader has linear regret) and
:class:`GapBandit` (a Bernoulli bandit whose best arm beats the others by a gap).

Example
-------
>>> from mechsim.regret import measure_regret, AlternatingLosses
>>> m = measure_regret("hedge", AlternatingLosses(), horizons=[1000, 4000, 16000], seeds=[0])
>>> round(m.fit().slope, 2)  # sqrt(T) growth
0.49
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from mechsim.errors import InvalidInstanceError
from mechsim.learners import (
    Exp3,
    ExploreThenCommit,
    Hedge,
    RegretMatching,
    etc_regret_bound,
    exp3_regret_bound,
    hedge_regret_bound,
    regret_matching_regret_bound,
)
from mechsim.validation import as_generator, check_array, check_choice, check_in_range, check_integer

__all__ = [
    "BernoulliLosses", "AlternatingLosses", "GapBandit", "LEARNERS", "LearnerSpec",
    "RegretCurve", "RegretMeasurement", "RegretFit",
    "run_learner", "measure_regret", "fit_regret_exponent", "reference_curves", "plot_regret",
]

_CHUNK = 1 << 16  # rows of losses generated and processed at a time (bounds memory for long horizons)


# ----------------------------------------------------------------------------------------------------------
# Environments
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BernoulliLosses:
    """I.i.d. losses: ``l_{t,i} ~ Bernoulli(mean_losses[i])`` independently.

    Parameters
    ----------
    mean_losses : array, shape (K,), entries in [0, 1]
    """

    mean_losses: np.ndarray

    def __post_init__(self):
        mu = check_in_range("mean_losses", check_array("mean_losses", self.mean_losses, ndim=1), 0.0, 1.0)
        if mu.size < 1:
            raise InvalidInstanceError("mean_losses: expected at least one action, found none",
                                       argument="mean_losses")
        mu = mu.copy()
        mu.flags.writeable = False
        object.__setattr__(self, "mean_losses", mu)

    @property
    def n_actions(self) -> int:
        return int(self.mean_losses.size)

    @property
    def stochastic(self) -> bool:
        return True

    @property
    def name(self) -> str:
        return "bernoulli"

    def sample(self, start: int, count: int, rng: np.random.Generator) -> np.ndarray:
        """Losses of rounds ``start .. start + count - 1``, shape (count, K)."""
        return (rng.random((count, self.n_actions)) < self.mean_losses).astype(float)


@dataclass(frozen=True)
class GapBandit(BernoulliLosses):
    """Bernoulli bandit: arm 0 has mean reward ``best_reward``, the others ``best_reward - gap``.

    Expressed as losses ``1 - reward`` (mean loss of arm 0 is ``1 - best_reward``).  Built with
    :meth:`make`.
    """

    @classmethod
    def make(cls, n_arms: int = 2, gap: float = 0.1, best_reward: float = 0.5) -> "GapBandit":
        """Bandit with ``n_arms`` arms, one better than the rest by ``gap``."""
        n_arms = check_integer("n_arms", n_arms, minimum=2)
        check_in_range("gap", gap, 0.0, 1.0)
        check_in_range("best_reward", best_reward, 0.0, 1.0)
        if best_reward - gap < 0:
            raise InvalidInstanceError(f"gap: expected at most best_reward = {best_reward}, found {gap}",
                                       argument="gap")
        rewards = np.full(n_arms, best_reward - gap)
        rewards[0] = best_reward
        return cls(1.0 - rewards)

    @property
    def gap(self) -> float:
        mu = np.sort(self.mean_losses)
        return float(mu[1] - mu[0])

    @property
    def name(self) -> str:
        return "gap-bandit"


@dataclass(frozen=True)
class AlternatingLosses:
    """Deterministic sequence on which follow-the-leader suffers linear regret.

    Action 0 and 1 receive ``(1/2, 0)`` in round 1, then ``(0, 1)``, ``(1, 0)``, ``(0, 1)``, ... so the
    leader always switches to the action about to lose; further actions (if ``n_actions > 2``) always lose 1.
    Both of the first two actions accumulate about ``T/2``.
    """

    n_actions: int = 2

    def __post_init__(self):
        check_integer("n_actions", self.n_actions, minimum=2)

    @property
    def stochastic(self) -> bool:
        return False

    @property
    def mean_losses(self) -> None:
        return None

    @property
    def name(self) -> str:
        return "alternating"

    def sample(self, start: int, count: int, rng=None) -> np.ndarray:
        """Losses of rounds ``start .. start + count - 1`` (0-based), shape (count, K)."""
        t = np.arange(start, start + count)
        out = np.ones((count, self.n_actions))
        even = (t % 2 == 1).astype(float)  # rounds 2, 4, ... (0-based odd): (0, 1)
        out[:, 0] = 1.0 - even
        out[:, 1] = even
        if start == 0 and count:
            out[0, :2] = (0.5, 0.0)
        return out


# ----------------------------------------------------------------------------------------------------------
# Learners by name
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LearnerSpec:
    """How :func:`run_learner` builds and drives a learner.

    Attributes
    ----------
    name : str
    make : callable ``(n_actions, horizon, seed) -> learner``
    feedback : {"losses", "utilities", "rewards"}
        What the learner's ``run`` takes (losses are converted as ``1 - loss``).
    anytime : bool
        Not tuned to the horizon: one run gives the regret at every horizon.
    bound : callable ``(horizon, n_actions) -> float``
        Theoretical bound on the measured regret (losses in [0, 1]).
    """

    name: str
    make: Callable
    feedback: str
    anytime: bool
    bound: Callable


LEARNERS: dict[str, LearnerSpec] = {
    "hedge": LearnerSpec("hedge", lambda k, t, s: Hedge(k, horizon=t, seed=s), "losses", False,
                         lambda t, k: hedge_regret_bound(t, k)),
    "hedge-anytime": LearnerSpec("hedge-anytime", lambda k, t, s: Hedge(k, seed=s), "losses", True,
                                 lambda t, k: hedge_regret_bound(t, k, anytime=True)),
    "exp3": LearnerSpec("exp3", lambda k, t, s: Exp3(k, horizon=t, seed=s), "losses", False,
                        lambda t, k: exp3_regret_bound(t, k)),
    "exp3-anytime": LearnerSpec("exp3-anytime", lambda k, t, s: Exp3(k, seed=s), "losses", True,
                                lambda t, k: exp3_regret_bound(t, k, anytime=True)),
    "regret-matching": LearnerSpec("regret-matching", lambda k, t, s: RegretMatching(k, seed=s), "utilities",
                                   True, lambda t, k: regret_matching_regret_bound(t, k)),
    "regret-matching+": LearnerSpec("regret-matching+", lambda k, t, s: RegretMatching(k, plus=True, seed=s),
                                    "utilities", True, lambda t, k: regret_matching_regret_bound(t, k)),
    "explore-then-commit": LearnerSpec("explore-then-commit", lambda k, t, s: ExploreThenCommit(k, t, seed=s),
                                       "rewards", False, lambda t, k: etc_regret_bound(t, k)),
}


def _spec(learner) -> LearnerSpec:
    if isinstance(learner, LearnerSpec):
        return learner
    check_choice("learner", learner, tuple(LEARNERS))
    return LEARNERS[learner]


# ----------------------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegretCurve:
    """Regret of one run at checkpoint rounds.

    Attributes
    ----------
    rounds : ndarray of int, shape (n,)
    regret : ndarray, shape (n,)
        Expected-play regret (adversary) or pseudo-regret (stochastic environment) after each round.
    """

    rounds: np.ndarray
    regret: np.ndarray


def run_learner(learner, environment, horizon: int, seed=None, checkpoints=None) -> RegretCurve:
    """Run one learner for ``horizon`` rounds and record its cumulative regret at ``checkpoints``.

    Parameters
    ----------
    learner : str or LearnerSpec
        A name in :data:`LEARNERS` (``"hedge"``, ``"exp3"``, ``"regret-matching"``, ...).
    environment : BernoulliLosses, GapBandit or AlternatingLosses (or any object with ``n_actions``,
        ``stochastic``, ``mean_losses`` and ``sample(start, count, rng)``)
    horizon : int
        Rounds ``T`` (horizon-tuned learners are tuned to it).
    seed : int or SeedSequence, optional
        Drives both the environment and the learner (independent child streams).
    checkpoints : array of int, optional
        Rounds (1..T) at which to record the regret; default ``[T]``.

    Returns
    -------
    RegretCurve
    """
    spec = _spec(learner)
    horizon = check_integer("horizon", horizon, minimum=1)
    if checkpoints is None:
        checkpoints = np.array([horizon])
    checkpoints = np.unique(check_array("checkpoints", checkpoints, ndim=1, dtype=np.int64))
    if checkpoints.size == 0 or checkpoints.min() < 1 or checkpoints.max() > horizon:
        raise InvalidInstanceError(f"checkpoints: expected rounds in [1, {horizon}], found {checkpoints}",
                                   argument="checkpoints")
    if isinstance(seed, np.random.SeedSequence):
        seq = seed
    elif seed is None or isinstance(seed, np.random.Generator):
        seq = np.random.SeedSequence(int(as_generator(seed).integers(2**63)))
    else:
        seq = np.random.SeedSequence(check_integer("seed", seed, minimum=0))
    env_seq, learner_seq = seq.spawn(2)
    env_rng = np.random.default_rng(env_seq)
    k = environment.n_actions
    agent = spec.make(k, horizon, np.random.default_rng(learner_seq))
    mu = environment.mean_losses if environment.stochastic else None

    col_totals = np.zeros(k)  # cumulative loss of each fixed action
    learner_total = 0.0  # cumulative expected (or mean-expected) loss of the learner
    out = np.empty(checkpoints.size)
    ci = 0
    for start in range(0, horizon, _CHUNK):
        count = min(_CHUNK, horizon - start)
        losses = environment.sample(start, count, env_rng)
        if spec.feedback == "losses":
            trace = agent.run(losses, mean_losses=mu)
            per_round = trace.mean_expected if mu is not None else trace.expected
        elif spec.feedback == "utilities":
            trace = agent.run(1.0 - losses, mean_utilities=None if mu is None else 1.0 - mu,
                              sample_actions=False)
            per_round = 1.0 - (trace.mean_expected if mu is not None else trace.expected)
        else:
            trace = agent.run(1.0 - losses, mean_rewards=None if mu is None else 1.0 - mu)
            per_round = 1.0 - (trace.mean_expected if mu is not None else trace.expected)
        learner_cum = learner_total + np.cumsum(per_round)
        rounds_here = checkpoints[(checkpoints > start) & (checkpoints <= start + count)]
        if rounds_here.size:
            idx = rounds_here - start - 1
            if mu is not None:
                best = rounds_here * mu.min()
            else:
                best = (np.cumsum(losses, axis=0)[idx] + col_totals).min(axis=1)
            out[ci:ci + rounds_here.size] = learner_cum[idx] - best
            ci += rounds_here.size
        learner_total = learner_cum[-1]
        col_totals = col_totals + losses.sum(axis=0)
    return RegretCurve(checkpoints, out)


@dataclass(frozen=True)
class RegretFit:
    """Log-log least-squares fit ``log R = intercept + slope log T``.

    Attributes
    ----------
    slope : float
        Estimated exponent ``alpha``.
    ci_low, ci_high : float
        Confidence interval of the slope (Student t with ``n - 2`` degrees of freedom).
    intercept : float
        ``log c`` (natural log).
    stderr : float
        Standard error of the slope.
    n_points : int
    confidence : float
    """

    slope: float
    ci_low: float
    ci_high: float
    intercept: float
    stderr: float
    n_points: int
    confidence: float

    def predict(self, horizons) -> np.ndarray:
        """Fitted curve ``exp(intercept) T^slope``."""
        return np.exp(self.intercept) * np.asarray(horizons, dtype=float) ** self.slope

    def contains(self, exponent: float) -> bool:
        """Whether ``exponent`` lies in the confidence interval."""
        return self.ci_low <= exponent <= self.ci_high


def fit_regret_exponent(horizons, regrets, confidence: float = 0.95) -> RegretFit:
    """Fit the exponent of ``R_T ~ c T^alpha`` by OLS on log-log scale, with a t confidence interval.

    Parameters
    ----------
    horizons : array, shape (n,)
        Horizons ``T > 0`` (at least two distinct values).
    regrets : array, shape (n,) or (n_seeds, n)
        Positive regrets; with several seeds every (horizon, seed) pair is one point.
    confidence : float
        Level of the interval, in (0, 1).

    Returns
    -------
    RegretFit
    """
    t = check_array("horizons", horizons, ndim=1)
    r = check_array("regrets", regrets)
    if r.ndim == 1:
        r = r[None, :]
    if r.ndim != 2 or r.shape[1] != t.size:
        raise InvalidInstanceError(f"regrets: expected shape ({t.size},) or (n_seeds, {t.size}), one column per "
                                   f"entry of horizons, found {np.shape(regrets)}", argument="regrets")
    if np.any(t <= 0):
        raise InvalidInstanceError(f"horizons: expected positive values, found {t.min():.6g}",
                                   argument="horizons")
    if np.any(r <= 0):
        bad = tuple(int(i) for i in np.argwhere(r <= 0)[0])
        raise InvalidInstanceError(f"regrets: expected positive values (log-log fit), found {r[bad]:.6g} at "
                                   f"index {bad}", argument="regrets")
    if not 0 < confidence < 1:
        raise InvalidInstanceError(f"confidence: expected a level in (0, 1), found {confidence!r}",
                                   argument="confidence")
    x = np.broadcast_to(np.log(t), r.shape).ravel()
    y = np.log(r).ravel()
    n = x.size
    if np.unique(t).size < 2 or n < 3:
        raise InvalidInstanceError(f"horizons: expected at least two distinct horizons and three points (entries of "
                                   f"regrets), found {np.unique(t).size} distinct and {n} points", argument="horizons")
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    slope = float(((x - xm) * (y - ym)).sum() / sxx)
    intercept = float(ym - slope * xm)
    resid = y - intercept - slope * x
    s2 = float((resid ** 2).sum() / (n - 2))
    se = math.sqrt(s2 / sxx)
    q = float(stats.t.ppf(0.5 + confidence / 2, n - 2))
    return RegretFit(slope, slope - q * se, slope + q * se, intercept, se, n, confidence)


# ----------------------------------------------------------------------------------------------------------
# Measurement over horizons and seeds
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegretMeasurement:
    """Regret of one learner in one environment, for every (seed, horizon).

    Attributes
    ----------
    learner : str
    environment : str
    n_actions : int
    horizons : ndarray of int, shape (H,)
    seeds : tuple of int
    regrets : ndarray, shape (S, H)
    bounds : ndarray, shape (H,)
        The learner's theoretical bound at each horizon.
    """

    learner: str
    environment: str
    n_actions: int
    horizons: np.ndarray
    seeds: tuple
    regrets: np.ndarray
    bounds: np.ndarray

    def fit(self, confidence: float = 0.95) -> RegretFit:
        """:func:`fit_regret_exponent` on all (seed, horizon) points."""
        return fit_regret_exponent(self.horizons, self.regrets, confidence)

    @property
    def mean(self) -> np.ndarray:
        """Mean regret over seeds, shape (H,)."""
        return self.regrets.mean(axis=0)


def measure_regret(learner, environment, horizons: Sequence[int], seeds: Sequence[int]) -> RegretMeasurement:
    """Regret of ``learner`` at every horizon, for every seed.

    Horizon-tuned learners (``hedge``, ``exp3``, ``explore-then-commit``) get an independent run per
    (seed, horizon), tuned to that horizon; anytime learners get one run per seed, read at every horizon.
    Seed ``s`` at horizon ``T`` uses the seed sequence ``SeedSequence([s, T])`` (``[s]`` for anytime runs),
    so a cell can be recomputed alone.
    """
    spec = _spec(learner)
    hs = np.unique(check_array("horizons", horizons, ndim=1, dtype=np.int64))
    if hs.size == 0 or hs.min() < 1:
        raise InvalidInstanceError(f"horizons: expected positive integers, found {list(horizons)}",
                                   argument="horizons")
    seeds = tuple(check_integer("seeds", s, minimum=0) for s in seeds)
    rows = []
    for s in seeds:
        if spec.anytime:
            curve = run_learner(spec, environment, int(hs[-1]), np.random.SeedSequence([s]), checkpoints=hs)
            rows.append(curve.regret)
        else:
            rows.append([run_learner(spec, environment, int(T), np.random.SeedSequence([s, int(T)])).regret[0]
                         for T in hs])
    k = environment.n_actions
    bounds = np.array([float(spec.bound(int(T), k)) for T in hs])
    return RegretMeasurement(spec.name, environment.name, k, hs, seeds, np.asarray(rows, dtype=float), bounds)


def reference_curves(horizons, n_actions: int) -> dict[str, np.ndarray]:
    """The reference shapes ``sqrt(T log K)`` and ``T^(2/3)`` at the given horizons."""
    t = np.asarray(horizons, dtype=float)
    return {"sqrt(T log K)": np.sqrt(t * math.log(n_actions)), "T^(2/3)": t ** (2.0 / 3.0)}


def plot_regret(measurements: Sequence[RegretMeasurement], *, show_bounds: bool = True,
                references: Sequence[str] = ("sqrt(T log K)", "T^(2/3)"), title: str | None = None):
    """Log-log plot of regret against horizon: mean over seeds with min-max band, bounds and references.

    Reference curves are scaled to meet the first measurement's mean at the smallest horizon, so that only
    their slopes are compared.  Returns a matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, m in enumerate(measurements):
        c = colors[i % len(colors)]
        fit = m.fit() if m.regrets.size >= 3 and np.all(m.regrets > 0) and m.horizons.size >= 2 else None
        label = f"{m.learner} / {m.environment}"
        if fit is not None:
            label += f" (slope {fit.slope:.2f} [{fit.ci_low:.2f}, {fit.ci_high:.2f}])"
        ax.plot(m.horizons, m.mean, "o-", color=c, label=label)
        if m.regrets.shape[0] > 1:
            ax.fill_between(m.horizons, m.regrets.min(axis=0), m.regrets.max(axis=0), color=c, alpha=0.2)
        if show_bounds:
            ax.plot(m.horizons, m.bounds, ":", color=c, label=f"bound: {m.learner} / {m.environment}")
    if measurements:
        m0 = measurements[0]
        ref = reference_curves(m0.horizons, max(m0.n_actions, 2))
        for style, name in zip(("--", "-."), references):
            curve = ref[name]
            anchor = m0.mean[0] if m0.mean[0] > 0 else 1.0
            ax.plot(m0.horizons, curve * anchor / curve[0], style, color="gray", label=f"{name} (shape)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("horizon T")
    ax.set_ylabel("regret")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7)
    ax.grid(True, which="both", alpha=0.3)
    return fig
