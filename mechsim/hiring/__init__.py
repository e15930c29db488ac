"""Hiring several agents to acquire costly information (Cacciamani, Castiglioni, Gatti, ICLR 2024).

Layer 1 of the hiring domain: the model (:class:`HiringInstance`, :class:`Mechanism`) and exact
evaluation and incentive audits.  Optimal mechanisms are computed by :mod:`mechsim.solvers.hiring_lp`
(not imported here, to keep imports acyclic).
"""

from mechsim.hiring.audit import (
    IncentiveAudit,
    audit_incentives,
    audit_incentives_brute_force,
    evaluate_mechanism,
    is_incentive_compatible,
)
from mechsim.hiring.model import HiringInstance, Mechanism, bayes_decision, value_of_information

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
]

# --- online learning (mechsim.hiring.online; maintained by the online-learning work) -------------------
# Re-exports of simulate_online and friends go below this line.
from mechsim.hiring.online import VARIANTS as ONLINE_VARIANTS  # noqa: E402
from mechsim.hiring.online import OnlineResult, simulate_online
from mechsim.hiring.online_sim import HiringWorld  # noqa: E402

__all__ += ["simulate_online", "OnlineResult", "ONLINE_VARIANTS", "HiringWorld"]
