r"""Online learning of the optimal hiring mechanism: explore-then-commit with :math:`O(T^{2/3})` regret.

The setting and the algorithm's skeleton are those of Cacciamani, Castiglioni and Gatti, "Online
Information Acquisition: Hiring Multiple Agents" (ICLR 2024); the model is :mod:`mechsim.hiring`, the
exact LPs :mod:`mechsim.solvers.hiring_lp` (OPT and the inducing rules) and
:mod:`mechsim.solvers.hiring_online_lp` (the LP on estimates), the simulated agents
:class:`mechsim.hiring.HiringWorld`.

The principal does not know the joint law :math:`q_b(s,\theta)` nor the costs.  It knows the sets, the
utility :math:`u`, the caps :math:`M_i` (one common :math:`M` or one per agent) and, for every agent *i* and
effort *k*, a scoring rule
:math:`\bar g_i^k(s_i,\theta)` under which :math:`(k, \text{truthful})` is the unique best response by a
margin :math:`\iota > 0` (Assumption 1).  Each round it sees the reports and the realised state; efforts
are hidden.  Regret over :math:`T` rounds is :math:`R_T = \sum_t (\mathrm{OPT} - U_t)`, OPT the value
of the optimal IC mechanism and :math:`U_t` the principal's expected utility given the agents' true best
responses (see :mod:`mechsim.hiring.online_sim` for the charge of a non-IC commitment).

Phases (all simulated in aggregate, so :math:`T = 10^9` costs well under a second of sampling):

1. **Estimation.**  For every profile *b*, post :math:`(\bar g_i^{b_i})_i` (which induces *b* in dominant
   strategies) for :math:`N_1` rounds and count (reports, state): :math:`\hat q_b`.  The principal acts
   with the Bayes decision of the counts gathered so far (batches of doubling length).
2. **Cost differences by bisection.**  For agent *i*, post
   :math:`g_\lambda = \lambda \bar g^k + (1-\lambda)\bar g^a` (others unpaid) and bisect on λ until the
   effort played (identified from the empirical law of (report, state) by Scheffe's pairwise tests
   against the candidate laws; batches are sized for a failure probability within δ, capped at
   :math:`\sqrt T` rounds) switches
   within a bracket of width :math:`\varepsilon_\lambda`.  At the switch,
   :math:`C_i(e_{hi}, e_{lo}) = W^{e_{hi}}(g_\lambda) - W^{e_{lo}}(g_\lambda)`; brackets are chained along
   a spanning tree of the efforts (each bisection merges two components).  The error is at most
   :math:`\mathrm{Lip}\,\varepsilon_\lambda/2` plus the estimation error of the two :math:`W` terms, where
   :math:`\mathrm{Lip} = 2 \max|\bar g^k - \bar g^a|`.  A batch with no payment at all first
   identifies each agent's cheapest effort (what it exerts unpaid), skipped when that would take more
   than a fifth of the remaining rounds.
3. **Commit** to a mechanism computed from the estimates, made IC with high probability, for the
   remaining rounds (the default variant first runs short *incentive tests*, below).

Mixing lemma used by every variant: if a candidate :math:`\gamma` has (per unit :math:`\phi_i(b_i)`)
incentive slack at least :math:`L < 0` on some IC row and :math:`\bar g` has slack at least ι, then
:math:`(1-\alpha)\gamma + \alpha \bar g^{b_i}` has slack :math:`\ge (1-\alpha) L + \alpha\iota \ge 0` for
:math:`\alpha = -L / (\iota - L)` (the deviation payoff is a maximum of linear functions, hence convex).
For truthfulness the rows are per signal: every single misreport :math:`s_i \to s'_i` loses at least ι
under :math:`\bar g^{b_i}`.

Variants (``variant=``):

``"faithful"``
    The worst-case widths of the paper's analysis: :math:`N_1 = \lceil T^{2/3} \rceil`, δ = 1/T,
    :math:`\varepsilon_q = \sqrt{2(|S||\Theta| \ln 2 + \ln(2|B|/\delta))/N_1}` (L1 union bound),
    :math:`\varepsilon_\lambda = T^{-1/3}`, :math:`W` errors :math:`M_i\varepsilon_q/2` for agent *i*,
    :math:`\varepsilon_{IC} = M\varepsilon_q + \max \varepsilon_C` with :math:`M = \max_i M_i` (a bound for every
    agent's rows); LP on the estimates with every IC row
    relaxed by :math:`\varepsilon_{IC}`, then mixing with
    :math:`\alpha = 2\varepsilon_{IC}/(\iota + 2\varepsilon_{IC})`.
``"default"``
    Tight, data-driven and still rigorous.  The estimation data of each profile is split in two halves
    :math:`D_1, D_2`; :math:`N_1 = \lceil c\, T^{2/3} \rceil` with ``explore_scale`` c (0.25), δ = 1/T.
    Candidates are computed from :math:`D_1` and certified on the independent half :math:`D_2`:

    - *margin candidates*: the LP of :mod:`mechsim.solvers.hiring_online_lp` on :math:`D_1` and the
      estimated costs, with every effort deviation and every single misreport required to lose a
      margin; margins start at zero and grow by the deficit that :math:`D_1` alone predicts (slack below
      ``safety`` times its confidence width), a few iterations.  For a fixed candidate every quantity
      an IC row uses is the mean of a bounded function of one profile's samples (the obedient payment, the
      payment after each single misreport under each deviation effort, the loss of each single misreport,
      and payments minus the bisection's switch rule, whose errors cancel), so an empirical-Bernstein bound
      (Maurer and Pontil 2009) with a union bound over these functionals and all candidates gives a lower
      confidence bound :math:`L` on every row's true slack; rows with :math:`L < 0` are repaired by the
      per-agent mixing weight :math:`\alpha_i = \max(-L/(\iota - L))` (usually zero).
    - *incentive-tested candidate*: the LP on :math:`D_1` with no effort margin (misreport margins
      grown as above and certified on :math:`D_2`); then, for each agent *i* and recommended effort *b*,
      agent *i* alone is posted its payments at *b* scaled by a factor *s* while the others receive their
      inducing rules (so they behave exactly as obedient agents would), and the effort played is
      identified from the empirical law of (report, state): obedience is accepted only when its law wins
      Scheffe's pairwise test against every (effort, reporting map) alternative.  Scaling multiplies
      every payment difference, so the scales at which the agent obeys form an interval; bisection finds
      its lower end within a relative precision
      :math:`\max(T^{-1/3}/8, 2^{-14})` in :math:`O(\log T)` batches of :math:`O(\log(1/\delta))` rounds,
      and the committed scale is one bracket above the lowest tested obeying scale.  This certifies every
      effort deviation from the agents' behaviour, without any cost estimate, and is what makes the
      default learner cheap.  (Skipped when its rounds would exceed a tenth of the horizon.)

    The candidate with the best estimated value on :math:`D_2` is committed.  With probability at least
    1 - δ (up to misidentified probes, whose probability is budgeted in δ through the batch sizes) the
    committed mechanism is IC on the true instance.
``"plugin"``
    Negative control: the LP on the raw estimates, no margin, no relaxation, no mixing.  Its mechanism is
    typically slightly non-IC on the truth, and regret is then linear in T.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from mechsim.errors import InfeasibleError, InvalidInstanceError
from mechsim.hiring.audit import IncentiveAudit, _agent_axes
from mechsim.hiring.model import (
    HiringInstance,
    Mechanism,
    _bayes_decision,
    _value_of_information,
    check_hiring_instance,
    check_unit_interval,
)
from mechsim.hiring.online_sim import MAX_HORIZON, HiringWorld
from mechsim.solvers.hiring_lp import InducingRules, inducing_scoring_rules, optimal_mechanism
from mechsim.solvers.hiring_online_lp import solve_estimated_mechanism_lp
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_array,
    check_choice,
    check_integer,
    check_nonnegative,
    check_positive,
)

__all__ = ["OnlineResult", "simulate_online", "VARIANTS", "ONLINE_VARIANTS", "empirical_bernstein_width",
           "learnable_instances"]

#: Learner variants accepted by :func:`simulate_online`.
VARIANTS = ("default", "faithful", "plugin")
#: The same, under the name :mod:`mechsim.hiring` re-exports.
ONLINE_VARIANTS = VARIANTS

#: Largest number of reporting maps S^S for which W widths are computed per map (else per signal).
_MAX_MAPS = 512



@dataclass(frozen=True, eq=False)
class OnlineResult:
    """Outcome of one run of the online learner.

    Attributes
    ----------
    horizon : int
    variant : str
    checkpoints : ndarray of int
        Increasing round numbers; the last equals ``horizon``.
    cumulative_regret : ndarray
        Expected (pseudo-)regret accumulated after each checkpoint.
    optimal_value : float
        OPT, the value of the optimal IC mechanism on the true instance.
    mechanism : Mechanism
        The committed mechanism; its ``value`` is the learner's own estimate.  The learner always commits
        for at least the last round: when the horizon is too short for the exploration phases, they are cut
        short (fewer samples, wider confidence bounds) and the mechanism is computed from what was seen.
    committed_value : float
        Its true value under obedience.
    commit_utility : float
        What the principal earns per committed round (``committed_value`` when IC, else the charge).
    audit : IncentiveAudit
        Exact audit of the committed mechanism on the true instance.
    phase_lengths : dict
        Rounds spent in ``"estimation"``, ``"bisection"`` and ``"commit"``.
    phase_regret : dict
        Regret accumulated in each phase.
    mixing : ndarray
        Per-agent mixing weight with the inducing rules.
    details : dict
        Variant-specific diagnostics (margins, widths, cost estimates, ...).
    """

    horizon: int
    variant: str
    checkpoints: np.ndarray
    cumulative_regret: np.ndarray
    optimal_value: float
    mechanism: Mechanism
    committed_value: float
    commit_utility: float
    audit: IncentiveAudit
    phase_lengths: dict
    phase_regret: dict
    mixing: np.ndarray
    details: dict = field(default_factory=dict)

    @property
    def regret(self) -> float:
        """Total regret over the horizon."""
        return float(self.cumulative_regret[-1])

    @property
    def average_regret(self) -> float:
        """``regret / horizon``."""
        return self.regret / self.horizon

    @property
    def is_ic(self) -> bool:
        """Whether the committed mechanism is IC on the true instance."""
        return bool(self.audit.is_ic)


def empirical_bernstein_width(variance, n, value_range: float, log_term: float):
    r"""Two-sided empirical Bernstein width (Maurer and Pontil 2009, Thm 4).

    For i.i.d. values in an interval of length ``value_range`` with sample variance ``variance`` (the
    unbiased one) over ``n`` samples,
    :math:`|\bar X - \mathbb E X| \le \sqrt{2 V \ell / n} + 7 R \ell / (3(n-1))`
    with probability at least :math:`1 - 4 e^{-\ell}`, ``log_term`` being :math:`\ell = \ln(4/\delta)`.
    Infinite for ``n < 2``.  Negative variances (round-off of a sample variance computed as
    :math:`\overline{X^2} - \bar X^2`) count as zero.
    """
    return _eb_width(np.maximum(check_array("variance", variance), 0.0), check_array("n", n),
                     check_array("value_range", value_range), check_nonnegative("log_term", log_term))


def _eb_width(variance, n, value_range, log_term: float):
    """:func:`empirical_bernstein_width` of validated arrays (the inner loops' version)."""
    variance = np.maximum(np.asarray(variance, dtype=float), 0.0)
    n = np.asarray(n, dtype=float)
    value_range = np.asarray(value_range, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.sqrt(2.0 * variance * log_term / n) + 7.0 * value_range * log_term / (3.0 * (n - 1.0))
    # a constant function has no error; otherwise at least two samples are needed
    return np.where(value_range <= 0, 0.0, np.where(n >= 2, w, np.inf))


def _scheffe_rounds(laws: np.ndarray, delta: float, reference: int | None = None) -> int:
    """Rounds after which Scheffe's pairwise tests pick the true law among ``laws`` w.p. >= 1 - delta.

    For laws x, y let A = {L_x > L_y}; the empirical mass of A is within TV(x, y)/2 of the truth's with
    probability 1 - 2 exp(-m TV^2 / 2) (Hoeffding), so the true law wins all its comparisons.  With
    ``reference`` only the comparisons against that law matter.
    """
    k = len(laws)
    pairs = [(x, y) for x in range(k) for y in range(x + 1, k)
             if reference is None or reference in (x, y)]
    if not pairs:
        return 1
    tv = min(0.5 * float(np.abs(laws[x] - laws[y]).sum()) for x, y in pairs)
    tv = max(tv, 1e-3)
    return max(64, math.ceil(2.0 * math.log(2.0 * len(pairs) / delta) / tv ** 2))


def _scheffe_wins(laws: np.ndarray, empirical: np.ndarray) -> np.ndarray:
    """Number of pairwise Scheffe comparisons each candidate law wins against the empirical law."""
    k = len(laws)
    wins = np.zeros(k, dtype=int)
    for x in range(k):
        for y in range(x + 1, k):
            heavier = laws[x] > laws[y]
            if not heavier.any():          # identical laws: nothing to tell them apart
                wins[x] += 1
                continue
            x_mass, y_mass = laws[x][heavier].sum(), laws[y][heavier].sum()
            e = empirical[heavier].sum()
            if abs(e - x_mass) <= abs(e - y_mass):
                wins[x] += 1
            else:
                wins[y] += 1
    return wins


def _bayes_actions(counts: np.ndarray, utility: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Action per report profile maximising the empirical expected utility (``fallback`` where unseen)."""
    score = counts @ utility.T                                  # (*n_signals, n_actions)
    seen = counts.sum(axis=-1) > 0
    return np.where(seen, score.argmax(axis=-1), fallback)


def _live(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``x`` with the rows of zero weight ``w`` set to 0: a profile never recommended contributes nothing to a
    weighted bound, even where it has too few samples for a finite width (0 * inf would be NaN)."""
    return np.where(w.reshape(-1, *([1] * (x.ndim - 1))) > 0, x, 0.0)


def _doubling(n: int, first: int = 16) -> list[int]:
    sizes, size, total = [], first, 0
    while total < n:
        take = min(size, n - total)
        sizes.append(take)
        total += take
        size *= 2
    return sizes


class _Learner:
    """The principal's side: sees only reports, states, the inducing rules, iota, u, the caps and the sets.

    ``payment_cap`` is one cap per agent; ``M`` is the largest (the faithful variant's worst-case widths).
    """

    def __init__(self, world: HiringWorld, *, n_efforts, n_signals, n_states, utility, payment_cap,
                 rules, iota, horizon, variant, delta, explore_scale, max_candidates, safety,
                 incentive_tests=True):
        self.world = world
        self.n = len(n_efforts)
        self.nb, self.ns, self.nt = tuple(n_efforts), tuple(n_signals), int(n_states)
        self.u = np.asarray(utility, dtype=float)
        self.caps = np.array(payment_cap, dtype=float).reshape(-1)        # agent i's cap M_i
        self.M = float(self.caps.max())
        self.rules = [np.asarray(r, dtype=float) for r in rules]      # rules[i]: (B_i, S_i, T)
        self.iota = float(iota)
        self.T = horizon
        self.variant = variant
        self.delta = delta
        self.explore_scale = explore_scale
        self.max_candidates = max_candidates
        self.incentive_tests = incentive_tests
        self.safety = safety
        self.P = int(np.prod(self.nb))
        self.profiles = list(np.ndindex(*self.nb))
        self.details: dict = {}

    # ----------------------------------------------------------------------- phase 1
    def estimate(self):
        N1 = max(2, math.ceil(self.explore_scale * self.T ** (2.0 / 3.0)))
        N1 = min(N1, max(2, self.T // (2 * self.P)))
        split = self.variant == "default"
        halves = (N1 // 2, N1 - N1 // 2) if split else (N1,)
        shape = (*self.ns, self.nt)
        counts = np.zeros((len(halves), self.P, *shape), dtype=np.int64)
        for p, b in enumerate(self.profiles):
            rules = [self.rules[i][b[i]] for i in range(self.n)]
            for h, size in enumerate(halves):
                for batch in _doubling(size):
                    if self.world.remaining == 0:
                        break
                    seen = counts[:, p].sum(axis=0)
                    allc = counts.sum(axis=(0, 1))
                    prior_act = int(np.argmax(self.u @ allc.reshape(-1, self.nt).sum(axis=0)))
                    actions = _bayes_actions(seen, self.u, prior_act)
                    c, _ = self.world._post(rules, actions, batch, "estimation", intended=b)
                    counts[h, p] += c
        self.N1 = N1
        self.counts = counts
        pooled = counts.sum(axis=0)
        self.n_pooled = pooled.reshape(self.P, -1).sum(axis=1)
        self.q_pooled = self._normalise(pooled)
        self.details["rounds_per_profile"] = N1

    def _normalise(self, counts):
        tot = counts.reshape(self.P, -1).sum(axis=1)
        q = counts.reshape(self.P, -1) / np.maximum(tot, 1)[:, None]
        return q.reshape(*self.nb, *self.ns, self.nt)

    def _own_counts(self, i, half=None):
        """Counts of agent i's (signal, state) per own effort, shape (B_i, S_i, T), pooled over profiles
        (and over both halves unless ``half`` is given)."""
        c = self.counts.sum(axis=0) if half is None else self.counts[half]
        c = c.reshape(*self.nb, *self.ns, self.nt)
        others_e = tuple(j for j in range(self.n) if j != i)
        others_s = tuple(self.n + j for j in range(self.n) if j != i)
        return c.sum(axis=others_e + others_s)

    # ----------------------------------------------------------------------- phase 2
    def learn_costs(self):
        n = self.n
        faithful = self.variant == "faithful"
        total_funcs = sum(B * B * (S ** S if S ** S <= _MAX_MAPS else S * S)
                          for B, S in zip(self.nb, self.ns))
        n_probes_guess = sum(max(B - 1, 0) for B in self.nb) * (4 + math.ceil(math.log2(max(self.T, 2))))
        log_w = math.log(4.0 * max(total_funcs, 1) / (self.delta / 4.0))
        self.cost_hat, self.cost_width = [], []
        self.tree = [[] for _ in range(n)]
        self.marg_hat, self.marg_width = [], []
        self.cheapest = self._probe_unpaid()
        if faithful:
            eps_q = self._faithful_eps_q()
        for i in range(n):
            B, S = self.nb[i], self.ns[i]
            own = self._own_counts(i).astype(float)               # (B, S, T)
            n_e = own.sum(axis=(1, 2))
            qm = own / np.maximum(n_e, 1)[:, None, None]
            g = self.rules[i]                                     # (B, S, T)
            if faithful:
                fw = None
            elif S ** S <= _MAX_MAPS:
                # W^e(g) = max over reporting maps w of E_e[g(w(s), theta)]: one functional per map, centred
                # on the rule's mid-range (W^e(g + c) = W^e(g) + c, so cost differences do not move)
                maps = np.array(list(np.ndindex(*([S] * S))), dtype=int)          # (n_maps, S)
                centre = 0.5 * (g.max(axis=(1, 2)) + g.min(axis=(1, 2)))            # (k,)
                h = g[:, maps, :] - centre[:, None, None, None]                     # (k, map, s, t)
                mean = np.einsum("est,kmst->ekm", qm, h)
                second = np.einsum("est,kmst->ekm", qm, h ** 2)
                var = (second - mean ** 2) * (n_e / np.maximum(n_e - 1, 1))[:, None, None]
                rng_h = h.max(axis=(2, 3)) - h.min(axis=(2, 3))                     # (k, map)
                fw = ("maps", _eb_width(var, n_e[:, None, None], rng_h[None], log_w))
            else:
                # per (signal, report) functionals F[e, s, k, s'] = E_e[1{s} g^k(s', theta)]
                mean = np.einsum("est,krt->eskr", qm, g)
                second = np.einsum("est,krt->eskr", qm, g ** 2)
                var = (second - mean ** 2) * (n_e / np.maximum(n_e - 1, 1))[:, None, None, None]
                fw = ("signals", _eb_width(var, n_e[:, None, None, None],
                                                           float(g.max(initial=0.0)), log_w))
            self.marg_hat.append(qm)
            self.marg_width.append(fw)
            parent = list(range(B))

            def find(x, parent=parent):  # union-find over this agent's efforts
                while parent[x] != x:
                    parent[x] = parent[parent[x]]
                    x = parent[x]
                return x

            edges = []
            while len({find(e) for e in range(B)}) > 1:
                k = next(e for e in range(B) if find(e) != find(0))
                a = 0
                lip = 2.0 * float(np.abs(g[k] - g[a]).max())
                if faithful:
                    w_of = lambda e, cap=float(self.caps[i]): cap * eps_q / 2.0  # noqa: E731 - agent i's rule is in [0, M_i]
                    eps_lam = self.T ** (-1.0 / 3.0)
                else:
                    def w_of(e, k=k, a=a, i=i):
                        return self._w_bound(i, e, {"ends": (k, a)})
                    w_ref = min(w_of(e) for e in range(B))
                    eps_lam = min(0.125, max(w_ref / max(lip, 1e-12), 1e-9))
                lo, hi, e_lo, e_hi = 0.0, 1.0, a, k
                while hi - lo > eps_lam and self.world.remaining > 0:
                    mid = 0.5 * (lo + hi)
                    e = self._probe(i, qm, g[k], g[a], mid, n_probes_guess)
                    if e is None:
                        break
                    if find(e) == find(k):
                        hi, e_hi = mid, e
                    else:
                        lo, e_lo = mid, e
                lam = 0.5 * (lo + hi)
                gl = lam * g[k] + (1 - lam) * g[a]
                W = self._W(qm, gl)
                est = W[e_hi] - W[e_lo]
                bracket = lip * (hi - lo) / 2.0
                width = bracket + w_of(e_hi) + w_of(e_lo)
                edges.append((e_hi, e_lo, est, width))
                self.tree[i].append({"hi": e_hi, "lo": e_lo, "rule": gl, "bracket": bracket,
                                     "ends": (k, a), "lam": lam})
                parent[find(e_lo)] = find(k)
            # potentials along the spanning tree from effort 0
            pot, wid = {0: 0.0}, {0: 0.0}
            while len(pot) < B:
                for (x, y, est, w) in edges:
                    if x in pot and y not in pot:
                        pot[y], wid[y] = pot[x] - est, wid[x] + w
                    elif y in pot and x not in pot:
                        pot[x], wid[x] = pot[y] + est, wid[y] + w
            p = np.array([pot[e] for e in range(B)])
            w = np.array([wid[e] for e in range(B)])
            self.cost_hat.append(p[:, None] - p[None, :])
            cw = w[:, None] + w[None, :]
            np.fill_diagonal(cw, 0.0)
            self.cost_width.append(cw)
        self.details["cost_estimates"] = [c.tolist() for c in self.cost_hat]
        self.details["switch_points"] = [
            [{"efforts": (e["hi"], e["lo"]), "lam": e["lam"], "bracket": e["bracket"]} for e in t]
            for t in self.tree]
        self.details["cost_widths"] = [c.tolist() for c in self.cost_width]

    def _probe_unpaid(self):
        """Post no payment at all: each agent exerts its cheapest effort; identify it per agent."""
        cheapest = []
        prior = self.q_pooled.reshape(self.P, -1, self.nt).sum(axis=1).mean(axis=0)
        act = int(np.argmax(self.u @ prior))
        rules = [np.zeros((self.ns[j], self.nt)) for j in range(self.n)]
        laws = []
        m = 1
        for i in range(self.n):
            own = self._own_counts(i).astype(float)
            qm = own / np.maximum(own.sum(axis=(1, 2)), 1)[:, None, None]
            flat = qm.reshape(qm.shape[0], -1)
            laws.append(flat)
            m = max(m, _scheffe_rounds(flat, self.delta / (8.0 * self.n)))
        if m > self.world.remaining // 5:
            # too few rounds to identify reliably: no effort is known to be the cheapest
            cheapest = [0 if f.shape[0] == 1 else None for f in laws]
            self.details["cheapest_efforts"] = cheapest
            return cheapest
        counts, used = self.world._post(rules, np.full(self.ns, act), m, "bisection")
        for i in range(self.n):
            if laws[i].shape[0] == 1:
                cheapest.append(0)
                continue
            if used == 0:
                cheapest.append(None)
                continue
            others = tuple(j for j in range(self.n) if j != i)
            mine = counts.sum(axis=others).astype(float).ravel()
            cheapest.append(int(np.argmax(_scheffe_wins(laws[i], mine / mine.sum()))))
        self.details["cheapest_efforts"] = cheapest
        return cheapest

    def _tree_path(self, i, b, bp):
        """Steps (x, y, edge) along the spanning tree of agent i's efforts from b to b'."""
        adj = {}
        for e in self.tree[i]:
            adj.setdefault(e["hi"], []).append((e["lo"], e))
            adj.setdefault(e["lo"], []).append((e["hi"], e))
        prev = {b: None}
        stack = [b]
        while stack:
            x = stack.pop()
            for y, e in adj.get(x, []):
                if y not in prev:
                    prev[y] = (x, e)
                    stack.append(y)
        steps, y = [], bp
        while prev[y] is not None:
            x, e = prev[y]
            steps.append((x, y, e))
            y = x
        return steps[::-1]

    def _w_bound(self, i, e_eff, edge):
        """Uniform bound on |W^e(g) - What^e(g)| for g on the edge's segment (pooled estimates)."""
        kind, fw = self.marg_width[i]
        k, a = edge["ends"]
        if kind == "maps":
            return float(np.maximum(fw[e_eff, k], fw[e_eff, a]).max())
        both = np.maximum(fw[e_eff, :, k, :], fw[e_eff, :, a, :])
        return float(both.max(axis=1).sum())

    @staticmethod
    def _W(qm, g):
        f = np.einsum("est,rt->esr", qm, g)
        return f.max(axis=2).sum(axis=1)

    @staticmethod
    def _report_law(qm, g):
        """For each effort, the law of (best report, state) under rule g, shape (B, S, T)."""
        f = np.einsum("est,rt->esr", qm, g)
        B, S, _ = qm.shape
        best = f.max(axis=2)
        omega = f.argmax(axis=2)
        diag = f[:, np.arange(S), np.arange(S)]
        omega = np.where(diag >= best - 1e-12, np.arange(S)[None, :], omega)
        law = np.zeros_like(qm)
        for e in range(B):
            np.add.at(law[e], omega[e], qm[e])
        return law

    def _probe(self, i, qm, gk, ga, lam, n_probes):
        """Post g_lam to agent i (others unpaid) for a batch; return the identified effort."""
        g = lam * gk + (1 - lam) * ga
        laws = self._report_law(qm, g)
        B = laws.shape[0]
        flat = laws.reshape(B, -1)
        m = _scheffe_rounds(flat, self.delta / (4.0 * n_probes))
        m = int(min(m, max(64, math.isqrt(self.T))))
        rules = [np.zeros((self.ns[j], self.nt)) for j in range(self.n)]
        rules[i] = g
        prior = self.q_pooled.reshape(self.P, -1, self.nt).sum(axis=1).mean(axis=0)
        act = int(np.argmax(self.u @ prior))
        counts, used = self.world._post(rules, np.full(self.ns, act), m, "bisection")
        if used == 0:
            return None
        others = tuple(j for j in range(self.n) if j != i)
        mine = counts.sum(axis=others).astype(float)
        emp = (mine / mine.sum()).ravel()
        return int(np.argmax(_scheffe_wins(flat, emp)))

    # ----------------------------------------------------------------------- phase 3
    def _faithful_eps_q(self):
        K = int(np.prod(self.ns)) * self.nt
        return math.sqrt(2.0 * (K * math.log(2.0) + math.log(2.0 * self.P / self.delta)) / self.N1)

    def _decision(self):
        return _bayes_decision(self.q_pooled, self.u)

    def _mix(self, phi, gamma, alphas):
        out = np.array(gamma, dtype=float)
        n = self.n
        for i in range(n):
            if alphas[i] <= 0:
                continue
            shape = [1] * (2 * n + 1)
            shape[i], shape[n + i], shape[2 * n] = self.rules[i].shape
            gb = np.broadcast_to(self.rules[i].reshape(shape), out.shape[1:])
            out[i] = (1 - alphas[i]) * out[i] + alphas[i] * gb
        return out

    def _estimated_value(self, q, phi, gamma):
        V = _value_of_information(q, self.u, self.n)
        paid = (gamma * q[None]).sum(axis=tuple(range(self.n + 1, 2 * self.n + 2))).sum(axis=0)
        return float((phi * (V - paid)).sum())

    def commit(self):
        if self.variant == "plugin":
            sol = solve_estimated_mechanism_lp(self.q_pooled, self.cost_hat, self.u, self.caps)
            phi, gamma, alphas = sol.recommendation, sol.payments, np.zeros(self.n)
        elif self.variant == "faithful":
            eps_q = self._faithful_eps_q()
            eps_c = max(float(w.max(initial=0.0)) for w in self.cost_width)
            eps_ic = self.M * eps_q + eps_c
            sol = solve_estimated_mechanism_lp(
                self.q_pooled, self.cost_hat, self.u, self.caps,
                effort_margins=-eps_ic, truthful_relaxation=eps_ic)
            alpha = 2 * eps_ic / (self.iota + 2 * eps_ic)
            phi, gamma, alphas = sol.recommendation, sol.payments, np.full(self.n, alpha)
            self.details.update(eps_q=eps_q, eps_C=eps_c, eps_IC=eps_ic)
        else:
            phi, gamma, alphas = self._certified_commit(solve_estimated_mechanism_lp)
        mixed = self._mix(phi, gamma, alphas)
        decision = self._decision()
        value = self._estimated_value(self.q_pooled, phi, mixed)
        mech = Mechanism(phi, mixed, decision, value)
        self.alphas = np.asarray(alphas, dtype=float)
        return mech

    def _certified_commit(self, solve):
        n, M = self.n, self.caps
        q1 = self._normalise(self.counts[0])
        q2 = self._normalise(self.counts[1])
        n2 = self.counts[1].reshape(self.P, -1).sum(axis=1).reshape(self.nb)
        J = self.max_candidates + 1        # the margin iterates and the behaviour-tested candidate
        n_funcs = 0
        for i in range(n):
            B, S = self.nb[i], self.ns[i]
            R = self.P // B
            n_funcs += B * R * S * S + 3 * B * (B - 1) * R * S * S + B * R
        log_v = math.log(4.0 * n_funcs * J / (self.delta / 2.0))
        candidates = []
        n1 = self.counts[0].reshape(self.P, -1).sum(axis=1).reshape(self.nb)
        safety_log = log_v * self.safety ** 2          # widths times `safety` when sizing margins on D1
        m_eff = [np.zeros((B, B)) for B in self.nb]
        m_tr = [np.zeros((B, S)) for B, S in zip(self.nb, self.ns)]
        for it in range(J):
            try:
                sol = solve(q1, self.cost_hat, self.u, M, effort_margins=m_eff, truthful_margins=m_tr)
            except InfeasibleError:
                break
            alphas, lows, _, _ = self._certify(sol.recommendation, sol.payments, q2, n2, log_v)
            mixed = self._mix(sol.recommendation, sol.payments, alphas)
            val = self._estimated_value(q2, sol.recommendation, mixed)
            candidates.append((val, it, sol, alphas, lows))
            # size the next margins to the deficits predicted on D1 alone (D2 stays independent)
            _, _, eff1, tr1 = self._certify(sol.recommendation, sol.payments, q1, n1, safety_log)
            grew = False
            for i in range(n):
                d_eff = np.where(np.isfinite(eff1[i]), np.maximum(-eff1[i], 0.0), 0.0)
                d_tr = np.where(np.isfinite(tr1[i]), np.maximum(-tr1[i], 0.0), 0.0)
                if self.cheapest[i] is not None:
                    d_eff[self.cheapest[i]] = 0.0
                    d_tr[self.cheapest[i]] = 0.0
                grew = grew or bool(d_eff.max(initial=0.0) > 0 or d_tr.max(initial=0.0) > 0)
                m_eff[i] = m_eff[i] + d_eff
                m_tr[i] = m_tr[i] + d_tr
            if not grew:
                break
        tested = (self._tested_candidate(solve, q1, q2, n1, n2, log_v, safety_log)
                  if self.incentive_tests else None)
        if not candidates and tested is None:
            return self._fallback()
        best = max(candidates, key=lambda c: c[0]) if candidates else None
        self.details.update(candidate_values=[(c[1], c[0], c[3].tolist()) for c in candidates])
        if tested is not None and (best is None or tested[0] >= best[0]):
            self.details.update(iteration="incentive test", tested_value=tested[0])
            return tested[1], tested[2], np.zeros(n)
        val, kappa, sol, alphas, lows = best
        self.details.update(iteration=kappa, certified_lower_bounds=lows)
        return sol.recommendation, sol.payments, alphas

    def _tested_candidate(self, solve, q1, q2, n1, n2, log_v, safety_log):
        """A candidate whose effort incentives are certified by the agents' own behaviour.

        The LP on the first half is solved with no effort margin (misreport margins grown as for the other
        candidates).  Then, for every agent i and recommended effort b with phi_i(b) > 0, agent i alone is
        posted its payments at b scaled by s (the others get their inducing rules, so they exert b_-i and
        report truthfully, exactly as obedient agents would): scaling multiplies every payment difference,
        so the set of scales at which the agent obeys is an interval, and bisection on s (identifying the
        effort played from the empirical (report, state) law) finds its lower end.  The committed scale is
        one bracket above the lowest tested obeying scale.  Misreport rows are certified on the second half.
        Returns ``(estimated value, phi, gamma)`` or None.
        """
        n, M = self.n, self.caps
        m_tr = [np.zeros((B, S)) for B, S in zip(self.nb, self.ns)]
        sol = None
        for _ in range(4):
            try:
                sol = solve(q1, self.cost_hat, self.u, M, effort_margins=0.0, truthful_margins=m_tr)
            except InfeasibleError:
                return None
            _, _, _, tr1 = self._certify(sol.recommendation, sol.payments, q1, n1, safety_log)
            grew = False
            for i in range(n):
                d = np.where(np.isfinite(tr1[i]), np.maximum(-tr1[i], 0.0), 0.0)
                if self.cheapest[i] is not None:
                    d[self.cheapest[i]] = 0.0
                if d.max(initial=0.0) > 0:
                    grew = True
                    m_tr[i] = m_tr[i] + d
            if not grew:
                break
        phi, gamma = sol.recommendation, np.array(sol.payments)
        _, _, _, tr2 = self._certify(phi, gamma, q2, n2, log_v)
        if any(np.any(np.isfinite(t) & (t < 0)) for t in tr2):
            return None
        prior = self.q_pooled.reshape(self.P, -1, self.nt).sum(axis=1).mean(axis=0)
        actions = np.full(self.ns, int(np.argmax(self.u @ prior)))
        budget = self.world.remaining // 10
        scales = {}
        for i in range(n):
            others = [j for j in range(n) if j != i]
            phi_i = phi.sum(axis=tuple(others))
            for b in range(self.nb[i]):
                if phi_i[b] <= 0:
                    continue
                sel = [slice(None)] * n
                sel[i] = b
                if b == self.cheapest[i]:
                    # no payment at all: the agent exerts its cheapest effort, reports are all alike
                    gamma[i][tuple(sel)] = 0.0
                    scales[(i, b)] = 0.0
                    continue
                weights = np.take(phi, b, axis=i)
                pay = np.take(gamma[i], b, axis=i)
                used = weights > 0
                top = float(pay[used].max(initial=0.0))
                if top <= 0:
                    return None
                s_max = float(M[i]) / top                  # agent i's payments stay within its own cap
                scale = self._bisect_scale(i, b, weights, pay, s_max, actions, budget)
                if scale is None:
                    return None
                gamma[i][tuple(sel)] *= scale
                scales[(i, b)] = scale
        self.details["tested_scales"] = {f"agent {i}, effort {b}": v for (i, b), v in scales.items()}
        return self._estimated_value(q2, phi, gamma), phi, np.minimum(gamma, M.reshape((n,) + (1,) * (gamma.ndim - 1)))

    def _bisect_scale(self, i, b, weights, pay, s_max, actions, budget):
        """Lowest tested scale at which agent i obeys recommendation b (plus one bracket), or None."""
        n, S = self.n, self.ns[i]
        qm = self.marg_hat[i]
        others = [j for j in range(n) if j != i]
        # predicted best reporting map per effort (scale-free) and the law of (report, state) it gives
        w = weights.ravel() / weights.sum()
        rest_shape = [self.nb[j] for j in others]
        pr = pay.reshape(len(w), *self.ns, self.nt)
        f = np.zeros((self.nb[i], S, S))
        for k, rest in enumerate(np.ndindex(*rest_shape)):
            if w[k] == 0:
                continue
            for e in range(self.nb[i]):
                prof = [0] * n
                prof[i] = e
                for j, v in zip(others, rest):
                    prof[j] = v
                qe = np.moveaxis(self.q_pooled[tuple(prof)], i, 0).reshape(S, -1)
                f[e] += w[k] * qe @ np.moveaxis(pr[k], i, 0).reshape(S, -1).T
        # candidate laws of (report, state): obedience with truthful reports, against every other
        # (effort, reporting map) -- all maps when there are few, else each effort's predicted best map
        if S ** S <= _MAX_MAPS:
            maps = [np.array(m) for m in np.ndindex(*([S] * S))]
        else:
            maps = [np.arange(S)]
        cands = []
        for e in range(self.nb[i]):
            emaps = maps if S ** S <= _MAX_MAPS else maps + [f[e].argmax(axis=1)]
            for omega in emaps:
                law = np.zeros((S, self.nt))
                np.add.at(law, omega, qm[e])
                cands.append((e == b and np.array_equal(omega, np.arange(S)), law.ravel()))
        flat = np.array([c[1] for c in cands])
        is_obey = np.array([c[0] for c in cands])
        obey_index = int(np.flatnonzero(is_obey)[0])
        del f
        steps = int(math.ceil(math.log2(1.0 / max(self.T ** (-1.0 / 3.0) / 8.0, 2.0 ** -14))))
        m = _scheffe_rounds(flat, self.delta / (16.0 * (steps + 1) * n), reference=obey_index)
        if m * (steps + 1) > budget:
            return None
        axes = tuple(range(len(others))) + tuple(len(others) + j for j in range(n) if j != i)

        def obeys(scale):
            counts, used = self.world.test_agent(i, b, weights, scale * pay, self.rules, actions, m)
            if used == 0:
                return None
            mine = counts.sum(axis=axes).astype(float).ravel()
            # obedience is accepted only if its law wins every comparison against an alternative
            others_idx = np.flatnonzero(~is_obey)
            sub = np.vstack([flat[obey_index], flat[others_idx]])
            return bool(_scheffe_wins(sub, mine / mine.sum())[0] == len(others_idx))

        top = obeys(s_max)
        if not top:
            return None
        lo, hi = 0.0, s_max
        for _ in range(steps):
            mid = 0.5 * (lo + hi)
            ok = obeys(mid)
            if ok is None:
                return None
            if ok:
                hi = mid
            else:
                lo = mid
        return min(s_max, hi + (hi - lo))

    def _fallback(self):
        """No candidate met its margins: commit to the inducing rules of the best-looking profile."""
        V = _value_of_information(self.q_pooled, self.u, self.n)
        best, best_val = None, -np.inf
        for b in self.profiles:
            pay = 0.0
            for i in range(self.n):
                own = self._own_counts(i).astype(float)
                qm = own[b[i]] / max(own[b[i]].sum(), 1)
                pay += float((qm * self.rules[i][b[i]]).sum())
            if V[b] - pay > best_val:
                best, best_val = b, V[b] - pay
        phi = np.zeros(self.nb)
        phi[best] = 1.0
        gamma = np.zeros((self.n, *self.nb, *self.ns, self.nt))
        self.details.update(iteration=None, fallback_profile=tuple(int(x) for x in best))
        return phi, gamma, np.ones(self.n)

    def _effort_row_low(self, i, b, bp, w, qt, gt, nn, corr, log_v):
        """Lower confidence bound on the slack of IC row (b -> b') of agent i, per unit phi_i(b).

        With the tree path b = x_0, ..., x_k = b' and switch rules g_j,
        C(b, b') = sum_j [W^{x_{j-1}}(g_j) - W^{x_j}(g_j)] + bracket errors, so the slack is
        [Obed_b(gamma) - W^b(g_1)] - [Dev_b'(gamma) - W^b'(g_k)]
        - sum_{0<j<k} [W^{x_j}(g_{j+1}) - W^{x_j}(g_j)]
        - brackets; the first two brackets are estimated as single functionals of (gamma - g) on the same
        samples, so their errors cancel where gamma resembles g.
        """
        S, T = self.ns[i], self.nt
        steps = self._tree_path(i, b, bp)
        g_first, g_last = steps[0][2]["rule"], steps[-1][2]["rule"]
        Ki = qt.shape[-1]
        theta = np.arange(Ki) % T
        # A: E_(b,r)[1{s}(gamma(b,r,s) - g_first(s', .))] >= LCB, minimised over s'
        diff_a = gt[b][:, :, None, :] - g_first[:, theta][None, None, :, :]        # (R, s, s', k)
        ma = np.einsum("rsk,rstk->rst", qt[b], diff_a)
        va = (np.einsum("rsk,rstk->rst", qt[b], diff_a ** 2) - ma ** 2) * corr[b][:, None, None]
        ra = np.maximum(diff_a.max(axis=3), 0.0) - np.minimum(diff_a.min(axis=3), 0.0)
        wa = _eb_width(va, nn[b][:, None, None], ra, log_v)
        a_low = float((w * _live(w, (ma - wa).min(axis=2).sum(axis=1))).sum())
        # B: W^b'(g_last) >= E_b'[g_last(omega(s), .)] for the map omega that looks best on the first half
        # alone (a fixed map as far as the certifying half is concerned), so
        # Dev_b'(gamma) - W^b'(g_last) <= sum_s max_s' E_(b',r)[1{s}(gamma(b,r,s') - g_last(omega(s), .))]
        own1 = self._own_counts(i, half=0)[bp].astype(float)
        f1 = np.einsum("st,rt->sr", own1, g_last)
        omega = f1.argmax(axis=1)
        omega = np.where(f1[np.arange(S), np.arange(S)] >= f1.max(axis=1) - 1e-12, np.arange(S), omega)
        g_rep = g_last[omega][:, theta]                                              # (s, k)
        diff_b = gt[b][:, None, :, :] - g_rep[None, :, None, :]                      # (R, s, s', k)
        mb = np.einsum("rsk,rstk->rst", qt[bp], diff_b)
        vb = (np.einsum("rsk,rstk->rst", qt[bp], diff_b ** 2) - mb ** 2) * corr[bp][:, None, None]
        rb = np.maximum(diff_b.max(axis=3), 0.0) - np.minimum(diff_b.min(axis=3), 0.0)
        wb = _eb_width(vb, nn[bp][:, None, None], rb, log_v)
        b_high = float(np.einsum("r,rst->st", w, _live(w, mb + wb)).max(axis=1).sum())
        # intermediate efforts of the path and bisection brackets
        rest = sum(e["bracket"] for _, _, e in steps)
        qm = self.marg_hat[i]
        for j in range(len(steps) - 1):
            x = steps[j][1]
            g_in, g_out = steps[j][2], steps[j + 1][2]
            rest += (self._W(qm, g_out["rule"])[x] - self._W(qm, g_in["rule"])[x]
                     + self._w_bound(i, x, g_out) + self._w_bound(i, x, g_in))
        cancel = a_low - b_high - rest
        # second bound: payments alone on this sample, costs from the pooled estimate and its width
        mo = (qt[b] * gt[b]).sum(axis=(1, 2))
        vo = ((qt[b] * gt[b] ** 2).sum(axis=(1, 2)) - mo ** 2) * corr[b]
        ro = gt[b].max(axis=(1, 2)) - gt[b].min(axis=(1, 2))
        obedient_low = float((w * _live(w, mo - _eb_width(vo, nn[b], ro, log_v))).sum())
        md = np.einsum("rsk,rtk->rst", qt[bp], gt[b])
        vd = (np.einsum("rsk,rtk->rst", qt[bp], gt[b] ** 2) - md ** 2) * corr[bp][:, None, None]
        rd = np.maximum(gt[b].max(axis=2), 0.0)[:, None, :] * np.ones((1, S, 1))
        wd = _eb_width(vd, nn[bp][:, None, None], rd, log_v)
        dev_high = float(np.einsum("r,rst->st", w, _live(w, md + wd)).max(axis=1).sum())
        separate = obedient_low - dev_high - (self.cost_hat[i][b, bp] + self.cost_width[i][b, bp])
        return max(cancel, separate)

    def _certify(self, phi, gamma, q2, n2, log_v):
        """Lower confidence bounds on every IC row of (phi, gamma) from the sample (q2, n2).

        Returns the repairing mixing weights, the worst bound per agent, and per agent the effort-row
        bounds ``eff[b, b']`` and the misreport bounds ``tr[b, s]`` (worst over ``s'``); ``+inf`` marks
        rows that need nothing (not recommended, or certified exactly).
        """
        n, iota = self.n, self.iota
        alphas = np.zeros(n)
        lows, eff_rows, tr_rows = [], [], []
        for i in range(n):
            B, S = self.nb[i], self.ns[i]
            axes = _agent_axes(n, i)
            R = self.P // B
            qt = np.transpose(q2, axes).reshape(B, R, S, -1)
            gt = np.transpose(gamma[i], axes).reshape(B, R, S, -1)
            ph = np.transpose(phi, axes[:n]).reshape(B, R)
            nn = np.transpose(n2, axes[:n]).reshape(B, R).astype(float)
            corr = nn / np.maximum(nn - 1, 1)
            phi_i = ph.sum(axis=1)
            eff = np.full((B, B), np.inf)
            tr = np.full((B, S), np.inf)
            for b in range(B):
                if phi_i[b] <= 0:
                    continue
                w = ph[b] / phi_i[b]                                     # (R,)
                # single misreports under obedience: d[r, s, s'] = E_b[1{s}(g(s) - g(s'))]; the range
                # of each functional is that of the fixed function, so a report-independent payment
                # has no estimation error at all
                diff = gt[b][:, :, None, :] - gt[b][:, None, :, :]           # (R, s, s', k)
                md = np.einsum("rsk,rstk->rst", qt[b], diff)
                vd = (np.einsum("rsk,rstk->rst", qt[b], diff ** 2) - md ** 2) * corr[b][:, None, None]
                rd = np.maximum(diff.max(axis=3), 0.0) - np.minimum(diff.min(axis=3), 0.0)  # (R, s, s')
                wd = _eb_width(vd, nn[b][:, None, None], rd, log_v)
                dlow = np.einsum("r,rst->st", w, _live(w, md - wd))
                np.fill_diagonal(dlow, np.inf)
                tr[b] = dlow.min(axis=1)
                constant = bool(np.all((gt[b].max(axis=(1, 2)) - gt[b].min(axis=(1, 2)))[w > 0] <= 1e-12))
                if constant and b == self.cheapest[i]:
                    # a report-independent payment leaves only costs: the cheapest effort is obeyed
                    continue
                for bp in range(B):
                    if bp != b:
                        eff[b, bp] = self._effort_row_low(i, b, bp, w, qt, gt, nn, corr, log_v)
            worst = float(min(eff.min(initial=np.inf), tr.min(initial=np.inf)))
            lows.append(worst)
            eff_rows.append(eff)
            tr_rows.append(tr)
            if worst < 0:
                # no finite bound (too few samples): the inducing rules alone
                alphas[i] = -worst / (iota - worst) if np.isfinite(worst) else 1.0
        return alphas, lows, eff_rows, tr_rows


@functools.lru_cache(maxsize=8)
def learnable_instances(count: int, start: int = 0, *, correlation: float = 0.3,
                        cost_factor: float = 0.25) -> tuple:
    """Random small instances on which the online learner has something to learn.

    ``HiringInstance.random(2, 2, 2, 2, 2, correlation=correlation, seed=s).scale_costs(cost_factor)`` for
    ``s = start, start + 1, ...``, keeping those whose inducing rules exist (Assumption 1, so
    :func:`simulate_online` applies) and whose optimal mechanism hires somebody (with the default random
    costs hiring nobody is optimal on most small instances, which leaves nothing to learn).

    Returns
    -------
    tuple of (int, HiringInstance)
        The first ``count`` such ``(seed, instance)`` pairs (cached: the same call returns the same tuple).
    """
    count = check_integer("count", count, minimum=0)
    # about 4 KiB an instance; on average one seed in a few qualifies, each drawn and solved (milliseconds)
    check_allocation("count", 4096 * count, f"a tuple of {count} hiring instances")
    correlation = check_unit_interval("correlation", correlation)
    cost_factor = check_nonnegative("cost_factor", cost_factor)
    out, seed = [], check_integer("start", start, minimum=0)
    while len(out) < count:
        inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=correlation, seed=seed).scale_costs(cost_factor)
        seed += 1
        try:
            inducing_scoring_rules(inst)
        except InfeasibleError:
            continue
        if optimal_mechanism(inst).recommendation.flat[0] > 0.99:
            continue
        out.append((seed - 1, inst))
    return tuple(out)


def _checkpoint_points(horizon: int, per_decade: int) -> int:
    return max(2, int(per_decade * math.log10(max(horizon, 10))) + 1)


def _checkpoint_grid(horizon: int, boundaries, per_decade: int = 12) -> np.ndarray:
    n_points = _checkpoint_points(horizon, per_decade)
    grid = np.unique(np.round(np.logspace(0, math.log10(horizon), n_points)))
    pts = np.concatenate([grid, np.asarray(boundaries, dtype=float), [horizon]])
    pts = np.unique(pts[(pts >= 1) & (pts <= horizon)]).astype(np.int64)
    return pts


def simulate_online(instance: HiringInstance, horizon: int, seed=None, *, variant: str = "default",
                    delta: float | None = None, explore_scale: float | None = None,
                    max_candidates: int = 6, safety: float = 1.25, incentive_tests: bool = True,
                    non_ic_charge: str = "worst",
                    inducing_rules=None, optimal_value: float | None = None,
                    checkpoints_per_decade: int = 12) -> OnlineResult:
    """Run the explore-then-commit mechanism learner against best-responding agents (module docstring).

    Parameters
    ----------
    instance : HiringInstance
        The truth; every agent's signal marginal must depend on its own effort only.
    horizon : int
        Number of rounds T, ``1 <= T <= 10**18`` (:data:`mechsim.hiring.online_sim.MAX_HORIZON`: round
        counts are int64).  Phases are simulated in aggregate: T = 1e9 takes well under a second of sampling
        plus a few small LPs.  The learner always commits a mechanism for at least the last round; on
        horizons too short for its exploration phases (a few thousand rounds on 2 x 2 instances) they are cut
        short and the committed mechanism is the best it can compute from what it saw (often not IC, and
        charged accordingly).
    seed : None, int or numpy.random.Generator
    variant : {"default", "faithful", "plugin"}
    delta : float in (0, 1), optional
        Confidence parameter; default ``1 / T``.
    explore_scale : float, optional
        c in :math:`N_1 = \\lceil c T^{2/3} \\rceil` rounds per profile; default 0.25 for ``"default"``
        (tuned on random instances) and 1, the paper's choice, for the others.
    max_candidates : int
        Default variant: at most this many margin iterations (candidates certified on the second half).
    safety : float
        Default variant: margins are grown until the first half predicts every row's slack to exceed
        ``safety`` times its confidence width.
    incentive_tests : bool
        Default variant: also build the incentive-tested candidate (module docstring).
    non_ic_charge : {"worst", "best_response"}
        How a committed mechanism that is not IC is charged (:mod:`mechsim.hiring.online_sim`).
    inducing_rules : InducingRules, optional
        The known rules and ι; default :func:`mechsim.solvers.hiring_lp.inducing_scoring_rules` on the
        true instance (only the rules and ι are handed to the learner).
    optimal_value : float, optional
        OPT, if already computed (default: :func:`mechsim.solvers.hiring_lp.optimal_mechanism`); finite.
    checkpoints_per_decade : int
        Density of the logarithmic checkpoint grid.

    Returns
    -------
    OnlineResult

    Examples
    --------
    >>> from mechsim.hiring import HiringInstance, simulate_online
    >>> inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.3, seed=3)
    >>> res = simulate_online(inst, 10**8, seed=0)
    >>> bool(res.is_ic), int(res.checkpoints[-1])
    (True, 100000000)
    """
    instance = check_hiring_instance("instance", instance)
    T = check_integer("horizon", horizon, minimum=1, maximum=MAX_HORIZON)
    variant = check_choice("variant", variant, VARIANTS)
    if not instance.has_own_effort_marginals:
        raise InvalidInstanceError(
            "instance: expected every agent's signal marginal to depend on its own effort only "
            "(the online model), found a dependence on the others' efforts", argument="instance")
    if delta is None:
        delta = 1.0 / max(T, 2)
    delta = check_positive("delta", delta)
    if not delta < 1:
        raise InvalidInstanceError(f"delta: expected a number in (0, 1), found {delta!r}", argument="delta")
    if explore_scale is None:
        explore_scale = 0.25 if variant == "default" else 1.0
    explore_scale = check_positive("explore_scale", explore_scale)
    max_candidates = check_integer("max_candidates", max_candidates, minimum=1)
    safety = check_positive("safety", safety)
    if not isinstance(incentive_tests, (bool, np.bool_)):
        raise InvalidInstanceError(f"incentive_tests: expected a bool, found {type(incentive_tests).__name__}",
                                   argument="incentive_tests")
    non_ic_charge = check_choice("non_ic_charge", non_ic_charge, ("worst", "best_response"))
    per_decade = check_integer("checkpoints_per_decade", checkpoints_per_decade, minimum=1)
    n_points = _checkpoint_points(T, per_decade) if per_decade < 10**15 else per_decade
    check_allocation("checkpoints_per_decade", 8 * 4 * n_points, f"a grid of {n_points} checkpoints")
    rng = as_generator(seed)
    if inducing_rules is None:
        inducing_rules = inducing_scoring_rules(instance)
    elif not isinstance(inducing_rules, InducingRules):
        raise InvalidInstanceError(f"inducing_rules: expected InducingRules (mechsim.solvers.hiring_lp."
                                   f"inducing_scoring_rules), found {type(inducing_rules).__name__}",
                                   argument="inducing_rules")
    elif len(inducing_rules.rules) != instance.n_agents or any(
            np.shape(r) != (b, s, instance.n_states)
            for r, b, s in zip(inducing_rules.rules, instance.n_efforts, instance.n_signals)):
        raise InvalidInstanceError("inducing_rules: expected one (n_efforts_i, n_signals_i, n_states) array of "
                                   "rules per agent of instance, found shapes "
                                   f"{[np.shape(r) for r in inducing_rules.rules]}", argument="inducing_rules")
    if optimal_value is None:
        optimal_value = optimal_mechanism(instance).value
    optimal_value = float(check_array("optimal_value", optimal_value, ndim=0))
    # One round is held back for the commit: on a horizon too short to finish exploring, the exploration
    # batches are cut short instead of leaving no round to commit to a mechanism.
    world = HiringWorld(instance, T, optimal_value, rng, non_ic_charge, reserve=1)
    learner = _Learner(world, n_efforts=instance.n_efforts, n_signals=instance.n_signals,
                       n_states=instance.n_states, utility=instance.utility,
                       payment_cap=instance.payment_caps, rules=inducing_rules.rules,
                       iota=inducing_rules.iota, horizon=T, variant=variant, delta=delta,
                       explore_scale=explore_scale, max_candidates=max_candidates, safety=safety,
                       incentive_tests=bool(incentive_tests))
    learner.estimate()
    learner.learn_costs()
    mech = learner.commit()
    truth = world.commit(mech)
    audit, committed_value, commit_utility = truth["audit"], truth["value"], truth["utility"]
    mixing = learner.alphas
    lengths = {"estimation": 0, "bisection": 0, "incentive test": 0, "commit": 0}
    phase_regret = {"estimation": 0.0, "bisection": 0.0, "incentive test": 0.0, "commit": 0.0}
    boundaries = []
    for seg in world.segments:
        lengths[seg.phase] += seg.n_rounds
        phase_regret[seg.phase] += seg.n_rounds * seg.regret_per_round
    acc = 0
    for ph in ("estimation", "bisection", "incentive test"):
        acc += lengths[ph]
        boundaries.append(acc)
    checkpoints = _checkpoint_grid(T, boundaries, per_decade)
    cumulative = world.cumulative_regret(checkpoints)
    details = dict(learner.details)
    details["iota"] = learner.iota
    details["delta"] = delta
    return OnlineResult(horizon=T, variant=variant, checkpoints=checkpoints, cumulative_regret=cumulative,
                        optimal_value=float(optimal_value), mechanism=mech,
                        committed_value=float(committed_value), commit_utility=float(commit_utility),
                        audit=audit, phase_lengths=lengths, phase_regret=phase_regret,
                        mixing=np.asarray(mixing, dtype=float), details=details)
