"""Hiring several agents to acquire costly information (Cacciamani, Castiglioni, Gatti, ICLR 2024).

Layer 1 of the hiring domain: the model (:class:`HiringInstance`, :class:`Mechanism`), exact evaluation
and incentive audits (:mod:`mechsim.hiring.audit`), the incentive rows of scoring rules
(:mod:`mechsim.hiring.incentive_rows`) and the simulated world of the online setting
(:class:`HiringWorld`, :mod:`mechsim.hiring.online_sim`).  Optimal mechanisms are computed by
:mod:`mechsim.solvers.hiring_lp`; the online learner lives in :mod:`mechsim.learners.hiring_online`, and
``simulate_online``, ``OnlineResult`` and ``ONLINE_VARIANTS`` are offered here through a lazy re-export (no
import statement points upwards, so importing the domain never imports a solver).
"""

from mechsim._lazy import lazy_exports
from mechsim.hiring.audit import (
    IncentiveAudit,
    audit_incentives,
    audit_incentives_brute_force,
    evaluate_mechanism,
    is_incentive_compatible,
)
from mechsim.hiring.model import HiringInstance, Mechanism, bayes_decision, value_of_information
from mechsim.hiring.online_sim import HiringWorld

__all__ = [
    "HiringInstance",
    "Mechanism",
    "bayes_decision",
    "value_of_information",
    "IncentiveAudit",
    "audit_incentives",
    "audit_incentives_brute_force",
    "evaluate_mechanism",
    "is_incentive_compatible",
    "HiringWorld",
]
# The online learner sits in layer 3 (it calls the solvers): offered here by name, imported on first use.
_EXPORTS = {"mechsim.learners.hiring_online": ["simulate_online", "OnlineResult", "ONLINE_VARIANTS"]}
_lazy_names, __getattr__, __dir__ = lazy_exports("mechsim.hiring", _EXPORTS, globals())
__all__ += _lazy_names
