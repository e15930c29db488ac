"""Hypothesis strategies for auctions, persuasion and direct mechanisms, and one IC assertion for all domains.

``assert_incentive_compatible(model, mechanism, atol=1e-7)`` runs the domain's exact audit whatever the
domain: :func:`mechsim.hiring.audit_incentives` for a hiring instance, :func:`mechsim.auctions.audit_direct`
for an auction or any quasi-linear model (Bayesian IC and interim IR by default), and
:func:`mechsim.persuasion.audit_obedience` for a persuasion problem; it raises ``AssertionError`` naming the
worst deviation, which hypothesis then shrinks to a smallest failing instance.

>>> from hypothesis import given
>>> from mechsim.testing import auction_instances, assert_incentive_compatible
>>> from mechsim.auctions import second_price_mechanism
>>> @given(auction_instances(max_bidders=3, max_values=4))
... def test_second_price_is_truthful(auction):
...     mechanism = second_price_mechanism(auction).mechanism
...     assert_incentive_compatible(auction, mechanism, incentive="dominant", participation="ex_post")
>>> test_second_price_is_truthful()
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from mechsim.auctions.auction import AuctionMechanism, FiniteAuction
from mechsim.auctions.direct import DirectMechanism, QuasiLinearModel, audit_direct
from mechsim.hiring.audit import audit_incentives
from mechsim.hiring.model import HiringInstance
from mechsim.persuasion.model import PersuasionInstance, SignallingScheme, audit_obedience

__all__ = ["auction_instances", "persuasion_instances", "direct_mechanisms", "assert_incentive_compatible"]


@st.composite
def auction_instances(draw, max_bidders: int = 3, max_values: int = 4, iid: bool | None = None,
                      max_units: int = 1) -> FiniteAuction:
    """Finite auctions: 1..``max_bidders`` bidders, 1..``max_values`` integer values (i.i.d. or not)."""
    n = draw(st.integers(1, max_bidders))
    K = draw(st.integers(1, max_values))
    same = draw(st.booleans()) if iid is None else iid
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    rows = 1 if same else n
    values = np.sort(np.array([rng.choice(np.arange(1, 4 * K + 1), K, replace=False) for _ in range(rows)],
                              dtype=float), axis=1)
    prior = rng.dirichlet(np.ones(K), size=rows)
    units = draw(st.integers(1, min(max_units, n)))
    if same:
        return FiniteAuction(values[0], prior[0], n_bidders=n, units=units)
    return FiniteAuction(values, prior, units=units)


@st.composite
def persuasion_instances(draw, max_states: int = 3, max_actions: int = 3, states: int | None = None
                         ) -> PersuasionInstance:
    """Persuasion problems with utilities in [-1, 1] (rounded to 1e-3, so ties occur) and Dirichlet priors."""
    S = states if states is not None else draw(st.integers(2, max_states))
    A = draw(st.integers(2, max_actions))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return PersuasionInstance(rng.dirichlet(np.ones(S)), np.round(rng.uniform(-1, 1, (S, A)), 3),
                              np.round(rng.uniform(-1, 1, (S, A)), 3))


@st.composite
def direct_mechanisms(draw, model: QuasiLinearModel, max_payment: float = 5.0) -> DirectMechanism:
    """Arbitrary direct mechanisms for ``model`` (random outcome distributions and payments): most are not
    incentive compatible, which is what audits must catch."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    q = rng.dirichlet(np.ones(model.n_outcomes), size=model.n_types)
    p = np.round(rng.uniform(-max_payment, max_payment, (*model.n_types, model.n_agents)), 2)
    return DirectMechanism(q, p)


def assert_incentive_compatible(model, mechanism, atol: float = 1e-7, **options) -> None:
    """Raise ``AssertionError`` naming the worst deviation unless ``mechanism`` is IC for ``model``.

    ``model`` is a :class:`~mechsim.hiring.HiringInstance`, a :class:`~mechsim.auctions.FiniteAuction`, a
    :class:`~mechsim.auctions.QuasiLinearModel` or a :class:`~mechsim.persuasion.PersuasionInstance`;
    ``options`` go to the audit (``incentive=``, ``participation=`` for direct mechanisms).
    """
    if isinstance(model, HiringInstance):
        report = audit_incentives(model, mechanism, atol=atol)
        ok = report.is_ic
    elif isinstance(model, (FiniteAuction, QuasiLinearModel)):
        quasi = model.model() if isinstance(model, FiniteAuction) else model
        direct = mechanism.mechanism if isinstance(mechanism, AuctionMechanism) else mechanism
        report = audit_direct(quasi, direct, atol=atol, **options)
        ok = report.is_ic and report.is_ir
    elif isinstance(model, PersuasionInstance):
        report = audit_obedience(model, mechanism if isinstance(mechanism, SignallingScheme) else mechanism,
                                 atol=atol)
        ok = report.is_obedient
    else:
        raise TypeError(f"model: expected a hiring instance, an auction, a quasi-linear model or a persuasion "
                        f"instance, found {type(model).__name__}")
    if not ok:
        raise AssertionError(f"mechanism is not incentive compatible: {report}")
