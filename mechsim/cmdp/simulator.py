r"""A synthetic short-video user simulator (numpy only), calibrated to logged per-request means.

Each request the system shows one item ``j`` to a user; the user answers with a vector of signals
``(watch_time, click, like, follow, comment, share, hate)``.

**Items** (a fixed catalogue): unit-norm embedding ``e_j`` in ``R^d`` scattered around one of ``n_topics``
topic centres, duration ``D_j ~ LogNormal(log 20 s, 0.6)`` and quality ``q_j ~ Beta(2, 2)`` in ``(0, 1)``.

**Users**: unit-norm latent interest ``u``, an activity bias ``b_user ~ N(0, activity_sd^2)``, a temper
``T_0 ~ Uniform(temper_init +- temper_spread)`` (patience) and the last ``H`` items shown.

**Responses.**  With ``sim_j = max_{h in last H} <e_h, e_j>`` (0 before anything was shown) and
``ell_j = log(D_j / 20 s)``, every signal ``f`` has the logit

.. math::

    z_f = a_f \langle u, e_j\rangle + c_f q_j - \rho_f\,\mathrm{sim}_j - \kappa_f \ell_j + b_f + b_{user}.

The binary signals (click, like, follow, comment, share, hate) are Bernoulli(``sigmoid(z_f)``) draws; hate has
a negative ``a_f`` and a positive ``rho_f`` (repetition and poor matches annoy).  The watched fraction is
``w = sigmoid(z_watch + sigma_w * xi)`` with ``xi ~ N(0, 1)``, and the watch time is ``D_j * w`` seconds.  The
duration term ``kappa_f ell_j`` is mechsim's addition to the plain linear logit: long videos are watched to a
smaller fraction and get fewer interactions per view (short clips collect likes), which is what puts watch time
and likes at odds.

**Dynamics.**  Interest drifts toward engaging items, ``u <- normalise(u + eta * w * e_j)``.  The temper
moves by ``clip(s - 2, -2, 0)`` with the weighted response ``s = omega . (w, click, like, ..., hate)``; the
user leaves (the episode terminates) once the temper falls below 1.

**Calibration.**  The biases ``b_f`` are set so that a uniformly random recommender (every request shows a
uniformly random catalogue item) reproduces the logged per-request means of KuaiRand reported by Cai et al.
(2023): click 0.5338, like 0.01231, follow 0.000461, comment 0.003225, share (forward) 0.001119,
hate 0.0002304, watch time 12.85 s.  :data:`CALIBRATED_BIASES` stores the result of :func:`calibrate` for the
default :class:`SimulatorConfig`; :func:`calibrate` reproduces it by root finding on simulated means with
common random numbers.  Means are *per request* (averaged over every user-step of every session) and are
estimated with the response probabilities, not the 0/1 draws, so that rare signals (hate, 2e-4) are
measured precisely from a few thousand sessions.

Everything is vectorised over a batch of users; the Gymnasium environments in :mod:`mechsim.envs.recommender`
drive a batch of one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import (
    _scalar,
    as_generator,
    check_allocation,
    check_array,
    check_integer,
    check_nonnegative,
    check_positive,
)

__all__ = [
    "AUXILIARY_SIGNALS",
    "CALIBRATED_BIASES",
    "LOGGED_MEANS",
    "SIGNAL_NAMES",
    "Catalogue",
    "ShortVideoSimulator",
    "SimulatorConfig",
    "StepOutcome",
    "UserState",
    "calibrate",
    "expected_responses",
    "expected_watched_fraction",
    "make_catalogue",
    "random_policy_means",
    "response_logits",
]

#: Order of the signal vector (index 0 is watch time in seconds; the rest are 0/1 interactions).
SIGNAL_NAMES: tuple[str, ...] = ("watch_time", "click", "like", "follow", "comment", "share", "hate")
#: The auxiliary (binary) signals, in signal order.
AUXILIARY_SIGNALS: tuple[str, ...] = SIGNAL_NAMES[1:]

#: Logged per-request means of KuaiRand (behaviour policy), Cai et al. 2023, Table 2 and section 5.
LOGGED_MEANS: dict[str, float] = {
    "watch_time": 12.85, "click": 0.5338, "like": 0.01231, "follow": 0.000461,
    "comment": 0.003225, "share": 0.001119, "hate": 0.0002304,
}

#: Biases ``b_f`` (signal order) found by :func:`calibrate` for the default :class:`SimulatorConfig`
#: (``calibrate(SimulatorConfig(), n_users=4000, seed=0)``).
CALIBRATED_BIASES: tuple[float, ...] = (0.021566, -0.100208, -6.280416, -8.72003, -6.893294, -8.142548, -7.303197)

_REFERENCE_DURATION = 20.0
# Gauss-Hermite (probabilists') nodes for E[sigmoid(z + sigma xi)], xi ~ N(0, 1).
_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
_GH_WEIGHTS = _GH_WEIGHTS / _GH_WEIGHTS.sum()


def _default(values):
    return field(default_factory=lambda: tuple(values))


@dataclass(frozen=True)
class SimulatorConfig:
    """Parameters of the user and item model (coefficient tuples are in :data:`SIGNAL_NAMES` order).

    Parameters
    ----------
    n_items : int
        Catalogue size.
    dim : int
        Embedding dimension ``d`` (8 by default; any value >= 2 works).
    n_topics : int
        Number of topic centres the item embeddings scatter around.
    topic_spread : float
        Noise scale of an item embedding around its topic centre (before normalising).
    history : int
        ``H``, how many recent items enter the repetition similarity ``sim_j``.
    affinity, quality, repetition, duration : tuple of 7 floats
        ``a_f``, ``c_f``, ``rho_f``, ``kappa_f`` of the logit of each signal.
    biases : tuple of 7 floats
        ``b_f``; defaults to :data:`CALIBRATED_BIASES`.
    watch_noise : float
        ``sigma_w``, the noise on the watched-fraction logit.
    activity_sd : float
        Standard deviation of the per-user bias ``b_user``.
    drift : float
        ``eta``, how fast interest moves toward watched items.
    temper_init, temper_spread : float
        Initial temper is uniform on ``temper_init +- temper_spread``.
    temper_weights : tuple of 7 floats
        ``omega``: weights of (watched fraction, click, like, follow, comment, share, hate) in the
        weighted response; the temper changes by ``clip(s - 2, -2, 0)``.
    leave_threshold : float
        The user leaves when the temper falls below it.
    catalogue_seed : int
        Seed of the item catalogue (the world is fixed; users are drawn per session).
    """

    n_items: int = 2000
    dim: int = 8
    n_topics: int = 8
    topic_spread: float = 0.6
    history: int = 5
    affinity: tuple = _default((2.0, 1.5, 2.0, 1.5, 1.5, 1.5, -2.0))
    quality: tuple = _default((1.0, 0.5, 2.5, 1.5, 1.5, 2.0, -1.5))
    repetition: tuple = _default((0.8, 0.5, 0.5, 0.5, 0.3, 0.5, 1.5))
    duration: tuple = _default((0.6, 0.0, 1.0, 0.5, 0.6, 0.6, 0.0))
    biases: tuple = _default(CALIBRATED_BIASES)
    watch_noise: float = 0.7
    activity_sd: float = 0.3
    drift: float = 0.15
    temper_init: float = 20.0
    temper_spread: float = 2.0
    temper_weights: tuple = _default((2.5, 0.6, 2.0, 2.0, 1.0, 2.0, -4.0))
    leave_threshold: float = 1.0
    catalogue_seed: int = 12345

    def __post_init__(self):
        check_integer("n_items", self.n_items, minimum=1)
        check_integer("dim", self.dim, minimum=2)
        check_integer("n_topics", self.n_topics, minimum=1)
        check_integer("history", self.history, minimum=1)
        check_integer("catalogue_seed", self.catalogue_seed, minimum=0)
        n, d, t, h = self.n_items, self.dim, self.n_topics, self.history
        check_allocation("n_items", 8.0 * (n * (d + 12) + t * d),
                         f"a catalogue of n_items={n} items and n_topics={t} topic centres in dim={d} dimensions")
        check_allocation("history", 8.0 * (h + 1) * d, f"a user's history of history={h} items in dim={d} dimensions")
        for name in ("affinity", "quality", "repetition", "duration", "biases", "temper_weights"):
            arr = check_array(name, getattr(self, name), ndim=1, shape=(len(SIGNAL_NAMES),))
            object.__setattr__(self, name, tuple(float(x) for x in arr))
        for name in ("topic_spread", "watch_noise", "activity_sd", "drift", "temper_spread"):
            check_nonnegative(name, getattr(self, name))
        check_positive("temper_init", self.temper_init)
        _scalar("leave_threshold", self.leave_threshold)
        if not self.temper_init - self.temper_spread > self.leave_threshold:
            raise InvalidInstanceError(
                f"temper_init: expected temper_init - temper_spread > leave_threshold "
                f"({self.leave_threshold}), found {self.temper_init} - {self.temper_spread}",
                argument="temper_init")

    def coefficient_matrix(self) -> np.ndarray:
        """``(5, 7)`` array: rows affinity, quality, repetition, duration, bias."""
        return np.array([self.affinity, self.quality, self.repetition, self.duration, self.biases])


@dataclass(frozen=True)
class Catalogue:
    """The item catalogue.

    Attributes
    ----------
    embeddings : ndarray (n_items, d), unit rows
    topics : ndarray (n_items,) int
    durations : ndarray (n_items,) seconds
    quality : ndarray (n_items,) in (0, 1)
    topic_centres : ndarray (n_topics, d), unit rows
    """

    embeddings: np.ndarray
    topics: np.ndarray
    durations: np.ndarray
    quality: np.ndarray
    topic_centres: np.ndarray

    @property
    def log_durations(self) -> np.ndarray:
        """``log(D_j / 20 s)``."""
        return np.log(self.durations / _REFERENCE_DURATION)

    @property
    def n_items(self) -> int:
        return self.embeddings.shape[0]


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def make_catalogue(config: SimulatorConfig) -> Catalogue:
    """Draw the catalogue of ``config`` from ``config.catalogue_seed``."""
    rng = np.random.default_rng(config.catalogue_seed)
    d = config.dim
    centres = _normalise_rows(rng.standard_normal((config.n_topics, d)))
    topics = rng.integers(config.n_topics, size=config.n_items)
    noise = rng.standard_normal((config.n_items, d)) * (config.topic_spread / math.sqrt(d))
    embeddings = _normalise_rows(centres[topics] + noise)
    durations = np.exp(math.log(_REFERENCE_DURATION) + 0.6 * rng.standard_normal(config.n_items))
    quality = rng.beta(2.0, 2.0, size=config.n_items)
    return Catalogue(embeddings=embeddings, topics=topics, durations=durations, quality=quality,
                     topic_centres=centres)


def response_logits(config: SimulatorConfig, affinity, quality, similarity, log_duration, activity) -> np.ndarray:
    """Logits ``z_f`` of every signal, broadcast over the inputs; the signal axis is last (length 7).

    Index 0 is the watched-fraction logit (before the noise ``sigma_w xi``).
    """
    coef = config.coefficient_matrix()
    affinity, quality, similarity, log_duration, activity = (
        np.asarray(x, dtype=float)[..., None] for x in (affinity, quality, similarity, log_duration, activity))
    return (coef[0] * affinity + coef[1] * quality - coef[2] * similarity - coef[3] * log_duration
            + coef[4] + activity)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def expected_responses(config: SimulatorConfig, affinity, quality, similarity, duration, activity=0.0
                       ) -> np.ndarray:
    """Expected signal vector (watch seconds, then interaction probabilities), signal axis last.

    ``E[D sigmoid(z_watch + sigma_w xi)]`` is computed with 24-point Gauss-Hermite quadrature (error far
    below 1e-8 for these logits).
    """
    duration = np.asarray(duration, dtype=float)
    logits = response_logits(config, affinity, quality, similarity, np.log(duration / _REFERENCE_DURATION),
                             activity)
    out = _sigmoid(logits)
    frac = _sigmoid(logits[..., :1] + config.watch_noise * _GH_NODES) @ _GH_WEIGHTS
    out[..., 0] = duration * frac
    return out


def expected_watched_fraction(config: SimulatorConfig, watch_logit) -> np.ndarray:
    """``E[sigmoid(z + sigma_w xi)]`` by Gauss-Hermite quadrature."""
    z = np.asarray(watch_logit, dtype=float)[..., None]
    return _sigmoid(z + config.watch_noise * _GH_NODES) @ _GH_WEIGHTS


@dataclass
class UserState:
    """Mutable state of a batch of ``n`` users.

    Attributes
    ----------
    interest : ndarray (n, d), unit rows
    activity : ndarray (n,)
    temper : ndarray (n,)
    history : ndarray (n, H, d) embeddings of the last items shown (ring buffer, newest at ``cursor - 1``)
    n_seen : ndarray (n,) int, items shown so far (entries of ``history`` beyond it are unused)
    """

    interest: np.ndarray
    activity: np.ndarray
    temper: np.ndarray
    history: np.ndarray
    n_seen: np.ndarray

    @property
    def size(self) -> int:
        return self.interest.shape[0]


@dataclass(frozen=True)
class StepOutcome:
    """What one request produced for each user of a batch.

    Attributes
    ----------
    signals : ndarray (n, 7)
        Watch seconds, then 0/1 interactions, in :data:`SIGNAL_NAMES` order.
    expected : ndarray (n, 7)
        Their conditional expectations given the state and the item (watch seconds via quadrature,
        interaction probabilities).
    watched_fraction : ndarray (n,)
    left : ndarray (n,) bool
        Users whose temper fell below the threshold (the session ends).
    """

    signals: np.ndarray
    expected: np.ndarray
    watched_fraction: np.ndarray
    left: np.ndarray


class ShortVideoSimulator:
    """Vectorised user simulator over a fixed catalogue.

    Parameters
    ----------
    config : SimulatorConfig, optional
    catalogue : Catalogue, optional
        Items to use instead of the catalogue drawn from ``config.catalogue_seed`` (its embedding
        dimension must be ``config.dim``); e.g. one item per type of the tabular twin.

    Examples
    --------
    >>> sim = ShortVideoSimulator()
    >>> users = sim.sample_users(3, seed=0)
    >>> out = sim.step(users, items=[0, 1, 2], seed=1)
    >>> out.signals.shape
    (3, 7)
    """

    def __init__(self, config: SimulatorConfig | None = None, catalogue: Catalogue | None = None):
        if config is None:
            config = SimulatorConfig()
        if not isinstance(config, SimulatorConfig):
            raise InvalidInstanceError(f"config: expected a SimulatorConfig, found {type(config).__name__}",
                                       argument="config")
        self.config = config
        if catalogue is None:
            catalogue = make_catalogue(config)
        elif not isinstance(catalogue, Catalogue) or catalogue.embeddings.ndim != 2 \
                or catalogue.embeddings.shape[1] != config.dim:
            raise InvalidInstanceError(
                f"catalogue: expected a Catalogue with embeddings of shape (n_items, {config.dim}), found "
                f"{type(catalogue).__name__}", argument="catalogue")
        self.catalogue = catalogue
        self._coef = config.coefficient_matrix()
        self._log_dur = self.catalogue.log_durations
        self._temper_weights = np.asarray(config.temper_weights)

    # ------------------------------------------------------------------ users
    def sample_users(self, n: int, seed=None) -> UserState:
        """Draw ``n`` fresh users (empty history)."""
        n = check_integer("n", n, minimum=1)
        cfg = self.config
        check_allocation("n", 8.0 * n * (cfg.dim * (cfg.history + 1) + 4), f"the state of n={n} users")
        rng = as_generator(seed)
        interest = _normalise_rows(rng.standard_normal((n, cfg.dim)))
        activity = cfg.activity_sd * rng.standard_normal(n)
        temper = cfg.temper_init + cfg.temper_spread * (2.0 * rng.random(n) - 1.0)
        return UserState(interest=interest, activity=activity, temper=temper,
                         history=np.zeros((n, cfg.history, cfg.dim)), n_seen=np.zeros(n, dtype=np.int64))

    def _check_items(self, items, n: int) -> np.ndarray:
        """``items`` as integer catalogue indices of shape ``(n,)``."""
        arr = np.asarray(items) if isinstance(items, (np.ndarray, list, tuple)) else None
        if arr is None or arr.dtype.kind not in "iu":
            raise InvalidInstanceError(f"items: expected integer catalogue indices, found "
                                       f"{type(items).__name__ if arr is None else arr.dtype}", argument="items")
        if arr.shape != (n,):
            raise InvalidInstanceError(f"items: expected shape ({n},), one item per user, found {arr.shape}",
                                       argument="items")
        if arr.size and (arr.min() < 0 or arr.max() >= self.catalogue.n_items):
            raise InvalidInstanceError(f"items: expected indices in 0..{self.catalogue.n_items - 1}, found "
                                       f"{arr.min()}..{arr.max()}", argument="items")
        return arr

    def similarity(self, users: UserState, items) -> np.ndarray:
        """``sim`` of candidate items: max inner product with the last ``H`` items shown, 0 if none.

        ``items`` has shape ``(n,)`` or ``(n, K)``; the result has the same shape.
        """
        items = np.asarray(items)
        emb = self.catalogue.embeddings[items]
        squeeze = emb.ndim == 2
        if squeeze:
            emb = emb[:, None, :]
        dots = np.einsum("nkd,nhd->nkh", emb, users.history)
        H = self.config.history
        if np.any(users.n_seen < H):
            unused = np.arange(H)[None, :] >= users.n_seen[:, None]  # ring slots not yet filled
            dots = np.where(unused[:, None, :], -np.inf, dots)
            sim = dots.max(axis=2)
            sim = np.where(np.isneginf(sim), 0.0, sim)
        else:
            sim = dots.max(axis=2)
        return sim[:, 0] if squeeze else sim

    def affinity(self, users: UserState, items) -> np.ndarray:
        """``<u, e_j>`` for items of shape ``(n,)`` or ``(n, K)``."""
        items = np.asarray(items)
        emb = self.catalogue.embeddings[items]
        if emb.ndim == 2:
            return np.einsum("nd,nd->n", emb, users.interest)
        return np.einsum("nkd,nd->nk", emb, users.interest)

    def logits(self, users: UserState, items, similarity=None) -> np.ndarray:
        """Logits ``(n, 7)`` of showing ``items[i]`` to user ``i``."""
        items = np.asarray(items)
        if similarity is None:
            similarity = self.similarity(users, items)
        c = self._coef
        return (c[0] * self.affinity(users, items)[:, None] + c[1] * self.catalogue.quality[items][:, None]
                - c[2] * np.asarray(similarity)[:, None] - c[3] * self._log_dur[items][:, None] + c[4]
                + users.activity[:, None])

    # ------------------------------------------------------------------ dynamics
    def step(self, users: UserState, items, seed=None, *, active=None, similarity=None) -> StepOutcome:
        """Show ``items[i]`` to user ``i``, draw the responses and update the users in place.

        Parameters
        ----------
        users : UserState
            Batch of ``n`` users (modified in place: interest, temper, history).
        items : array_like of int, shape (n,)
        seed : int or Generator
        active : bool array (n,), optional
            Users to update; others are left unchanged (their outcome rows are still computed).
        similarity : array (n,), optional
            Pre-computed ``sim`` of the items (saves work when the caller already has it).
        """
        if not isinstance(users, UserState):
            raise InvalidInstanceError(f"users: expected a UserState (from sample_users), found {type(users).__name__}",
                                       argument="users")
        rng = as_generator(seed)
        items = self._check_items(items, users.size)
        n = users.size
        cfg = self.config
        logits = self.logits(users, items, similarity)
        probs = _sigmoid(logits)
        durations = self.catalogue.durations[items]
        noise = rng.standard_normal(n)
        frac = _sigmoid(logits[:, 0] + cfg.watch_noise * noise)
        draws = rng.random((n, 6)) < probs[:, 1:]
        signals = np.empty((n, 7))
        signals[:, 0] = durations * frac
        signals[:, 1:] = draws
        expected = probs
        expected[:, 0] = durations * expected_watched_fraction(cfg, logits[:, 0])
        left = self._update(users, items, frac, draws, active)
        return StepOutcome(signals=signals, expected=expected, watched_fraction=frac, left=left)

    def _update(self, users: UserState, items, frac, draws, active) -> np.ndarray:
        cfg = self.config
        emb = self.catalogue.embeddings[items]
        score = frac * self._temper_weights[0] + draws @ self._temper_weights[1:]
        delta = np.clip(score - 2.0, -2.0, 0.0)
        new_interest = _normalise_rows(users.interest + (cfg.drift * frac)[:, None] * emb)
        slot = users.n_seen % cfg.history
        if active is None:
            users.temper += delta
            users.interest[...] = new_interest
            users.history[np.arange(users.size), slot] = emb
            users.n_seen += 1
        else:
            active = np.asarray(active, dtype=bool)
            users.temper[active] += delta[active]
            users.interest[active] = new_interest[active]
            idx = np.flatnonzero(active)
            users.history[idx, slot[idx]] = emb[idx]
            users.n_seen[active] += 1
        return users.temper < cfg.leave_threshold


def random_policy_means(config: SimulatorConfig | None = None, *, n_users: int = 4000, max_steps: int = 100,
                        seed=0, simulator: ShortVideoSimulator | None = None) -> dict[str, float]:
    """Per-request means of every signal when each request shows a uniformly random catalogue item.

    Sessions end when the user leaves or after ``max_steps`` requests.  Means are over all user-steps,
    computed from the conditional expectations (:attr:`StepOutcome.expected`), an unbiased and much less
    noisy estimate of the realised per-request rate.  Also returns ``"session_length"``.
    """
    if simulator is not None and not isinstance(simulator, ShortVideoSimulator):
        raise InvalidInstanceError(f"simulator: expected a ShortVideoSimulator, found {type(simulator).__name__}",
                                   argument="simulator")
    sim = simulator if simulator is not None else ShortVideoSimulator(config)
    n_users = check_integer("n_users", n_users, minimum=1)
    max_steps = check_integer("max_steps", max_steps, minimum=1)
    cfg = sim.config
    check_allocation("n_users", 8.0 * n_users * (cfg.dim * (cfg.history + 2) + 24),
                     f"the state and responses of n_users={n_users} users")
    rng = as_generator(seed)
    users = sim.sample_users(n_users, seed=rng)
    active = np.ones(n_users, dtype=bool)
    totals = np.zeros(len(SIGNAL_NAMES))
    steps = 0
    for _ in range(max_steps):
        items = rng.integers(sim.catalogue.n_items, size=n_users)
        out = sim.step(users, items, seed=rng, active=active)
        totals += out.expected[active].sum(axis=0)
        steps += int(active.sum())
        active &= ~out.left
        if not active.any():
            break
    means = {name: float(t / steps) for name, t in zip(SIGNAL_NAMES, totals)}
    means["session_length"] = steps / n_users
    return means


def calibrate(config: SimulatorConfig | None = None, *, targets: dict[str, float] | None = None,
              n_users: int = 4000, max_steps: int = 100, seed=0, rtol: float = 2e-3,
              max_iter: int = 60) -> tuple[float, ...]:
    """Find the biases ``b_f`` so that a uniformly random policy matches ``targets`` (per-request means).

    Root finding with common random numbers (the same ``seed`` for every evaluation, so the simulated means
    are a deterministic function of the biases): each round moves every interaction bias by
    ``logit(target) - logit(mean)`` and the watch bias by a secant step on ``log(mean watch)``; the
    signals interact only through the session dynamics, so this fixed-point iteration contracts quickly.

    Parameters
    ----------
    config : SimulatorConfig, optional
        Model whose biases are tuned (its own biases are the starting point).
    targets : dict, optional
        Per-request means keyed by :data:`SIGNAL_NAMES`; default :data:`LOGGED_MEANS`.
    n_users, max_steps, seed
        Size of the simulated population (see :func:`random_policy_means`).
    rtol : float
        Stop when every mean is within this relative error of its target.
    max_iter : int

    Returns
    -------
    tuple of 7 floats
        The biases, in :data:`SIGNAL_NAMES` order.

    Raises
    ------
    SolverError
        If the iteration does not reach ``rtol`` within ``max_iter`` rounds.
    """
    from mechsim.errors import SolverError

    config = config if config is not None else SimulatorConfig()
    if not isinstance(config, SimulatorConfig):
        raise InvalidInstanceError(f"config: expected a SimulatorConfig, found {type(config).__name__}",
                                   argument="config")
    if targets is not None and not isinstance(targets, dict):
        raise InvalidInstanceError(f"targets: expected a dict signal -> mean, found {type(targets).__name__}",
                                   argument="targets")
    targets = dict(LOGGED_MEANS if targets is None else targets)
    for name in SIGNAL_NAMES:
        if name in targets:
            _scalar("targets", targets[name])
    check_integer("n_users", n_users, minimum=1)
    check_integer("max_steps", max_steps, minimum=1)
    as_generator(seed)
    rtol = check_positive("rtol", rtol)
    max_iter = check_integer("max_iter", max_iter, minimum=1)
    missing = [s for s in SIGNAL_NAMES if s not in targets]
    if missing:
        raise InvalidInstanceError(f"targets: expected a mean for every signal {SIGNAL_NAMES}, missing {missing}",
                                   argument="targets")
    target = np.array([targets[s] for s in SIGNAL_NAMES], dtype=float)
    if not (target[0] > 0 and np.all((target[1:] > 0) & (target[1:] < 1))):
        raise InvalidInstanceError(f"targets: expected watch time > 0 and probabilities in (0, 1), found {targets}",
                                   argument="targets")
    biases = np.array(config.biases, dtype=float)
    # The catalogue does not depend on the biases: build it once.
    simulator = ShortVideoSimulator(config)
    previous = None
    for _ in range(max_iter):
        simulator.config = replace(config, biases=tuple(biases))
        simulator._coef = simulator.config.coefficient_matrix()
        means = random_policy_means(simulator=simulator, n_users=n_users, max_steps=max_steps, seed=seed)
        got = np.array([means[s] for s in SIGNAL_NAMES])
        rel = np.abs(got / target - 1.0)
        if rel.max() <= rtol:
            return tuple(float(b) for b in biases)
        step = np.empty_like(biases)
        step[1:] = _logit(target[1:]) - _logit(got[1:])
        if previous is not None and abs(got[0] - previous[1]) > 1e-12 and biases[0] != previous[0]:
            slope = (math.log(got[0]) - math.log(previous[1])) / (biases[0] - previous[0])
            step[0] = (math.log(target[0]) - math.log(got[0])) / slope if slope > 0 else 0.5
        else:
            step[0] = 2.0 * (math.log(target[0]) - math.log(got[0]))  # d log(watch)/db is about 1/2
        previous = (biases[0], got[0])
        biases = biases + step
    raise SolverError(f"calibrate: relative error {rel.max():.3g} after {max_iter} rounds (rtol {rtol})",
                      status="not converged", biases=tuple(biases))


def _logit(p):
    p = np.asarray(p, dtype=float)
    return np.log(p) - np.log1p(-p)
