"""Hypothesis strategies and assertions for the hiring domain.

>>> from hypothesis import given
>>> from mechsim.testing.hiring import hiring_instances
>>> @given(hiring_instances(max_agents=2, correlated=True))
... def test_my_mechanism_is_ic(instance):
...     assert_hiring_incentive_compatible(instance, my_mechanism(instance))   # doctest: +SKIP

Instances are built from a drawn seed and drawn sizes with numpy (cheap, deterministic given the
draw): prior and signal laws from Dirichlet distributions, increasing costs, utilities in [0, 1].
With ``own_effort_marginals=True`` (the default) agent *i*'s signal marginal depends on its own
effort only and signals are coupled as in :meth:`mechsim.hiring.HiringInstance.random` (product of
the marginals mixed with their comonotone coupling); with ``False`` the joint law is an arbitrary
Dirichlet draw per (profile, state).  With ``per_agent_caps=True`` every agent draws its own payment cap.

:func:`enumerated_mechanism_value` is an independent oracle for the hiring LPs of
:mod:`mechsim.solvers.hiring_lp`: the same optimum with every reporting map written out (exponential in the
number of signals, so for tiny instances only).
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import strategies as st

from mechsim.hiring.audit import audit_incentives
from mechsim.hiring.model import HiringInstance, Mechanism, _couple, check_payment_caps, value_of_information

__all__ = ["hiring_instances", "mechanisms", "assert_hiring_incentive_compatible", "enumerated_ic_rows",
           "enumerated_mechanism_value"]


@st.composite
def hiring_instances(
    draw,
    max_agents: int = 2,
    max_efforts: int = 3,
    max_signals: int = 3,
    max_states: int = 3,
    max_actions: int = 3,
    correlated: bool | None = None,
    own_effort_marginals: bool = True,
    min_agents: int = 1,
    min_efforts: int = 1,
    min_signals: int = 1,
    min_states: int = 1,
    payment_caps=(0.5, 1.0, 2.0),
    per_agent_caps: bool | None = False,
):
    """Strategy for :class:`~mechsim.hiring.HiringInstance`.

    Parameters
    ----------
    max_agents, max_efforts, max_signals, max_states, max_actions : int
        Upper bounds on the sizes (efforts and signals are drawn per agent).
    correlated : bool or None
        ``False``: signals conditionally independent given the state; ``True``: coupled with a
        weight ``kappa in [0.1, 1]`` (only with ``own_effort_marginals``; an arbitrary joint law is
        correlated almost surely); ``None``: either.
    own_effort_marginals : bool
        Whether each agent's signal marginal depends on its own effort only (the online model).
    min_agents, min_efforts, min_signals, min_states : int
        Lower bounds.
    payment_caps : sequence of float
        Candidate payment caps ``M``.
    per_agent_caps : bool or None, default False
        ``False``: one common cap drawn from ``payment_caps``; ``True``: one cap per agent, each drawn from
        ``payment_caps`` (so they may differ); ``None``: either.  Agent *i*'s costs are drawn in proportion to
        its own cap.
    """
    n = draw(st.integers(min_agents, max_agents))
    efforts = tuple(draw(st.integers(min_efforts, max_efforts)) for _ in range(n))
    signals = tuple(draw(st.integers(min_signals, max_signals)) for _ in range(n))
    n_states = draw(st.integers(min_states, max_states))
    n_actions = draw(st.integers(1, max_actions))
    if per_agent_caps is None:
        per_agent_caps = draw(st.booleans())
    if per_agent_caps:
        cap = [draw(st.sampled_from(tuple(payment_caps))) for _ in range(n)]
    else:
        cap = draw(st.sampled_from(tuple(payment_caps)))
    caps = np.broadcast_to(np.asarray(cap, dtype=float), (n,))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    prior = rng.dirichlet(np.ones(n_states))
    utility = rng.uniform(0.0, 1.0, size=(n_actions, n_states))
    costs = [
        np.concatenate([[0.0], np.cumsum(rng.uniform(0.0, 0.2 * m, size=k - 1))]) for k, m in zip(efforts, caps)
    ]
    if own_effort_marginals:
        marginals = [
            rng.dirichlet(np.full(m, 0.7), size=(k, n_states)).transpose(0, 2, 1)
            for k, m in zip(efforts, signals)
        ]
        if correlated is None:
            correlated = draw(st.booleans())
        kappa = draw(st.floats(0.1, 1.0)) if correlated else 0.0
        law = _couple(marginals, efforts, signals, n_states, kappa)
    else:
        flat = rng.dirichlet(np.full(int(np.prod(signals)), 0.7), size=(*efforts, n_states))
        law = np.moveaxis(flat.reshape(*efforts, n_states, *signals), n, -1)
    return HiringInstance(prior, costs, law, utility, cap)


@st.composite
def mechanisms(draw, instance: HiringInstance, bayes_decision: bool | None = None):
    """Strategy for random (usually not IC) :class:`~mechsim.hiring.Mechanism` s of ``instance``.

    The recommendation is a point mass, a full-support or a sparse distribution; agent *i*'s payments are
    uniform in ``[0, M_i]`` (or 0 with some probability per profile); the decision is the Bayes
    decision or a random stochastic one.  ``value`` is computed exactly.
    """
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    E, P = instance.n_efforts, instance.n_profiles
    kind = draw(st.sampled_from(["point", "full", "sparse"]))
    if kind == "point":
        rec = np.zeros(P)
        rec[rng.integers(P)] = 1.0
    else:
        rec = rng.dirichlet(np.ones(P))
        if kind == "sparse" and P > 1:
            rec[rng.random(P) < 0.5] = 0.0
            if rec.sum() == 0:
                rec[rng.integers(P)] = 1.0
            rec = rec / rec.sum()
    rec = rec.reshape(E)
    shape = (instance.n_agents, *E, *instance.n_signals, instance.n_states)
    caps = instance.payment_caps.reshape((instance.n_agents,) + (1,) * (len(shape) - 1))
    payments = rng.uniform(0.0, caps, size=shape)
    if draw(st.booleans()):
        payments *= rng.random((instance.n_agents, *E) + (1,) * (instance.n_agents + 1)) < 0.7
    if bayes_decision is None:
        bayes_decision = draw(st.booleans())
    decision = None
    if not bayes_decision:
        decision = rng.dirichlet(np.ones(instance.n_actions), size=(*E, *instance.n_signals))
    return Mechanism.build(instance, rec, payments, decision)


def assert_hiring_incentive_compatible(
    instance: HiringInstance, mechanism: Mechanism, atol: float = 1e-7, *, limits: bool = False
) -> None:
    """Raise ``AssertionError`` naming the worst deviation unless IC within ``atol``.

    With ``limits=True`` also unless every agent's payments lie in ``[0, M_i]`` within ``atol``.
    """
    audit = audit_incentives(instance, mechanism, atol=atol)
    if not audit.is_ic:
        raise AssertionError(f"mechanism is not incentive compatible: {audit}")
    if limits and not audit.respects_limits:
        raise AssertionError(f"mechanism pays outside the limits [0, M_i]: agent {audit.limit_agent} by "
                             f"{audit.limit_excess:.3g}")


def enumerated_ic_rows(joint, cost_differences, utility, payment_cap, *, effort_margins=None,
                       truthful_margins=None, truthful_relaxation: float = 0.0):
    r"""The correlated hiring LP with every reporting map an explicit row: an oracle for the z-trick LPs.

    Variables :math:`x = (\phi, y_0, \dots, y_{n-1})` with :math:`y_i(b,s,\theta) = \phi(b)\gamma_i(b,s,\theta)`
    (C order, as in :func:`mechsim.solvers.hiring_lp.build_hiring_lp`), dense rows ``A_ub @ x <= 0``: the caps
    :math:`y_i \le M_i\phi` (``payment_cap`` one number or one per agent); for every agent, recommended and
    exerted effort and reporting map :math:`\omega` (all :math:`|S_i|^{|S_i|}` of them, no auxiliary variables)
    deviation payoff minus obedient payoff plus
    :math:`(C_i(b_i,b'_i) + m_i[b_i,b'_i])\,\phi_i(b_i)`, or :math:`-\rho\,\phi_i(b_i)` for :math:`b'_i = b_i`;
    with ``truthful_margins`` :math:`\tau` the :math:`b'_i = b_i` rows are replaced by one row per single
    misreport :math:`s \to t`, :math:`\sum q_b (y(\cdot, t) - y(\cdot, s)) + \tau_i[b_i, s]\,\phi_i(b_i)`.

    Returns
    -------
    (A_ub, cost, n_profiles)
        ``cost`` is minimised (minus the principal's utility); the normalisation :math:`\sum_b \phi(b) = 1`
        and :math:`x \ge 0` are the caller's.
    """
    q = np.asarray(joint, dtype=float)
    u = np.asarray(utility, dtype=float)
    n = (q.ndim - 1) // 2
    E, S, T = q.shape[:n], q.shape[n:2 * n], q.shape[-1]
    m_eff = [np.zeros((k, k)) for k in E] if effort_margins is None else effort_margins
    caps = check_payment_caps("payment_cap", payment_cap, n)
    profiles = list(np.ndindex(*E))
    P, Y = len(profiles), len(profiles) * int(np.prod(S)) * T
    n_vars = P + n * Y

    def y(i, b, s, t):
        return P + i * Y + np.ravel_multi_index(tuple(b) + tuple(s) + (t,), (*E, *S, T))

    rows = []
    for p, b in enumerate(profiles):
        for i in range(n):
            for s in np.ndindex(*S):
                for t in range(T):
                    row = np.zeros(n_vars)
                    row[y(i, b, s, t)], row[p] = 1.0, -caps[i]
                    rows.append(row)
    for i in range(n):
        for bi, pi in itertools.product(range(E[i]), repeat=2):
            if pi == bi and truthful_margins is not None:
                continue
            rhs = -truthful_relaxation if pi == bi else cost_differences[i][bi, pi] + m_eff[i][bi, pi]
            for omega in itertools.product(range(S[i]), repeat=S[i]):
                row = np.zeros(n_vars)
                for p, b in enumerate(profiles):
                    if b[i] != bi:
                        continue
                    dev = list(b)
                    dev[i] = pi
                    for s in np.ndindex(*S):
                        rep = list(s)
                        rep[i] = omega[s[i]]
                        for t in range(T):
                            row[y(i, b, rep, t)] += q[tuple(dev) + s + (t,)]
                            row[y(i, b, s, t)] -= q[b + s + (t,)]
                    row[p] += rhs
                rows.append(row)
        if truthful_margins is None:
            continue
        for bi in range(E[i]):
            for si, ti in itertools.permutations(range(S[i]), 2):
                row = np.zeros(n_vars)
                for p, b in enumerate(profiles):
                    if b[i] != bi:
                        continue
                    for s in np.ndindex(*S):
                        if s[i] != si:
                            continue
                        other = list(s)
                        other[i] = ti
                        for t in range(T):
                            row[y(i, b, s, t)] -= q[b + s + (t,)]
                            row[y(i, b, other, t)] += q[b + s + (t,)]
                    row[p] += truthful_margins[i][bi, si]
                rows.append(row)
    cost = np.concatenate([-value_of_information(q, u, n).ravel(), np.tile(q.ravel(), n)])
    return np.array(rows), cost, P


def enumerated_mechanism_value(joint, cost_differences, utility, payment_cap, **margins) -> float | None:
    """Optimum of :func:`enumerated_ic_rows` (``scipy.optimize.linprog``, HiGHS, tolerances 1e-10).

    ``None`` when infeasible.  Keyword arguments are those of :func:`enumerated_ic_rows`.
    """
    from scipy.optimize import linprog

    A, cost, P = enumerated_ic_rows(joint, cost_differences, utility, payment_cap, **margins)
    eq = np.zeros((1, A.shape[1]))
    eq[0, :P] = 1.0
    res = linprog(cost, A_ub=A, b_ub=np.zeros(len(A)), A_eq=eq, b_eq=[1.0], bounds=[(0, None)] * A.shape[1],
                  method="highs", options={"primal_feasibility_tolerance": 1e-10,
                                           "dual_feasibility_tolerance": 1e-10})
    if res.status == 2:
        return None
    assert res.status == 0, res.message
    return float(-res.fun)
