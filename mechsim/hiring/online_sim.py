r"""The truth side of the online hiring simulation: best-responding agents and the regret ledger.

:class:`HiringWorld` holds the true instance and plays the agents; the learner of
:mod:`mechsim.learners.hiring_online` talks to it only through two calls, exactly what a principal can do:

- :meth:`HiringWorld.post_scoring_rules` posts one *uncorrelated* scoring rule
  :math:`g_i(\hat s_i, \theta)` per agent for a batch of rounds together with a decision rule (an action
  for every report profile).  Because agent *i*'s payment depends only on its own report and the state,
  and (online assumption) its signal marginal :math:`P_i(s_i \mid b_i, \theta)` only on its own effort,
  every agent has a dominant best response: the effort maximising
  :math:`W^e(g_i) - c_i(e)` with :math:`W^e(g) = \sum_{s} \max_{s'} \sum_\theta q_i^e(s,\theta) g(s',\theta)`
  and, given that effort, the per-signal best report (ties toward the intended effort, then the lowest
  index; toward the truthful report).  The batch returns the counts of (report profile, state), drawn as
  one multinomial of the pushed-forward law -- exact in distribution for i.i.d. rounds, so a batch of
  :math:`10^9` rounds costs one draw.
- :meth:`HiringWorld.commit` posts a correlated mechanism for all remaining rounds.

Every batch is charged its exact expected per-round regret :math:`\mathrm{OPT} - U`, with :math:`U` the
principal's expected utility given the agents' true behaviour (pseudo-regret).  A committed mechanism
that fails the exact audit on the true instance is charged either

- ``"worst"``: the worst outcome the mechanism can produce,
  :math:`\sum_b \phi(b) \min_{\hat s, \theta} [\sum_a \pi(a \mid b, \hat s) u(a, \theta)
  - \sum_i \gamma_i(b, \hat s, \theta)]`
  (agents' behaviour is unpredictable; this bounds every behaviour and every state), or
- ``"best_response"``: every agent plays its own best (effort, reporting map) against obedient, truthful
  others (ties toward obedience), all at once.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.hiring.audit import _check_pair, audit_incentives, evaluate_mechanism
from mechsim.hiring.model import HiringInstance, Mechanism, check_hiring_instance, check_mechanism, check_profile
from mechsim.validation import as_generator, check_array, check_choice, check_integer, check_nonnegative

__all__ = ["HiringWorld", "RegretSegment", "best_uncorrelated_response", "pushforward",
           "unilateral_best_responses", "principal_utility_under_responses", "worst_case_utility", "MAX_HORIZON"]

_TIE = 1e-12

#: Longest horizon a world simulates: round counts are int64 (numpy's multinomial draws them), whose
#: largest value is about 9.2e18.
MAX_HORIZON = 10**18


@dataclass(frozen=True)
class RegretSegment:
    """``n_rounds`` consecutive rounds of phase ``phase``, each with expected regret ``regret_per_round``."""

    phase: str
    start: int
    n_rounds: int
    regret_per_round: float


def best_uncorrelated_response(own_joint: np.ndarray, costs: np.ndarray, rule: np.ndarray,
                               intended: int | None = None) -> tuple[int, np.ndarray, float]:
    """An agent's best (effort, reporting map) under a rule paid on its own report.

    Parameters
    ----------
    own_joint : ndarray, shape ``(n_efforts, n_signals, n_states)``
        :math:`q^e(s, \\theta) = \\mu(\\theta) P(s \\mid e, \\theta)`.
    costs : ndarray, shape ``(n_efforts,)``
    rule : ndarray, shape ``(n_signals, n_states)``
    intended : int, optional
        Effort preferred among (numerically) tied best efforts.

    Returns
    -------
    effort : int
    reporting_map : ndarray of int, shape ``(n_signals,)``
    expected_payment : float
    """
    f = np.einsum("est,rt->esr", own_joint, rule)           # (effort, true signal, report)
    S = f.shape[1]
    best = f.max(axis=2)
    omega = f.argmax(axis=2)
    diag = f[:, np.arange(S), np.arange(S)]
    truthful = diag >= best - _TIE
    omega = np.where(truthful, np.arange(S)[None, :], omega)
    W = best.sum(axis=1)
    U = W - costs
    top = U.max()
    if intended is not None and U[intended] >= top - _TIE:
        e = int(intended)
    else:
        e = int(np.flatnonzero(U >= top - _TIE)[0])
    return e, omega[e], float(W[e])


def pushforward(law: np.ndarray, maps: list[np.ndarray]) -> np.ndarray:
    """Law of (reports, state) when agent *i* reports ``maps[i][s_i]``.

    ``law`` has shape ``(*n_signals, n_states)``; so does the result.
    """
    out = law
    for i, omega in enumerate(maps):
        S = out.shape[i]
        onehot = np.zeros((S, S))
        onehot[np.arange(S), omega] = 1.0
        out = np.moveaxis(np.tensordot(out, onehot, axes=([i], [0])), -1, i)
    return out


def unilateral_best_responses(instance: HiringInstance, mechanism: Mechanism, atol: float = 1e-9):
    """Each agent's best (effort, reporting map) per recommended effort, others obedient and truthful.

    Ties go to obedience (the recommended effort) and to truthful reports.

    Returns
    -------
    efforts : list of ndarray of int
        ``efforts[i][b]``: effort exerted when recommended ``b``.
    maps : list of ndarray of int
        ``maps[i][b]``: reporting map of shape ``(n_signals_i,)``.
    """
    _check_pair(instance, mechanism)
    atol = check_nonnegative("atol", atol)
    n = instance.n_agents
    q = instance.joint
    phi = mechanism.recommendation
    efforts, maps = [], []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        axes = [i, *others, n + i, *(n + j for j in others), 2 * n]
        B, S = instance.n_efforts[i], instance.n_signals[i]
        R = instance.n_profiles // B
        qt = np.transpose(q, axes).reshape(B, R, S, -1)
        pw = mechanism.payments[i] * phi.reshape(phi.shape + (1,) * (n + 1))
        pt = np.transpose(pw, axes).reshape(B, R, S, -1)
        # f[b, b', s, s'] = sum_{r,k} q[b', r, s, k] * phi(b, r) gamma(b, r, s', k)
        f = np.einsum("prsk,brtk->bpst", qt, pt)
        phi_i = phi.sum(axis=tuple(others))
        c = instance.costs[i]
        best_e = np.zeros(B, dtype=int)
        best_map = np.tile(np.arange(S), (B, 1))
        for b in range(B):
            if phi_i[b] <= 0:
                best_e[b] = b
                continue
            vals = f[b].max(axis=2).sum(axis=1) - phi_i[b] * c
            top = vals.max()
            e = b if vals[b] >= top - atol * phi_i[b] else int(np.argmax(vals))
            row = f[b, e]
            bestrow = row.max(axis=1)
            om = row.argmax(axis=1)
            tr = row[np.arange(S), np.arange(S)] >= bestrow - atol * phi_i[b]
            om[tr] = np.arange(S)[tr]
            best_e[b], best_map[b] = e, om
        efforts.append(best_e)
        maps.append(best_map)
    return efforts, maps


def principal_utility_under_responses(instance: HiringInstance, mechanism: Mechanism, efforts, maps) -> float:
    """Principal's expected utility when agent *i* recommended ``b_i`` exerts ``efforts[i][b_i]`` and
    reports through ``maps[i][b_i]`` (payments and decision those of the recommended profile)."""
    _check_pair(instance, mechanism)
    n = instance.n_agents
    total = 0.0
    for b in np.argwhere(mechanism.recommendation > 0):
        b = tuple(int(x) for x in b)
        played = tuple(int(efforts[i][b[i]]) for i in range(n))
        law = pushforward(instance.joint[played], [maps[i][b[i]] for i in range(n)])
        gain = float((law * (mechanism.decision[b] @ instance.utility)).sum())
        paid = sum(float((law * mechanism.payments[i][b]).sum()) for i in range(n))
        total += mechanism.recommendation[b] * (gain - paid)
    return float(total)


def worst_case_utility(instance: HiringInstance, mechanism: Mechanism) -> float:
    """The worst outcome the mechanism can produce, whatever the agents do and whatever the state."""
    _check_pair(instance, mechanism)
    n = instance.n_agents
    outcome = (np.einsum("...a,at->...t", mechanism.decision, instance.utility)
               - mechanism.payments.sum(axis=0))                      # (*n_efforts, *n_signals, n_states)
    worst = outcome.reshape(*instance.n_efforts, -1).min(axis=-1)
    del n
    return float((mechanism.recommendation * worst).sum())


class HiringWorld:
    """True instance, best-responding agents and the regret ledger (module docstring).

    Parameters
    ----------
    instance : HiringInstance
        Every agent's signal marginal must depend on its own effort only.
    horizon : int
        ``1 <= horizon <=`` :data:`MAX_HORIZON`.
    optimal_value : float
        OPT, the value of the optimal IC mechanism (finite).
    rng : numpy.random.Generator, or a seed (None, int or SeedSequence)
    non_ic_charge : {"worst", "best_response"}
    reserve : int, default 0
        Rounds that the batches before the commit (:meth:`post_scoring_rules`, :meth:`test_agent`) leave
        for :meth:`commit`: they are clipped at ``horizon - reserve`` rounds in all, so that a mechanism is
        always committed for at least ``reserve`` rounds.
    """

    def __init__(self, instance: HiringInstance, horizon: int, optimal_value: float,
                 rng: np.random.Generator | None = None, non_ic_charge: str = "worst", *, reserve: int = 0):
        self.instance = check_hiring_instance("instance", instance)
        self.horizon = check_integer("horizon", horizon, minimum=1, maximum=MAX_HORIZON)
        self.optimal_value = float(check_array("optimal_value", optimal_value, ndim=0))
        if not (rng is None or isinstance(rng, (np.random.Generator, np.random.SeedSequence))
                or isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
            raise InvalidInstanceError("rng: expected a numpy.random.Generator or a seed (None, a non-negative "
                                       f"integer or a SeedSequence), found {type(rng).__name__}", argument="rng")
        if isinstance(rng, numbers.Integral) and rng < 0:
            raise InvalidInstanceError(f"rng: expected a non-negative seed, found {rng}", argument="rng")
        self._rng = as_generator(rng)
        self.non_ic_charge = check_choice("non_ic_charge", non_ic_charge, ("worst", "best_response"))
        self.reserve = check_integer("reserve", reserve, minimum=0, maximum=self.horizon)
        self._own = [instance.own_marginal(i) * instance.prior for i in range(instance.n_agents)]
        self.segments: list[RegretSegment] = []
        self.rounds_used = 0

    @property
    def remaining(self) -> int:
        """Rounds left before the horizon."""
        return self.horizon - self.rounds_used

    def _batch(self, n_rounds) -> int:
        """``n_rounds`` clipped so that the batches leave ``reserve`` rounds for the commit."""
        n_rounds = check_integer("n_rounds", n_rounds, minimum=0)
        return max(0, min(n_rounds, self.remaining - self.reserve))

    def _charge(self, phase: str, n_rounds: int, utility: float) -> None:
        self.segments.append(RegretSegment(phase, self.rounds_used, n_rounds, self.optimal_value - utility))
        self.rounds_used += n_rounds

    def post_scoring_rules(self, rules, actions: np.ndarray, n_rounds: int, phase: str,
                           intended=None) -> tuple[np.ndarray, int]:
        """Post per-agent rules and a decision for ``n_rounds`` rounds (clipped at the horizon less ``reserve``).

        Parameters
        ----------
        rules : sequence of ``(n_signals_i, n_states)`` arrays
        actions : ndarray of int, shape ``(*n_signals,)``
            The principal's action for every report profile.
        n_rounds : int
        phase : str
            Label in the ledger.
        intended : sequence of int, optional
            Efforts the rules are meant to induce (tie-breaking only).

        Returns
        -------
        counts : ndarray of int, shape ``(*n_signals, n_states)``
            How often each (report profile, state) occurred.
        n_rounds : int
            Rounds actually played.
        """
        rules = self._rules(rules)
        actions = self._actions(actions)
        if not isinstance(phase, str):
            raise InvalidInstanceError(f"phase: expected a string, found {type(phase).__name__}", argument="phase")
        if intended is not None:
            intended = check_profile("intended", intended, self.instance.n_efforts)
        return self._post(rules, actions, n_rounds, phase, intended)

    def _post(self, rules, actions, n_rounds, phase, intended=None):
        """:meth:`post_scoring_rules` of checked arguments (the learner's inner loop)."""
        inst = self.instance
        n_rounds = self._batch(n_rounds)
        efforts, maps, paid = [], [], 0.0
        for i in range(inst.n_agents):
            e, om, pay = best_uncorrelated_response(
                self._own[i], inst.costs[i], np.asarray(rules[i], dtype=float),
                None if intended is None else int(intended[i]))
            efforts.append(e)
            maps.append(om)
            paid += pay
        law = pushforward(inst.joint[tuple(efforts)], maps)
        gain = float((law * inst.utility[np.asarray(actions)]).sum()) if inst.n_actions else 0.0
        self._charge(phase, n_rounds, gain - paid)
        if n_rounds == 0:
            return np.zeros(law.shape, dtype=np.int64), 0
        p = law.ravel()
        counts = self._rng.multinomial(n_rounds, p / p.sum())
        return counts.reshape(law.shape), n_rounds

    def test_agent(self, i: int, recommended: int, others_weights: np.ndarray, payments: np.ndarray,
                   others_rules, actions: np.ndarray, n_rounds: int, phase: str = "incentive test"):
        """Post a correlated payment to agent ``i`` alone, others induced by their inducing rules.

        Agent ``i`` is told ``recommended``; the others' profile ``b_-i`` is drawn from ``others_weights``
        (shape ``(*n_efforts_-i,)``) and each other agent ``j`` is paid ``others_rules[j][b_j]``, which makes
        it exert ``b_j`` and report truthfully.  Agent ``i`` is paid ``payments`` (shape
        ``(*n_efforts_-i, *n_signals, n_states)``: recommended profile's others part, all reports, state) and
        best-responds to its expectation (ties toward the recommended effort and truthful reports).

        Returns
        -------
        counts : ndarray of int, shape ``(*n_efforts_-i, *n_signals, n_states)``
        n_rounds : int
        """
        inst = self.instance
        n = inst.n_agents
        n_rounds = self._batch(n_rounds)
        others = [j for j in range(n) if j != i]
        w = np.asarray(others_weights, dtype=float).ravel()
        w = w / w.sum()
        other_profiles = list(np.ndindex(*[inst.n_efforts[j] for j in others]))
        pay = np.asarray(payments, dtype=float).reshape(len(other_profiles), *inst.n_signals, inst.n_states)
        B, S = inst.n_efforts[i], inst.n_signals[i]

        def full(e, rest):
            b = [0] * n
            b[i] = e
            for j, v in zip(others, rest):
                b[j] = v
            return tuple(b)

        # f[e, s, s'] = sum_r w_r sum_{s_-i, theta} q_(e, r)((s, s_-i), theta) pay_r((s', s_-i), theta)
        f = np.zeros((B, S, S))
        for k, rest in enumerate(other_profiles):
            if w[k] == 0:
                continue
            pr = np.moveaxis(pay[k], i, 0).reshape(S, -1)
            for e in range(B):
                qe = np.moveaxis(inst.joint[full(e, rest)], i, 0).reshape(S, -1)
                f[e] += w[k] * qe @ pr.T
        best = f.max(axis=2)
        U = best.sum(axis=1) - inst.costs[i]
        e = recommended if U[recommended] >= U.max() - _TIE else int(np.argmax(U))
        omega = f[e].argmax(axis=1)
        tr = f[e][np.arange(S), np.arange(S)] >= best[e] - _TIE
        omega[tr] = np.arange(S)[tr]
        laws, utility = [], 0.0
        for k, rest in enumerate(other_profiles):
            maps = [np.arange(inst.n_signals[j]) for j in range(n)]
            maps[i] = omega
            law = pushforward(inst.joint[full(e, rest)], maps)
            laws.append(law)
            if w[k] == 0:
                continue
            gain = float((law * inst.utility[np.asarray(actions)]).sum())
            paid_i = float((law * pay[k]).sum())
            paid_o = sum(float((inst.own_marginal(j)[rest[m]] * inst.prior
                                * np.asarray(others_rules[j])[rest[m]]).sum()) for m, j in enumerate(others))
            utility += w[k] * (gain - paid_i - paid_o)
        self._charge(phase, n_rounds, utility)
        split = self._rng.multinomial(n_rounds, w) if n_rounds else np.zeros(len(w), dtype=np.int64)
        counts = np.zeros((len(other_profiles), *inst.n_signals, inst.n_states), dtype=np.int64)
        for k, law in enumerate(laws):
            if split[k]:
                p = law.ravel()
                counts[k] = self._rng.multinomial(split[k], p / p.sum()).reshape(law.shape)
        return counts.reshape(*[inst.n_efforts[j] for j in others], *inst.n_signals, inst.n_states), n_rounds

    def _rules(self, rules) -> list[np.ndarray]:
        inst = self.instance
        n = inst.n_agents
        if isinstance(rules, (str, bytes)) or not isinstance(rules, (list, tuple, np.ndarray)) \
                or isinstance(rules, np.ndarray) and rules.ndim == 0 or len(rules) != n:
            raise InvalidInstanceError(f"rules: expected {n} scoring rules (one (n_signals_i, n_states) array per "
                                       f"agent), found {type(rules).__name__}"
                                       + (f" of length {len(rules)}" if hasattr(rules, "__len__") else ""),
                                       argument="rules")
        return [check_array(f"rules[{i}]", r, shape=(inst.n_signals[i], inst.n_states)) for i, r in enumerate(rules)]

    def _actions(self, actions) -> np.ndarray:
        inst = self.instance
        arr = check_array("actions", actions, shape=inst.n_signals)
        if arr.size and (not np.all(arr == np.floor(arr)) or arr.min() < 0 or arr.max() >= inst.n_actions):
            raise InvalidInstanceError(f"actions: expected an action index in 0..{inst.n_actions - 1} for every "
                                       f"report profile, found {arr.ravel().tolist()[:8]}", argument="actions")
        return arr.astype(np.intp)

    def commit(self, mechanism: Mechanism, atol: float = 1e-9) -> dict:
        """Post ``mechanism`` for every remaining round; returns the truth about it."""
        inst = self.instance
        check_mechanism("mechanism", mechanism)
        audit = audit_incentives(inst, mechanism, atol=atol)
        value = evaluate_mechanism(inst, mechanism)
        if audit.is_ic:
            utility = value
        elif self.non_ic_charge == "worst":
            utility = worst_case_utility(inst, mechanism)
        else:
            efforts, maps = unilateral_best_responses(inst, mechanism, atol=atol)
            utility = principal_utility_under_responses(inst, mechanism, efforts, maps)
        self._charge("commit", self.remaining, utility)
        return {"audit": audit, "value": value, "utility": utility}

    def cumulative_regret(self, checkpoints: np.ndarray) -> np.ndarray:
        """Cumulative expected regret after each round count in ``checkpoints`` (a 1-D array of counts >= 0)."""
        t = check_array("checkpoints", checkpoints, ndim=1)
        if t.size and t.min() < 0:
            raise InvalidInstanceError(f"checkpoints: expected round counts >= 0, found {t.min():g}",
                                       argument="checkpoints")
        total = np.zeros_like(t)
        for seg in self.segments:
            total += seg.regret_per_round * np.clip(t - seg.start, 0.0, seg.n_rounds)
        return total
