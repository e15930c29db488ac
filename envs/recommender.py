r"""Gymnasium environments of the short-video recommender CMDP.

One episode is one user session of the simulator in :mod:`mechsim.cmdp.simulator`.  At every request the
environment draws ``K`` candidate items uniformly from the catalogue; the agent picks one to show.

    maximise  E[sum_t watch_time_t]   subject to   E[sum_t cost_k,t] <= d_k   (limits live in the learner)

**Actions.**  :class:`RecommenderEnv` (``mechsim/Recommender-v0``): ``Discrete(K)``, the index of the candidate
to show.  :class:`RecommenderContinuousEnv` (``mechsim/RecommenderContinuous-v0``): ``Box(-1, 1, (d + 1,))``
ranking weights ``w``; the shown candidate maximises ``w[:d] . e_j + w[d] * (q_j - 1/2)``.  (A constant
offset ``w[d]`` cannot change an arg-max, so the last weight scores the item's
centred quality instead, which keeps the ``d + 1`` shape and makes every weight matter.)

**Observation** (``Box``, float32, every entry bounded): what a recommender can see, never the latent
interest or temper:

- mean embedding of the last ``H`` items shown (``d``; zeros at the start),
- exponentially weighted recent responses (7: watched fraction, then click ... hate; decay 0.7),
- session progress ``t / max_steps`` (1),
- for each candidate ``k``: embedding (``d``), duration feature ``D / (D + 20 s)``, quality ``q`` and the
  repetition similarity ``sim`` to the recent history (``d + 3`` each).

**Reward** = watch time in seconds.  **Termination**: the user leaves (temper below 1).  **Truncation**:
``max_steps`` requests.

**Costs** (Safety-Gymnasium's convention on the Gymnasium 5-tuple: every cost is non-negative and every
constraint reads ``E[sum_t gamma^t cost_t] <= limit``).  For each constrained signal ``f`` in ``constraints``:

- ``hate`` (an upper bound, "at most so much hate"): ``cost_hate = hate_t``, the 0/1 response;
- the interactions where more is better (click, like, follow, comment, share; a floor "at least ``C``"): the
  *missed* interaction ``cost_f = 1 - x_f,t``, the shortfall of the request against its best outcome (one
  like per request); and when the user leaves after request ``t`` (``terminated``), the last step also charges
  the missed interactions of the request slots the session had left, ``sum_{j=1}^{H - t} gamma_c^j`` with
  ``H = max_steps`` and ``gamma_c = cost_discount`` (a user who leaves gives no more likes).

So for every session, whatever the policy, :math:`\sum_t \gamma_c^t\, cost_{f,t} = N_H - \sum_t \gamma_c^t
x_{f,t}` with :math:`N_H = \sum_{t < H} \gamma_c^t` (:func:`session_slots`), and a floor on discounted likes
is exactly a limit on the like cost:

.. math::  E\Big[\sum_t \gamma_c^t\, like_t\Big] \ge C \iff E\Big[\sum_t \gamma_c^t\, cost_{like,t}\Big]
           \le N_H - C,

the same constraint in other variables (``limit = session_slots(max_steps, gamma_c) - C``; with the default
``cost_discount=1``, episode totals: ``max_steps - C``).  Give the env the discount the learner applies to
costs.  Without the leaving charge a budget on missed likes would reward ending sessions early.

Every ``info`` (including the one returned by ``reset``, where everything is zero, so that keys survive
vector-env autoreset) holds:

- ``info["signals"]``: float64 array ordered as :attr:`signal_names` (watch time in seconds, then 0/1),
- ``info["cost_<name>"]``: the cost of each constraint (float, ``>= 0``),
- ``info["costs"]``: float64 array of them, ordered as :attr:`constraint_names`,
- ``info["cost"]``: the single constraint's cost when ``constraints`` has one name; with several, the sum of
  their costs (so a Safety-Gymnasium learner with one limit bounds the total; select one constraint with
  ``ToSafetyGymnasium(env, constraint="like")`` or build the env with ``constraints=("like",)``),
- ``info["cost_offsets"]``: float64 array, the part of each cost that no action changes in total: ``1`` per
  request (plus the leaving charge on the step a user leaves) for floors, ``0`` for hate.  Its discounted sum
  (with ``cost_discount``) is ``N_H`` for floors in every session, whatever the policy, and
  ``costs - cost_offsets`` is the signed signal (``-x_f`` for floors, ``x_hate``): a Lagrangian learner that
  pays ``r - lambda . (costs - cost_offsets)`` optimises ``r + lambda x_f``, the Lagrangian of the floor itself
  for any discount of its own, with far less variance than ``r - lambda . costs`` (likes come on 1 % of
  requests, the offset at every one).  :class:`~mechsim.envs.lagrangian_reward.LagrangianReward` and the
  sample-based learners (:mod:`mechsim.learners.policies`) subtract it in their policy updates and measure the
  constraints on the costs themselves.

:class:`RankingRules` wraps either env's discrete version so that the agent picks one of a few ranking rules
(long, quality, relevant, ...) per request from user-level features: the action space that per-action
linear-softmax learners can use.

With ``cost_mode="expected"`` the costs use the conditional probabilities ``p_f = P(x_f = 1 | state, item)``
instead of the 0/1 draws (``1 - p_f`` for floors, ``p_hate`` for hate; the leaving charge is unchanged): the
same expected constraint values with much less noise (a simulator-only variance reduction, useful for rare
signals such as follows at 5e-4 per request).

**Rendering**: ``"ansi"`` returns the last request as text, ``"rgb_array"`` draws that text as an RGB frame of
constant size (:func:`mechsim.envs._template.text_frame`).
"""

from __future__ import annotations

import math
from typing import ClassVar

import gymnasium
import numpy as np
from gymnasium import spaces

from mechsim.cmdp.simulator import (
    AUXILIARY_SIGNALS,
    SIGNAL_NAMES,
    ShortVideoSimulator,
    SimulatorConfig,
    expected_responses,
)
from mechsim.envs._template import check_render_mode, text_frame
from mechsim.envs.signal_wrappers import check_gym_env
from mechsim.errors import InvalidInstanceError
from mechsim.validation import _fail, check_allocation, check_array, check_choice, check_integer

__all__ = ["DEFAULT_RULES", "LOWER_BOUNDED", "RankingRules", "RecommenderContinuousEnv", "RecommenderEnv",
           "cost_offsets", "cost_signs", "leaving_charge", "session_slots"]

#: Signals where more is better: their constraints are floors and their costs the missed interactions
#: ``1 - signal`` (plus the leaving charge).
LOWER_BOUNDED: tuple[str, ...] = ("click", "like", "follow", "comment", "share")

_EWMA_DECAY = 0.7
_BLOCK = 64  # requests whose randomness is drawn at once
_FRAME_WIDTH = 7 * 100 + 16  # pixels: every rgb_array frame has the same size (video recorders need that)


def cost_signs(constraints) -> np.ndarray:
    """Sign of the signal in each constraint's cost ``offset + sign * signal``: ``-1`` for the lower-bounded
    interactions (missed interactions ``1 - signal``), ``+1`` for hate."""
    return np.array([-1.0 if c in LOWER_BOUNDED else 1.0 for c in _check_constraints(constraints)])


def cost_offsets(constraints) -> np.ndarray:
    """Offset of each constraint's cost ``offset + sign * signal``: ``1`` for the lower-bounded interactions,
    ``0`` for hate."""
    return np.array([1.0 if c in LOWER_BOUNDED else 0.0 for c in _check_constraints(constraints)])


def session_slots(max_steps: int, discount: float = 1.0) -> float:
    r"""Discounted number of request slots of a session, :math:`N_H = \sum_{t < H} \gamma^t`.

    The like cost of every session totals :math:`N_H - \sum_t \gamma^t like_t` (see the module docstring),
    so the floor ``C`` on discounted likes is the limit ``session_slots(max_steps, discount) - C``.
    """
    H = check_integer("max_steps", max_steps, minimum=1)
    gamma = _cost_discount(discount)
    return float(H) if gamma == 1.0 else (1.0 - gamma**H) / (1.0 - gamma)


def _cost_discount(discount) -> float:
    if isinstance(discount, bool) or not isinstance(discount, (int, float, np.integer, np.floating)) \
            or not 0.0 <= float(discount) <= 1.0:
        raise _fail("cost_discount", "a number in [0, 1] (the discount the learner applies to costs)",
                    repr(discount))
    return float(discount)


def leaving_charge(remaining: int, discount: float = 1.0) -> float:
    r"""The cost a floor constraint adds on the step a user leaves: :math:`\sum_{j=1}^{n} \gamma^j` for the
    ``n = max_steps - t`` request slots the session had left (the missed interactions of those slots, discounted
    to the leaving step); 0 for ``n = 0``."""
    n = check_integer("remaining", remaining, minimum=0)
    return _leaving_charge(n, _cost_discount(discount))


def _leaving_charge(remaining: int, gamma: float) -> float:
    if gamma == 1.0:
        return float(remaining)
    return gamma * (1.0 - gamma**remaining) / (1.0 - gamma)


# ---------------------------------------------------------------------- the pieces shared with the vector envs
# RecommenderEnv steps one session in scalar Python; mechsim.envs.recommender_vector steps many as arrays.  The
# functions below are used by both, so that the two draw the same randomness in the same order and compute the
# candidates, observations and costs the same way.

#: Uniforms of a user's response to one request: 6 interactions, then 2 for a Box-Muller normal.
_RESPONSE_UNIFORMS = 8


def _block_rows(max_steps: int) -> int:
    """Requests whose randomness one block holds."""
    return min(_BLOCK, max_steps + 1)


def _draw_block(rng: np.random.Generator, rows: int, n_candidates: int, out: np.ndarray | None = None) -> np.ndarray:
    """The randomness of ``rows`` requests, ``(rows, 8 + K)`` uniforms: per row the 8 uniforms of the
    response, then one uniform per candidate slot (:func:`_candidate_indices`)."""
    if out is None:
        return rng.random((rows, _RESPONSE_UNIFORMS + n_candidates))
    return rng.random(out=out)


def _candidate_indices(slot_uniforms: np.ndarray, n_items: int) -> np.ndarray:
    """Catalogue indices of the candidates drawn uniformly by the slot uniforms (any shape)."""
    return (slot_uniforms * n_items).astype(np.intp)


def _observation(head: np.ndarray, history_sum: np.ndarray, n_recent, ewma, progress,
                 features: np.ndarray) -> np.ndarray:
    """The observation (float32), for one session (``head`` of shape ``(d + 8,)``, ``n_recent`` an int >= 1) or
    a batch (``head`` ``(n, d + 8)``, ``history_sum`` ``(n, d)``, ``n_recent`` ``(n, 1)`` ints >= 1, ``ewma``
    ``(n, 7)``, ``progress`` ``(n,)``, ``features`` ``(n, K, d + 3)``).

    ``head`` (float64) receives the user part: the mean embedding of the ``n_recent`` last items shown
    (``history_sum / n_recent``; pass 1 before any item was shown, when ``history_sum`` is zero), the
    exponentially weighted responses and the session progress.
    """
    d = history_sum.shape[-1]
    if head.ndim == 1:
        np.divide(history_sum, n_recent, out=head[:d])
        head[d:d + len(SIGNAL_NAMES)] = ewma
        head[d + len(SIGNAL_NAMES)] = progress
        return np.concatenate((head, features.reshape(-1)), dtype=np.float32)
    np.divide(history_sum, n_recent, out=head[:, :d])
    head[:, d:d + len(SIGNAL_NAMES)] = ewma
    head[:, d + len(SIGNAL_NAMES)] = progress
    return np.concatenate((head, features.reshape(len(head), -1)), axis=1, dtype=np.float32)


def _step_costs(cost_spec, floors, source, charge):
    """Costs and cost offsets of one request, per constraint (lists in constraint order).

    ``cost_spec`` holds ``(offset, sign, signal index)`` per constraint; ``source[i]`` is signal ``i`` (a
    number for one session, an ``(n,)`` array for a batch: sampled signals or their probabilities); ``charge``
    the leaving charge (a number or an ``(n,)`` array; 0 where the user did not leave), added to the floor
    constraints ``floors``.
    """
    costs = [offset + sign * source[i] for offset, sign, i in cost_spec]
    offsets = [offset for offset, _, _ in cost_spec]
    for k in floors:
        costs[k] = costs[k] + charge
        offsets[k] = offsets[k] + charge
    return costs, offsets


def _request_text(t: int, last, topics, n_candidates: int) -> str:
    """The ``"ansi"`` rendering: the last request (``last = (item, signals)``, ``None`` at a session start)."""
    if last is None:
        return f"t={t}: session start, temper hidden\n{n_candidates} candidates"
    item, signals = last
    parts = ", ".join(f"{n}={v:.3g}" for n, v in zip(SIGNAL_NAMES, signals))
    return f"t={t}: showed item {item} (topic {topics[item]})\n{parts}"


def _check_constraints(constraints) -> tuple[str, ...]:
    if isinstance(constraints, str):
        constraints = (constraints,)
    try:
        names = tuple(constraints)
    except TypeError:
        raise InvalidInstanceError(
            f"constraints: expected a sequence of signal names from {AUXILIARY_SIGNALS}, "
            f"found {type(constraints).__name__}", argument="constraints") from None
    for name in names:
        if name not in AUXILIARY_SIGNALS:
            raise InvalidInstanceError(
                f"constraints: expected names from {AUXILIARY_SIGNALS} (watch_time is the reward), "
                f"found {name!r}", argument="constraints")
    if len(set(names)) != len(names):
        raise InvalidInstanceError(f"constraints: expected distinct names, found {names}", argument="constraints")
    return names


class _RecommenderBase(gymnasium.Env):
    metadata: ClassVar[dict] = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, n_candidates: int = 10, max_steps: int = 100,
                 constraints=("like", "follow", "share"), config: SimulatorConfig | None = None,
                 render_mode: str | None = None, cost_mode: str = "sampled", cost_discount: float = 1.0):
        self.n_candidates = check_integer("n_candidates", n_candidates, minimum=1)
        self.max_steps = check_integer("max_steps", max_steps, minimum=1)
        self.constraint_names = _check_constraints(constraints)
        if not isinstance(cost_mode, str):
            raise _fail("cost_mode", "'sampled' or 'expected'", repr(cost_mode))
        self.cost_mode = check_choice("cost_mode", cost_mode, ("sampled", "expected"))
        self.cost_discount = _cost_discount(cost_discount)
        self.render_mode = check_render_mode(render_mode, self.metadata)
        if config is not None and not isinstance(config, SimulatorConfig):
            raise _fail("config", "None or a SimulatorConfig", type(config).__name__)
        # Memory guard: the per-request blocks of randomness and the observation grow with n_candidates.
        check_allocation("n_candidates", 8.0 * n_candidates * (_BLOCK * (config or SimulatorConfig()).dim + 64),
                         f"candidate blocks and observations for n_candidates={n_candidates}")
        self.simulator = ShortVideoSimulator(config)
        self.config = self.simulator.config
        self.signal_names = SIGNAL_NAMES
        cat = self.simulator.catalogue
        d, K, H = self.config.dim, self.n_candidates, self.config.history
        self._dim, self._H = d, H
        self._n_items = cat.n_items
        self._emb = cat.embeddings
        self._quality = cat.quality
        self._durations = cat.durations
        self._log_dur = cat.log_durations
        # Item features shown to the agent, computed once.
        # Item features shown to the agent, with a last column for the per-request similarity.
        self._item_feat = np.concatenate(
            [cat.embeddings, (cat.durations / (cat.durations + 20.0))[:, None], cat.quality[:, None],
             np.zeros((cat.n_items, 1))], axis=1).astype(np.float32)
        a, c, rho, kappa, b = self.config.coefficient_matrix()
        self._a, self._rho = a, rho
        # Per-item part of every logit, computed once: c_f q_j - kappa_f log(D_j / 20 s) + b_f.
        self._static_logits = cat.quality[:, None] * c - cat.log_durations[:, None] * kappa + b
        self._static_rows = self._static_logits.tolist()
        self._a_list, self._rho_list = a.tolist(), rho.tolist()
        self._durations_list = cat.durations.tolist()
        self._temper_w = list(self.config.temper_weights)
        self._temper_w_aux = self._temper_w[1:]
        self._watch_noise = float(self.config.watch_noise)
        self._drift = float(self.config.drift)
        self._leave_threshold = float(self.config.leave_threshold)
        self._cost_index = np.array([SIGNAL_NAMES.index(c) for c in self.constraint_names], dtype=np.intp)
        self._cost_sign = cost_signs(self.constraint_names)
        self._cost_offset = cost_offsets(self.constraint_names)
        self._cost_spec = list(zip(self._cost_offset.tolist(), self._cost_sign.tolist(), self._cost_index.tolist()))
        self._floor_constraints = [k for k, c in enumerate(self.constraint_names) if c in LOWER_BOUNDED]
        self._single_cost = len(self.constraint_names) == 1
        self._sampled_costs = self.cost_mode == "sampled"
        self._cost_keys = tuple(f"cost_{c}" for c in self.constraint_names)
        self._user_dim = d + len(SIGNAL_NAMES) + 1
        self._cand_dim = d + 3
        obs_dim = self._user_dim + K * self._cand_dim
        low = np.empty(obs_dim, dtype=np.float32)
        high = np.empty(obs_dim, dtype=np.float32)
        low[:d], high[:d] = -1.0, 1.0
        low[d:self._user_dim], high[d:self._user_dim] = 0.0, 1.0
        cand_low = np.r_[-np.ones(d), 0.0, 0.0, -1.0]
        cand_high = np.r_[np.ones(d), 1.0, 1.0, 1.0]
        low[self._user_dim:] = np.tile(cand_low, K)
        high[self._user_dim:] = np.tile(cand_high, K)
        self.observation_space = spaces.Box(low=low, high=high, dtype=np.float32)
        self._obs_dim = obs_dim
        self._zero_sim = np.zeros(K)
        self._head = np.zeros(self._user_dim)
        self._t = 0
        self._done = True
        self._last = None

    # ------------------------------------------------------------------ helpers
    @property
    def n_signals(self) -> int:
        return len(SIGNAL_NAMES)

    def _zero_info(self) -> dict:
        info = {"signals": np.zeros(len(SIGNAL_NAMES))}
        for key in self._cost_keys:
            info[key] = 0.0
        info["costs"] = np.zeros(len(self._cost_keys))
        info["cost_offsets"] = np.zeros(len(self._cost_keys))
        info["cost"] = 0.0
        return info

    def _refill(self) -> None:
        """Draw the randomness of the next requests in one block (numpy calls dominate a step's cost).

        Row ``t`` of a block holds the ``K`` candidate indices of one request and the 8 uniforms of the
        user's response to it (6 interactions, 2 for a Box-Muller normal); blocks are consumed in order, so a
        seed fixes the whole session.
        """
        uniforms = _draw_block(self.np_random, _block_rows(self.max_steps), self.n_candidates)
        cands = _candidate_indices(uniforms[:, _RESPONSE_UNIFORMS:], self._n_items)
        self._block_uniforms = uniforms[:, :_RESPONSE_UNIFORMS].tolist()
        self._block_cands = cands
        self._block_emb = self._emb[cands]
        self._block_feat = self._item_feat[cands]
        self._block_quality = self._quality[cands] - 0.5
        self._block_pos = 0

    def _next_request(self) -> None:
        """Move to the next request: new candidates, their affinity and repetition similarity."""
        pos = self._block_pos
        if pos == len(self._block_uniforms):
            self._refill()
            pos = 0
        self._block_pos = pos + 1
        self._cands = self._block_cands[pos]
        self._feat = self._block_feat[pos]
        self._uniforms = self._block_uniforms[pos]
        emb = self._block_emb[pos]
        self._cand_emb = emb
        self._cand_quality = self._block_quality[pos]
        n = min(self._n_seen, self._H)
        # Row 0 of _user_rows is the interest, rows 1..n the recent items: one product gives affinity and
        # similarities.  No clamp to [-1, 1] is needed for the observation: rounding overshoots (~1e-16)
        # vanish in float32.
        dots = emb @ self._user_rows[:n + 1].T
        self._aff = dots[:, 0]
        self._sim = np.maximum.reduce(dots[:, 1:], axis=1) if n else self._zero_sim
        self._feat[:, -1] = self._sim

    def _observation(self) -> np.ndarray:
        return _observation(self._head, self._history_sum, max(min(self._n_seen, self._H), 1), self._ewma,
                            self._t / self.max_steps, self._feat)

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        user = self.simulator.sample_users(1, seed=self.np_random)
        self._user_rows = np.zeros((1 + self._H, self._dim))  # interest, then a ring buffer of shown items
        self._user_rows[0] = user.interest[0]
        self._interest = self._user_rows[0]
        self._history = self._user_rows[1:]
        self._activity = float(user.activity[0])
        self._temper = float(user.temper[0])
        self._history_sum = np.zeros(self._dim)
        self._n_seen = 0
        self._ewma = [0.0] * len(SIGNAL_NAMES)
        self._t = 0
        self._last = None
        self._done = False
        self._refill()
        self._next_request()
        return self._observation(), self._zero_info()

    def _show(self, k: int):
        """Show candidate ``k``: draw the user's responses, update the session, return the 5-tuple."""
        if self._done:
            raise RuntimeError("step() called before reset() or after the episode ended; call reset() first")
        # The response model of ShortVideoSimulator for one user, in scalar Python (7 numbers: faster
        # than numpy calls).
        item = int(self._cands[k])
        u = self._uniforms
        aff = float(self._aff[k])
        sim = float(self._sim[k])
        act = self._activity
        exp = math.exp
        row = self._static_rows[item]
        a, rho = self._a_list, self._rho_list
        xi = math.sqrt(-2.0 * math.log1p(-u[6])) * math.cos(2.0 * math.pi * u[7])
        z0 = row[0] + a[0] * aff - rho[0] * sim + act + self._watch_noise * xi
        # exp arguments are capped at 700 (probability ~1e-304, zero in double precision) to avoid overflow.
        frac = 1.0 / (1.0 + exp(min(-z0, 700.0)))
        # u < sigmoid(z)  <=>  u * (1 + exp(-z)) < 1
        probs = [1.0 / (1.0 + exp(min(rho[f] * sim - row[f] - a[f] * aff - act, 700.0))) for f in range(1, 7)]
        hits = [1.0 if uf < pf else 0.0 for uf, pf in zip(u, probs)]
        watch = self._durations_list[item] * frac
        signals_list = [watch] + hits
        # Session dynamics: the rules of ShortVideoSimulator._update for one user.
        score = frac * self._temper_w[0] + sum(w * h for w, h in zip(self._temper_w_aux, hits))
        self._temper += min(max(score - 2.0, -2.0), 0.0)
        e = self._emb[item]
        v = self._interest
        v += (self._drift * frac) * e
        v *= 1.0 / math.sqrt(v @ v)
        slot = self._n_seen % self._H
        self._history_sum += e - self._history[slot]
        self._history[slot] = e
        self._n_seen += 1
        self._t += 1
        decay = _EWMA_DECAY
        self._ewma = [decay * old + (1.0 - decay) * new
                      for old, new in zip(self._ewma, [frac] + hits)]
        terminated = self._temper < self._leave_threshold
        truncated = (not terminated) and self._t >= self.max_steps
        self._done = terminated or truncated
        signals = np.array(signals_list)
        self._last = (item, signals)
        info = {"signals": signals}
        source = signals_list if self._sampled_costs else [watch] + probs
        charge = _leaving_charge(self.max_steps - self._t, self.cost_discount) \
            if terminated and self._t < self.max_steps else 0.0
        cost_list, offsets = _step_costs(self._cost_spec, self._floor_constraints, source, charge)
        for key, value in zip(self._cost_keys, cost_list):
            info[key] = value
        info["costs"] = np.array(cost_list)
        info["cost_offsets"] = np.array(offsets)  # a new array every step: users keep the infos they are given
        info["cost"] = cost_list[0] if self._single_cost else sum(cost_list)
        self._next_request()
        return self._observation(), watch, terminated, truncated, info

    def candidate_expectations(self) -> np.ndarray:
        """Oracle view: expected signals ``(K, 7)`` of showing each current candidate.

        Uses the hidden user state (interest, activity), so it is for baselines (the myopic watch-greedy
        policy) and diagnostics, not for agents that should learn from observations.
        """
        if self._done:
            raise RuntimeError("candidate_expectations() needs an ongoing episode; call reset() first")
        cands = self._cands
        return expected_responses(self.config, self._aff, self._quality[cands], self._sim,
                                  self._durations[cands], self._activity)

    def _render_text(self) -> str:
        return _request_text(self._t, self._last, self.simulator.catalogue.topics, self.n_candidates)

    def render(self):
        """The last request as text (``"ansi"``) or as an RGB frame of constant size (``"rgb_array"``)."""
        if self.render_mode is None:
            gymnasium.logger.warn("You are calling render method without specifying any render mode.")
            return None
        text = self._render_text()
        return text_frame(text, width=_FRAME_WIDTH) if self.render_mode == "rgb_array" else text


class RecommenderEnv(_RecommenderBase):
    """Short-video recommender CMDP with a ``Discrete(K)`` action: which of the K candidates to show.

    Parameters
    ----------
    n_candidates : int, default 10
        ``K``, candidates drawn uniformly from the catalogue per request.
    max_steps : int, default 100
        Requests per session before truncation.
    constraints : sequence of str, default ("like", "follow", "share")
        Constrained auxiliary signals (subset of click, like, follow, comment, share, hate), in cost order.
    config : SimulatorConfig, optional
        User/item model; default is the calibrated model.
    render_mode : None, "ansi" or "rgb_array"
    cost_mode : {"sampled", "expected"}, default "sampled"
        ``"sampled"``: costs from the 0/1 draws (``1 - x`` for floors, ``x`` for hate).  ``"expected"``: from
        the conditional probabilities ``P(x = 1 | user state, item)`` (a simulator-only variance reduction:
        same expected constraint values, far less noise for rare signals); ``info["signals"]`` stays sampled.
    cost_discount : float in [0, 1], default 1
        ``gamma_c`` of the leaving charge (module docstring): the discount the learner applies to costs, so
        that ``E[sum_t gamma_c^t cost_like] = session_slots(max_steps, gamma_c) - E[sum_t gamma_c^t like]``.

    Examples
    --------
    >>> import gymnasium, mechsim
    >>> env = gymnasium.make("mechsim/Recommender-v0")
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(0)
    >>> sorted(k for k in info if k.startswith("cost"))
    ['cost', 'cost_follow', 'cost_like', 'cost_share', 'costs']
    >>> bool(info["costs"].min() >= 0)
    True
    """

    def __init__(self, n_candidates: int = 10, max_steps: int = 100, constraints=("like", "follow", "share"),
                 config: SimulatorConfig | None = None, render_mode: str | None = None,
                 cost_mode: str = "sampled", cost_discount: float = 1.0):
        super().__init__(n_candidates, max_steps, constraints, config, render_mode, cost_mode, cost_discount)
        self.action_space = spaces.Discrete(self.n_candidates)

    def step(self, action):
        # Cheaper than Discrete.contains, which dominates the cost of a step otherwise.
        if isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu":
            action = action.item()
        if isinstance(action, bool) or not isinstance(action, (int, np.integer)) \
                or not 0 <= action < self.n_candidates:
            raise InvalidInstanceError(f"action: expected an integer in [0, {self.n_candidates}), found {action!r}",
                                       argument="action")
        return self._show(int(action))


class RecommenderContinuousEnv(_RecommenderBase):
    """Short-video recommender CMDP with ``Box(-1, 1, (d + 1,))`` ranking weights as the action.

    The shown candidate is ``argmax_j  w[:d] . e_j + w[d] * (q_j - 1/2)`` (first index on ties).
    Parameters as :class:`RecommenderEnv`.
    """

    def __init__(self, n_candidates: int = 10, max_steps: int = 100, constraints=("like", "follow", "share"),
                 config: SimulatorConfig | None = None, render_mode: str | None = None,
                 cost_mode: str = "sampled", cost_discount: float = 1.0):
        super().__init__(n_candidates, max_steps, constraints, config, render_mode, cost_mode, cost_discount)
        self.action_space = spaces.Box(low=-1.0, high=1.0, shape=(self._dim + 1,), dtype=np.float32)

    def step(self, action):
        if isinstance(action, np.ndarray) and action.dtype.kind in "fiu":
            w = action.astype(float, copy=False)
        else:  # lists, and anything else: refuse strings, complex numbers and objects rather than convert them
            w = check_array("action", action, finite=False)
        # A finite sum means finite entries (NaN and inf propagate); |w| ~ 1e308 would be rejected wrongly.
        if w.shape != (self._dim + 1,) or not math.isfinite(w.sum()):
            raise InvalidInstanceError(
                f"action: expected {self._dim + 1} finite ranking weights, found {np.asarray(action)!r}",
                argument="action")
        scores = self._cand_emb @ w[:-1]
        scores += w[-1] * self._cand_quality
        return self._show(int(np.argmax(scores)))


#: Default ranking rules of :class:`RankingRules`: weights on the candidate features
#: (duration, quality, relevance, repetition), each centred and scaled to about [-2, 2].
DEFAULT_RULES: dict[str, tuple[float, float, float, float]] = {
    "long": (1.0, 0.0, 0.0, 0.0),
    "quality": (0.0, 1.0, 0.0, 0.0),
    "relevant": (0.0, 0.0, 1.0, 0.0),
    "long+relevant": (1.0, 0.0, 1.0, 0.0),
    "short+quality": (-1.0, 1.0, 0.0, 0.0),
    "fresh": (0.0, 0.0, 0.0, -1.0),
}


class RankingRules(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """Choose a ranking rule instead of a candidate: ``Discrete(n_rules)`` actions, user-level observations.

    Production recommenders mix a few ranking objectives rather than learn a score per slot; this wrapper
    gives learners with per-action linear policies (``logits = W phi(obs)``) that action space.  Rule ``i``
    shows the candidate maximising ``rules[i] . f_j`` with the agent-visible candidate features
    ``f_j = (4 (D_j / (D_j + 20) - 1/2), 4 (q_j - 1/2), 2 <h, e_j>, sim_j)``, where ``h`` is the mean embedding
    of the recent history (so ``<h, e_j>`` is a relevance estimate; the latent interest stays hidden).

    The observation is the user part of :class:`RecommenderEnv`'s observation without the history
    embedding: the 7 exponentially weighted recent responses and the session progress (``Box(0, 1, (8,))``).
    Rewards and ``info`` (signals and costs) pass through unchanged; ``info["candidate"]`` records the
    candidate each rule picked.

    Parameters
    ----------
    env : RecommenderEnv (possibly wrapped)
    rules : dict of name -> 4 weights, default :data:`DEFAULT_RULES`
    """

    def __init__(self, env: gymnasium.Env, rules: dict | None = None):
        gymnasium.utils.RecordConstructorArgs.__init__(self, rules=rules)
        gymnasium.Wrapper.__init__(self, check_gym_env(env))
        base = env.unwrapped
        if not isinstance(base, RecommenderEnv):
            raise InvalidInstanceError(f"env: expected a RecommenderEnv, found {type(base).__name__}", argument="env")
        rules = DEFAULT_RULES if rules is None else rules
        if not isinstance(rules, dict) or not rules:
            raise InvalidInstanceError(f"rules: expected a non-empty dict name -> 4 weights, found {rules!r}",
                                       argument="rules")
        weights = np.array([np.asarray(w, dtype=float) for w in rules.values()]) \
            if all(np.shape(w) == (4,) for w in rules.values()) else None
        if weights is None or not np.all(np.isfinite(weights)):
            raise InvalidInstanceError(f"rules: expected 4 finite weights per rule, found {rules!r}",
                                       argument="rules")
        self.rule_names = tuple(rules)
        self._weights = weights
        self._d, self._K = base.config.dim, base.n_candidates
        self.action_space = spaces.Discrete(len(rules))
        self.observation_space = spaces.Box(0.0, 1.0, (len(SIGNAL_NAMES) + 1,), np.float32)

    def user_observation(self, obs: np.ndarray) -> np.ndarray:
        """The wrapper's observation for an observation of the wrapped env (also caches the candidates'
        rule features, so that :meth:`candidate_for` refers to that request)."""
        d, K = self._d, self._K
        head = obs[:d + len(SIGNAL_NAMES) + 1]
        cand = obs[len(head):].reshape(K, d + 3).astype(float)
        relevance = cand[:, :d] @ head[:d].astype(float)
        self._features = np.column_stack([4.0 * (cand[:, d] - 0.5), 4.0 * (cand[:, d + 1] - 0.5),
                                          2.0 * relevance, cand[:, d + 2]])
        return head[d:].copy()

    def candidate_for(self, action: int) -> int:
        """Index of the candidate that rule ``action`` shows at the current request."""
        return int(np.argmax(self._features @ self._weights[int(action)]))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        return self.user_observation(obs), info

    def step(self, action):
        if not self.action_space.contains(action):
            raise InvalidInstanceError(f"action: expected a rule index in [0, {len(self.rule_names)}), found "
                                       f"{action!r}", argument="action")
        candidate = self.candidate_for(action)
        obs, reward, terminated, truncated, info = self.env.step(candidate)
        info["candidate"] = candidate
        return self.user_observation(obs), reward, terminated, truncated, info
