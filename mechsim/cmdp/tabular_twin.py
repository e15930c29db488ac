r"""A finite CMDP twin of the short-video simulator, so that a recommender's exact optimum is known.

The twin discretises the simulator of :mod:`mechsim.cmdp.simulator` (same coefficients, same biases):

- **states** ``(f, k)``: fatigue level ``f = 0..F-1`` (the temper, from its initial value down to the
  leaving threshold, cut into ``F`` bands of width ``W = (T_0 - 1) / F``) and interest cluster
  ``k = 0..M-1`` (the user's interest is topic centre ``c_k``), plus one absorbing state "left";
  state index ``f * M + k``, "left" is the last state;
- **actions** = item types ``j = (topic t, duration D, quality q)`` (topic-major order), an item of type ``j``
  having embedding ``c_t``;
- **responses**: the simulator's logits for a user with interest ``c_k``, activity 0, whose recent history
  sits at its interest centre (so ``sim_j = <c_k, c_t>``), shown an item of type ``j``.  The reward is the
  expected watch time ``E[D sigmoid(z_watch + sigma_w xi)]`` (Gauss-Hermite quadrature) and each constrained
  signal contributes the non-negative cost of :mod:`mechsim.envs.recommender`: the missed interaction
  ``1 - P(signal)`` for click, like, follow, comment and share (and ``1`` in the state "left": every request
  slot after the user has left is a missed one), and ``P(hate)`` for hate;
- **fatigue**: the simulator lowers the temper by ``L = E[clip(2 - s, 0, 2)]`` per request (``s`` the
  weighted response; computed exactly over the 64 interaction patterns and the watched-fraction
  quadrature).  The twin moves one band up with probability ``L / W`` (so the expected temper loss is the
  simulator's); from the last band that move is leaving;
- **interest drift**: the simulator moves ``u`` toward the shown item by ``eta * w``; the twin jumps to the
  item's cluster with probability ``eta * E[w]`` (independently of the fatigue move).

Sessions start at fatigue 0 in a uniformly random cluster; one common discount ``gamma`` (default 0.95)
applies to every signal.  Values are discounted sums (as in :class:`~mechsim.cmdp.FiniteCMDP`).  Default
limits are the costs of the uniformly random recommender, i.e. "do at least as well as random on every
constrained signal", which is always feasible.

**Floors as limits.**  Because the missed-interaction cost is charged in every state, "left" included, the
cost value of every policy is :math:`J_f^\pi = 1/(1 - \gamma) - V_f^\pi` with :math:`V_f^\pi` the discounted
interactions: a floor ``V_f >= C`` is the limit ``J_f <= 1/(1 - gamma) - C``, the same constrained problem
(same optimal policies and values, same multipliers) as with the signed cost ``-P(signal)`` and limit ``-C``,
whose scalarised rewards differ by the constant ``lambda``.
"""

from __future__ import annotations

import itertools

import numpy as np

from mechsim.cmdp.model import FiniteCMDP, evaluate_policy, uniform_policy
from mechsim.cmdp.simulator import (
    _GH_NODES,
    _GH_WEIGHTS,
    AUXILIARY_SIGNALS,
    SIGNAL_NAMES,
    SimulatorConfig,
    _sigmoid,
    make_catalogue,
    response_logits,
)
from mechsim.errors import InvalidInstanceError
from mechsim.validation import check_allocation, check_array, check_integer

__all__ = ["tabular_recommender", "twin_item_types", "twin_labels", "twin_responses"]

_LOWER_BOUNDED = ("click", "like", "follow", "comment", "share")


def _check_grid(name: str, values, low: float, high: float | None) -> np.ndarray:
    arr = check_array(name, values, ndim=1)
    if arr.size == 0:
        raise InvalidInstanceError(f"{name}: expected at least one value, found none", argument=name)
    if arr.min() <= low or (high is not None and arr.max() >= high):
        bounds = f"in ({low}, {high})" if high is not None else f"> {low}"
        raise InvalidInstanceError(f"{name}: expected values {bounds}, found {arr.tolist()}", argument=name)
    return arr


def twin_item_types(n_clusters: int = 4, durations=(8.0, 20.0, 50.0), qualities=(0.25, 0.75)):
    """Item types of the twin: arrays ``(topic, duration, quality)``, each of length ``A``, topic-major."""
    n_clusters = check_integer("n_clusters", n_clusters, minimum=1)
    durations = _check_grid("durations", durations, 0.0, None)
    qualities = _check_grid("qualities", qualities, 0.0, 1.0)
    grid = np.array(list(itertools.product(range(n_clusters), durations, qualities)), dtype=float)
    return grid[:, 0].astype(np.intp), grid[:, 1].copy(), grid[:, 2].copy()


def twin_labels(n_fatigue: int = 5, n_clusters: int = 4, durations=(8.0, 20.0, 50.0), qualities=(0.25, 0.75)):
    """Human-readable labels ``(state_labels, action_labels)`` of :func:`tabular_recommender`'s CMDP."""
    n_fatigue = check_integer("n_fatigue", n_fatigue, minimum=1)
    topics, durs, quals = twin_item_types(n_clusters, durations, qualities)
    states = [f"fatigue {f}, cluster {k}" for f in range(n_fatigue) for k in range(n_clusters)] + ["left"]
    actions = [f"topic {t}, {d:g} s, q {q:g}" for t, d, q in zip(topics, durs, quals)]
    return states, actions


def twin_responses(config: SimulatorConfig | None = None, n_clusters: int = 4, durations=(8.0, 20.0, 50.0),
                   qualities=(0.25, 0.75)) -> dict[str, np.ndarray]:
    """Per-(cluster, item type) response quantities of the twin, each of shape ``(M, A, ...)``.

    Returns a dict with ``"expected"`` ``(M, A, 7)`` (watch seconds, then interaction probabilities),
    ``"temper_loss"`` ``(M, A)`` = ``E[clip(2 - s, 0, 2)]``, ``"watched_fraction"`` ``(M, A)``,
    ``"affinity"`` ``(M, A)`` = ``<c_k, c_t>`` (also the repetition similarity), ``"centres"`` ``(M, d)``.
    """
    cfg = config if config is not None else SimulatorConfig()
    if not isinstance(cfg, SimulatorConfig):
        raise InvalidInstanceError(f"config: expected a SimulatorConfig, found {type(cfg).__name__}",
                                   argument="config")
    n_clusters = check_integer("n_clusters", n_clusters, minimum=1, maximum=cfg.n_topics)
    topics, durs, quals = twin_item_types(n_clusters, durations, qualities)
    A = topics.size
    check_allocation("durations", 8.0 * n_clusters * A * 64 * (len(_GH_WEIGHTS) + 2),
                     f"the response model of {A} item types (n_clusters x len(durations) x len(qualities))")
    centres = make_catalogue(cfg).topic_centres[:n_clusters]
    affinity = centres @ centres[topics].T                                  # (M, A)
    log_dur = np.log(durs / 20.0)
    logits = response_logits(cfg, affinity, quals[None, :], affinity, log_dur[None, :], 0.0)  # (M, A, 7)
    frac_nodes = _sigmoid(logits[..., :1] + cfg.watch_noise * _GH_NODES)  # (M, A, G)
    frac = frac_nodes @ _GH_WEIGHTS
    probs = _sigmoid(logits[..., 1:])                                        # (M, A, 6)
    expected = np.concatenate([(durs * frac)[..., None], probs], axis=-1)
    # Exact E[clip(2 - s, 0, 2)] with s = w0 * frac + sum_f w_f * hit_f: all 2^6 hit patterns x quadrature.
    weights = np.asarray(cfg.temper_weights)
    patterns = np.array(list(itertools.product((0.0, 1.0), repeat=6)))     # (64, 6)
    pattern_prob = np.prod(np.where(patterns[None, None], probs[:, :, None, :], 1.0 - probs[:, :, None, :]),
                           axis=-1)                                          # (M, A, 64)
    aux_score = patterns @ weights[1:]                                       # (64,)
    score = weights[0] * frac_nodes[:, :, None, :] + aux_score[None, None, :, None]   # (M, A, 64, G)
    loss = np.clip(2.0 - score, 0.0, 2.0) @ _GH_WEIGHTS                      # (M, A, 64)
    temper_loss = np.einsum("map,map->ma", pattern_prob, loss)
    return {"expected": expected, "temper_loss": temper_loss, "watched_fraction": frac,
            "affinity": affinity, "centres": centres, "topics": topics, "durations": durs, "qualities": quals}


def tabular_recommender(constraints=("like",), limits=None, *, n_fatigue: int = 5, n_clusters: int = 4,
                        durations=(8.0, 20.0, 50.0), qualities=(0.25, 0.75), discount: float = 0.95,
                        config: SimulatorConfig | None = None) -> FiniteCMDP:
    """Finite CMDP twin of the short-video simulator (see the module docstring for the construction).

    Parameters
    ----------
    constraints : sequence of str, default ("like",)
        Constrained signals (from click, like, follow, comment, share, hate), in cost order.
    limits : array_like of shape (K,), optional
        Limits on the discounted costs (a floor ``C`` on discounted likes is the limit
        ``1 / (1 - discount) - C``; a cap ``C`` on discounted hate the limit ``C``).  Default: the costs of the
        uniformly random recommender.
    n_fatigue : int, default 5
        Fatigue bands ``F``; each band must be at least 2 temper units wide (the most a request can cost),
        i.e. ``F <= (temper_init - leave_threshold) / 2``.
    n_clusters : int, default 4
        Interest clusters ``M`` (the first ``M`` topic centres of the simulator's catalogue).
    durations : sequence of float, default (8, 20, 50)
        Durations (seconds) of the item types.
    qualities : sequence of float in (0, 1), default (0.25, 0.75)
        Qualities of the item types.
    discount : float, default 0.95
    config : SimulatorConfig, optional
        The simulator whose response model is discretised (default: the calibrated one).

    Returns
    -------
    FiniteCMDP
        ``S = F * M + 1`` states, ``A = M * len(durations) * len(qualities)`` actions.

    Examples
    --------
    >>> from mechsim.cmdp.tabular_twin import tabular_recommender
    >>> m = tabular_recommender()
    >>> m.n_states, m.n_actions, m.constraint_names
    (21, 24, ('like',))
    """
    cfg = config if config is not None else SimulatorConfig()
    if isinstance(constraints, str):
        constraints = (constraints,)
    if not isinstance(constraints, (tuple, list)):
        raise InvalidInstanceError(f"constraints: expected a sequence of names from {AUXILIARY_SIGNALS}, found "
                                   f"{type(constraints).__name__}", argument="constraints")
    constraints = tuple(constraints)
    for name in constraints:
        if name not in AUXILIARY_SIGNALS:
            raise InvalidInstanceError(f"constraints: expected names from {AUXILIARY_SIGNALS}, found {name!r}",
                                       argument="constraints")
    if len(set(constraints)) != len(constraints):
        raise InvalidInstanceError(f"constraints: expected distinct names, found {constraints}",
                                   argument="constraints")
    n_fatigue = check_integer("n_fatigue", n_fatigue, minimum=1)
    resp = twin_responses(cfg, n_clusters, durations, qualities)
    width = (cfg.temper_init - cfg.leave_threshold) / n_fatigue
    if width < 2.0:
        raise InvalidInstanceError(
            f"n_fatigue: expected at most {int((cfg.temper_init - cfg.leave_threshold) // 2)} bands (each at "
            f"least 2 temper units wide), found {n_fatigue} (band width {width:.3g})", argument="n_fatigue")
    M = resp["affinity"].shape[0]
    topics = resp["topics"]
    A = topics.size
    F = n_fatigue
    S = F * M + 1
    check_allocation("durations", 8.0 * S * A * S, f"dense ({S}, {A}, {S}) transitions ({A} item types = n_clusters "
                     "x len(durations) x len(qualities))")
    left = S - 1
    p_tire = resp["temper_loss"] / width                                   # (M, A)
    moved = topics[None, :] != np.arange(M)[:, None]                       # (M, A)
    p_move = np.where(moved, cfg.drift * resp["watched_fraction"], 0.0)    # (M, A)

    P = np.zeros((S, A, S))
    a_idx = np.arange(A)
    for f in range(F):
        for k in range(M):
            s = f * M + k
            stay_f = 1.0 - p_tire[k]
            up = left if f == F - 1 else (f + 1) * M
            # Fatigue and cluster moves are independent; an upward move from the last band is leaving.
            np.add.at(P[s], (a_idx, np.full(A, f * M + k)), stay_f * (1.0 - p_move[k]))
            np.add.at(P[s], (a_idx, f * M + topics), stay_f * p_move[k])
            if f == F - 1:
                P[s, :, left] += p_tire[k]
            else:
                np.add.at(P[s], (a_idx, np.full(A, up + k)), p_tire[k] * (1.0 - p_move[k]))
                np.add.at(P[s], (a_idx, up + topics), p_tire[k] * p_move[k])
    P[left, :, left] = 1.0

    expected = resp["expected"]                                           # (M, A, 7)
    reward = np.zeros((S, A))
    reward[:left] = np.tile(expected[..., 0], (F, 1))
    costs = np.zeros((len(constraints), S, A))
    for i, name in enumerate(constraints):
        probability = np.tile(expected[..., SIGNAL_NAMES.index(name)], (F, 1))
        if name in _LOWER_BOUNDED:
            costs[i, :left] = 1.0 - probability
            costs[i, left] = 1.0   # a user who has left misses every interaction
        else:
            costs[i, :left] = probability
    initial = np.zeros(S)
    initial[:M] = 1.0 / M
    placeholder = np.zeros(len(constraints))
    cmdp = FiniteCMDP(P, reward, costs, placeholder, initial, discount, constraint_names=constraints)
    if limits is None:
        limits = evaluate_policy(cmdp, uniform_policy(cmdp)).cost_values
    return cmdp.with_limits(limits)
