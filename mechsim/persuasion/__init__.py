"""Bayesian persuasion: finite signalling problems, exact evaluation and obedience audits."""

from mechsim.persuasion.model import (
    TIE_TOL,
    ObedienceAudit,
    PersuasionInstance,
    SignallingScheme,
    audit_obedience,
    concavified_value,
    evaluate_scheme,
    full_information_value,
    no_information_value,
    receiver_best_response,
)

__all__ = [
    "PersuasionInstance", "SignallingScheme", "ObedienceAudit", "receiver_best_response", "evaluate_scheme",
    "audit_obedience", "no_information_value", "full_information_value", "concavified_value", "TIE_TOL",
]
