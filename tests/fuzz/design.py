"""Classic design models (auctions, persuasion, quasi-linear direct mechanisms) and the cvxpy programs."""

import numpy as np

from fuzz.entry import ARRAY, COUNT, MODEL, NONNEG_ARRAY, POSITIVE, SIZING_ARRAY, Entry
from mechsim.auctions import (
    DirectMechanism,
    FiniteAuction,
    QuasiLinearModel,
    audit_direct,
    evaluate_direct,
    ironed_virtual_values,
    myerson_revenue,
    posted_price_revenue,
    second_price_mechanism,
)
from mechsim.persuasion import PersuasionInstance, SignallingScheme, audit_obedience, evaluate_scheme
from mechsim.solvers.design import auction_program, direct_program, persuasion_program

_V = np.array([1.0, 2.0, 4.0])
_F = np.array([0.2, 0.5, 0.3])


def _auction():
    return FiniteAuction(_V, _F, n_bidders=2)


def _mech():
    return second_price_mechanism(_auction()).mechanism


_PRIOR = np.array([0.7, 0.3])
_US = np.array([[0.0, 1.0], [0.0, 1.0]])
_UR = np.array([[1.0, 0.0], [0.0, 1.0]])
_INST = PersuasionInstance(_PRIOR, _US, _UR)

ENTRIES = [
    Entry("FiniteAuction", FiniteAuction, lambda: {"values": _V.copy(), "prior": _F.copy(), "n_bidders": 2},
          {"values": (*SIZING_ARRAY,), "prior": (*ARRAY, "negative"), "n_bidders": COUNT}),
    Entry("FiniteAuction.units", lambda units: FiniteAuction(_V, _F, n_bidders=2, units=units),
          lambda: {"units": 1}, {"units": COUNT}),
    Entry("QuasiLinearModel.independent", QuasiLinearModel.independent,
          lambda: {"valuations": [np.array([[0.0, 0.0], [1.0, 2.0]])], "priors": [np.array([0.5, 0.5])]},
          {"valuations": ("none", "type"), "priors": ("none", "type")}),
    Entry("QuasiLinearModel", QuasiLinearModel,
          lambda: {"valuations": [np.array([[0.0, 0.0], [1.0, 2.0]])], "prior": np.array([0.5, 0.5])},
          {"valuations": ("none", "type"), "prior": (*ARRAY, "negative")}),
    Entry("DirectMechanism", DirectMechanism,
          lambda: {"outcome_probabilities": _mech().outcome_probabilities.copy(), "payments": _mech().payments.copy()},
          {"outcome_probabilities": ("none", "type", "nan", "inf", "negative", "dtype", "empty"),
           "payments": ("none", "type", "nan", "inf", "shape", "dtype")}),
    Entry("audit_direct", audit_direct, lambda: {"model": _auction().model(), "mechanism": _mech(), "atol": 1e-7},
          {"model": MODEL, "mechanism": MODEL, "atol": POSITIVE}),
    Entry("evaluate_direct", evaluate_direct, lambda: {"model": _auction().model(), "mechanism": _mech()},
          {"model": MODEL, "mechanism": MODEL}),
    Entry("ironed_virtual_values", ironed_virtual_values, lambda: {"values": _V.copy(), "prior": _F.copy()},
          {"values": SIZING_ARRAY, "prior": (*ARRAY, "negative")}),
    Entry("posted_price_revenue", posted_price_revenue, lambda: {"values": _V.copy(), "prior": _F.copy()},
          {"values": SIZING_ARRAY, "prior": (*ARRAY, "negative")}),
    Entry("myerson_revenue", myerson_revenue, lambda: {"auction": _auction()}, {"auction": MODEL}),
    Entry("second_price_mechanism", second_price_mechanism, lambda: {"auction": _auction(), "reserve": 1.5},
          {"auction": MODEL, "reserve": ("none", "type", "nan")}),
    Entry("auction_program", auction_program, lambda: {"values": _V.copy(), "prior": _F.copy(), "n_bidders": 2},
          {"values": SIZING_ARRAY, "prior": (*ARRAY, "negative"), "n_bidders": COUNT}),
    Entry("direct_program", direct_program, lambda: {"model": _auction().model()}, {"model": MODEL}),
    Entry("PersuasionInstance", PersuasionInstance,
          lambda: {"prior": _PRIOR.copy(), "sender_utility": _US.copy(), "receiver_utility": _UR.copy()},
          {"prior": NONNEG_ARRAY, "sender_utility": ARRAY, "receiver_utility": ARRAY}),
    Entry("SignallingScheme", SignallingScheme, lambda: {"scheme": np.array([[0.5, 0.5], [0.0, 1.0]])},
          {"scheme": ("none", "type", "nan", "inf", "negative", "ndim", "dtype", "empty")}),
    Entry("evaluate_scheme", evaluate_scheme, lambda: {"instance": _INST, "scheme": np.array([[0.5, 0.5], [0, 1.0]])},
          {"instance": MODEL, "scheme": ("none", "type", "nan", "negative", "shape", "dtype")}),
    Entry("audit_obedience", audit_obedience,
          lambda: {"instance": _INST, "scheme": np.array([[0.5, 0.5], [0, 1.0]]), "atol": 1e-7},
          {"instance": MODEL, "scheme": ("none", "type", "nan", "negative", "shape", "dtype"), "atol": POSITIVE}),
    Entry("persuasion_program", persuasion_program,
          lambda: {"prior": _PRIOR.copy(), "sender_utility": _US.copy(), "receiver_utility": _UR.copy()},
          {"prior": NONNEG_ARRAY, "sender_utility": ARRAY, "receiver_utility": ARRAY}),
]
