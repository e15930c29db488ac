r"""Optimal auctions as programs: revenue or welfare over direct mechanisms, with the auction's options.

For a :class:`~mechsim.auctions.FiniteAuction` (``units`` identical items, unit-demand bidders, independent
discrete values) the program is :func:`~mechsim.solvers.design.direct.direct_program` on the auction's
quasi-linear model (outcomes are the winner sets), with Bayesian (``incentive="bayesian"``, interim IR) or
dominant-strategy (``"dominant"``, ex-post IR) incentives, and optionally a reserve price: no unit goes to a
bidder whose value is below it.  Its revenue optimum equals Myerson's (:func:`mechsim.auctions.myerson_revenue`)
for either incentive notion, which the tests check on random distributions.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mechsim.auctions.auction import AuctionMechanism, FiniteAuction
from mechsim.solvers.design.direct import direct_program
from mechsim.solvers.design.program import MechanismProgram
from mechsim.validation import check_array, check_choice

__all__ = ["auction_program"]


def auction_program(values, prior=None, n_bidders: int | None = None, *, incentive: str = "bayesian",
                    objective: str = "revenue", units: int = 1, reserve: float | None = None) -> MechanismProgram:
    """The optimal auction program.

    Parameters
    ----------
    values : array_like of shape (K,) or (n, K), or FiniteAuction
        Value grids (strictly increasing); 1-D for i.i.d. bidders.
    prior : array_like, same shape as ``values``
        Value probabilities (ignored when ``values`` is a FiniteAuction).
    n_bidders : int, optional
        Number of i.i.d. bidders (with 1-D values).
    incentive : {"bayesian", "dominant"}
        Bayesian IC with interim IR, or dominant-strategy IC with ex-post IR.
    objective : {"revenue", "welfare"}
    units : int
        Identical units for sale.
    reserve : float, optional
        No unit to a bidder whose value is below ``reserve``.

    Returns
    -------
    MechanismProgram
        Variables ``"outcome_probabilities"`` (P, O), ``"payments"`` (P, n); expressions ``"revenue"``,
        ``"welfare"``, ``"expected_payment"`` (n,), ``"allocation"`` (P, n).  ``solve().solution`` is an
        :class:`~mechsim.auctions.AuctionMechanism` with ``allocation`` and ``payments`` of shape
        ``(K,)*n + (n,)``, audited exactly.
    """
    auction = values if isinstance(values, FiniteAuction) else FiniteAuction(values, prior, n_bidders, units)
    check_choice("incentive", incentive, ("bayesian", "dominant"))
    participation = "interim" if incentive == "bayesian" else "ex_post"
    model = auction.model()
    program = direct_program(model, incentive=incentive, participation=participation, objective=objective,
                             name="the auction program")
    W = auction.winner_matrix()
    q = program.variables["outcome_probabilities"]
    program.expressions["allocation"] = q @ W
    if reserve is not None:
        r = float(check_array("reserve", reserve, ndim=0))
        profiles = np.indices(model.n_types).reshape(auction.n_bidders, -1).T            # (P, n)
        below = auction.values[np.arange(auction.n_bidders), profiles] < r                 # (P, n)
        banned = (below.astype(float) @ W.T) > 0                                           # (P, O)
        if np.any(banned):
            rows, cols = np.nonzero(banned)
            pick = sp.csr_array((np.ones(rows.size), (np.arange(rows.size), rows * W.shape[0] + cols)),
                                shape=(rows.size, program.variables["z"].shape[0]))
            program.add_constraint(pick @ program.variables["z"] == 0, "reserve")
    base_decode, base_audit = program.decode, program.audit

    def decode(vals, clean_tol):
        mech = base_decode(vals, clean_tol)
        return AuctionMechanism(auction.allocation(mech), np.array(mech.payments), mech)

    def audit(solution, atol):
        return base_audit(solution.mechanism, atol)

    program.decode, program.audit = decode, audit
    return program
