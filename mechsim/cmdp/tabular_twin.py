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
  quadrature).  The twin moves ``n = floor(L / W)`` bands up with probability ``1 - (L / W - n)`` and ``n + 1``
  bands with probability ``L / W - n`` (so the expected temper loss is the simulator's); a move past the last
  band is leaving.  With bands at least 2 units wide (``L <= 2``) that is one band up with probability
  ``L / W``; finer bands (the fine-grained twin: ``10^5`` states at ``F = 25 000``) resolve the temper
  almost continuously;
- **interest drift**: the simulator moves ``u`` toward the shown item by ``eta * w``; the twin jumps to the
  item's cluster with probability ``eta * E[w]`` (independently of the fatigue move).

**Storage.**  Every pair ``(s, a)`` has at most 4 successors, so above ``SPARSE_MIN_STATES`` states the
transitions are a CSR matrix of shape ``(S*A, S)`` built in a few vectorised passes (one row per pair, its
entries sorted and distinct) and below a dense ``(S, A, S)`` array holding the same numbers.

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
import scipy.sparse as sp

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

#: Above this many states the twin's transitions are a sparse ``(S*A, S)`` CSR matrix (``sparse=None``); below
#: a dense ``(S, A, S)`` array (at most 0.43 GB for the default 24 item types).  The same bound as the dense
#: solves of :data:`mechsim.tabular_mdp.DENSE_SOLVE_MAX_STATES`: above it a dense chain would be converted.
SPARSE_MIN_STATES = 1500

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


def _transition_entries(cfg: SimulatorConfig, resp: dict, F: int):
    """The twin's transitions as ``(rows, cols, probs)``: row ``s*A + a`` of the ``(S*A, S)`` matrix has the
    columns ``cols[row]`` (strictly increasing where ``probs > 0``) with probabilities ``probs[row]``.

    From band ``f`` and cluster ``k`` under item ``a`` the fatigue moves ``n`` or ``n + 1`` bands up (``n =
    floor(L / W)``, the second with probability ``L / W - n``) and, independently, the cluster jumps to the
    item's topic with probability ``p_move``; a move past the last band is leaving.  Each row is built with one
    entry per distinct successor, so that the dense and the sparse twin hold the same numbers.
    """
    M, A = resp["affinity"].shape
    topics = resp["topics"]
    S = F * M + 1
    left = S - 1
    width = (cfg.temper_init - cfg.leave_threshold) / F
    jump = resp["temper_loss"] / width                                        # (M, A) expected bands
    n = np.floor(jump)
    frac = jump - n                                                          # P(n + 1 bands)
    n = n.astype(np.int64)
    p_move = np.where(topics[None, :] != np.arange(M)[:, None], cfg.drift * resp["watched_fraction"], 0.0)
    k = np.broadcast_to(np.arange(M)[:, None], (M, A))
    t = np.broadcast_to(topics[None, :], (M, A))
    low, high = np.minimum(k, t), np.maximum(k, t)
    p_low = np.where(k <= t, 1.0 - p_move, p_move)                           # cluster of the lower column
    p_high = np.where(k <= t, p_move, 1.0 - p_move)                          # 0 where k == t
    f = np.arange(F)[:, None, None]
    band = f + n[None]                                                       # (F, M, A): the n-band move
    index = np.int32 if 4 * S * A < 2**31 - 1 else np.int64   # also the CSR matrix's indptr
    cols = np.empty((F, M, A, 4), dtype=index)
    probs = np.empty((F, M, A, 4))
    for j, (b, share) in enumerate(((band, 1.0 - frac), (band + 1, frac))):
        cols[..., 2 * j] = b * M + low[None]
        cols[..., 2 * j + 1] = b * M + high[None]
        probs[..., 2 * j] = share[None] * p_low[None]
        probs[..., 2 * j + 1] = share[None] * p_high[None]
        # A move past the last band is leaving: one entry with the band's whole probability.
        out = b >= F
        cols[..., 2 * j][out] = left
        cols[..., 2 * j + 1][out] = left
        probs[..., 2 * j][out] = np.broadcast_to(share, b.shape)[out]
        probs[..., 2 * j + 1][out] = 0.0
    # Both moves leave: a single entry "left" with probability 1.
    gone = band >= F
    probs[..., 0][gone] = 1.0
    probs[..., 2][gone] = 0.0
    cols = np.concatenate([cols.reshape(-1, 4), np.full((A, 4), left, dtype=index)])
    probs = np.concatenate([probs.reshape(-1, 4), np.tile([1.0, 0.0, 0.0, 0.0], (A, 1))])
    rows = np.arange(S * A, dtype=np.int64)
    return rows, cols, probs


def tabular_recommender(constraints=("like",), limits=None, *, n_fatigue: int = 5, n_clusters: int = 4,
                        durations=(8.0, 20.0, 50.0), qualities=(0.25, 0.75), discount: float = 0.95,
                        config: SimulatorConfig | None = None, sparse: bool | None = None) -> FiniteCMDP:
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
        Fatigue bands ``F``.  Up to ``(temper_init - leave_threshold) / 2`` bands (9 for the calibrated
        simulator: each at least 2 temper units wide, the most a request costs) a request moves at most one
        band up; finer bands give the fine-grained twin, whose requests move ``n`` or ``n + 1`` bands up.
    n_clusters : int, default 4
        Interest clusters ``M`` (the first ``M`` topic centres of the simulator's catalogue).
    durations : sequence of float, default (8, 20, 50)
        Durations (seconds) of the item types.
    qualities : sequence of float in (0, 1), default (0.25, 0.75)
        Qualities of the item types.
    discount : float, default 0.95
    config : SimulatorConfig, optional
        The simulator whose response model is discretised (default: the calibrated one).
    sparse : bool or None, default None
        Store the transitions as a sparse ``(S*A, S)`` CSR matrix (at most 4 successors per pair) rather than a
        dense ``(S, A, S)`` array; ``None`` chooses sparse above ``SPARSE_MIN_STATES`` states.  Both hold the
        same numbers.

    Returns
    -------
    FiniteCMDP
        ``S = F * M + 1`` states, ``A = M * len(durations) * len(qualities)`` actions.  A fine-grained twin
        (``n_fatigue=25_000``: ``10^5`` states, 24 actions, ``8 * 10^6`` non-zero transition probabilities)
        builds in a few seconds; solve it with ``solve_cmdp(m, method="auto")`` (the Lagrangian method).

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
    M = resp["affinity"].shape[0]
    A = resp["topics"].size
    F = n_fatigue
    S = F * M + 1
    if sparse is None:
        sparse = S > SPARSE_MIN_STATES
    elif not isinstance(sparse, (bool, np.bool_)):
        raise InvalidInstanceError(f"sparse: expected True, False or None, found {type(sparse).__name__} "
                                   f"{sparse!r}", argument="sparse")
    K = len(constraints)
    # Sparse: 4 successors of 12 bytes per pair, built once as (S*A, 4) arrays; dense: the (S, A, S) array.
    # Both: reward and costs, and the uniform policy's chain for the default limits.
    need = (8.0 * 4 * 3 * S * A if sparse else 8.0 * S * A * S) + 8.0 * (K + 2) * S * A
    check_allocation("n_fatigue", need, f"{'sparse' if sparse else 'dense'} transitions of {S} states x {A} item "
                     "types (n_fatigue x n_clusters + 1 states; n_clusters x len(durations) x len(qualities) types)")
    rows, cols, probs = _transition_entries(cfg, resp, F)
    keep = probs > 0
    if sparse:
        # One CSR row per pair, its entries sorted and distinct (_transition_entries): no COO round trip.
        indptr = np.zeros(S * A + 1, dtype=cols.dtype)
        np.cumsum(keep.sum(axis=1), out=indptr[1:])
        P = sp.csr_array((probs[keep], cols[keep], indptr), shape=(S * A, S))
    else:
        P = np.zeros((S * A, S))
        P[np.broadcast_to(rows[:, None], cols.shape)[keep], cols[keep]] = probs[keep]
        P = P.reshape(S, A, S)
    del rows, cols, probs, keep
    left = S - 1

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
