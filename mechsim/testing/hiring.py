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
Dirichlet draw per (profile, state).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from mechsim.hiring.audit import audit_incentives
from mechsim.hiring.model import HiringInstance, Mechanism, _couple

__all__ = ["hiring_instances", "mechanisms", "assert_hiring_incentive_compatible"]


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
    """
    n = draw(st.integers(min_agents, max_agents))
    efforts = tuple(draw(st.integers(min_efforts, max_efforts)) for _ in range(n))
    signals = tuple(draw(st.integers(min_signals, max_signals)) for _ in range(n))
    n_states = draw(st.integers(min_states, max_states))
    n_actions = draw(st.integers(1, max_actions))
    cap = draw(st.sampled_from(tuple(payment_caps)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    prior = rng.dirichlet(np.ones(n_states))
    utility = rng.uniform(0.0, 1.0, size=(n_actions, n_states))
    costs = [
        np.concatenate([[0.0], np.cumsum(rng.uniform(0.0, 0.2 * cap, size=k - 1))]) for k in efforts
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

    The recommendation is a point mass, a full-support or a sparse distribution; payments are
    uniform in ``[0, M]`` (or 0 with some probability per profile); the decision is the Bayes
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
    payments = rng.uniform(0.0, instance.payment_cap, size=shape)
    if draw(st.booleans()):
        payments *= rng.random((instance.n_agents, *E) + (1,) * (instance.n_agents + 1)) < 0.7
    if bayes_decision is None:
        bayes_decision = draw(st.booleans())
    decision = None
    if not bayes_decision:
        decision = rng.dirichlet(np.ones(instance.n_actions), size=(*E, *instance.n_signals))
    return Mechanism.build(instance, rec, payments, decision)


def assert_hiring_incentive_compatible(
    instance: HiringInstance, mechanism: Mechanism, atol: float = 1e-7
) -> None:
    """Raise ``AssertionError`` naming the worst deviation unless IC within ``atol``."""
    audit = audit_incentives(instance, mechanism, atol=atol)
    if not audit.is_ic:
        raise AssertionError(f"mechanism is not incentive compatible: {audit}")
