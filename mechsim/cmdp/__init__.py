"""Constrained MDPs for constrained recommendation (see ``specs/cmdp.md``).

Layer 1 (model and evaluation): :class:`FiniteCMDP`, :func:`evaluate_policy`, :func:`occupancy_measure`.
The exact occupancy-LP solver lives in :mod:`mechsim.solvers.cmdp_lp` (``solve_cmdp``, ``cmdp_frontier``).
Learners (layer 3): Lagrangian and PID-Lagrangian primal-dual methods and TSCAC, each tabular (exact
gradients on the known model) and sample-based (episodes from a Gymnasium env).

Values are discounted sums (no ``(1 - gamma)`` factor); constraints read "discounted cost <= limit".
"""

from mechsim.cmdp.model import (
    CMDPStructure,
    FiniteCMDP,
    PolicyEvaluation,
    action_values,
    check_policy,
    cmdp_structure,
    evaluate_policy,
    occupancy_measure,
    policy_transition_matrix,
    uniform_policy,
)

__all__ = [
    "FiniteCMDP",
    "PolicyEvaluation",
    "CMDPStructure",
    "evaluate_policy",
    "occupancy_measure",
    "action_values",
    "check_policy",
    "policy_transition_matrix",
    "uniform_policy",
    "cmdp_structure",
]

# --- learners (this helper) -------------------------------------------------------------------------
from mechsim.cmdp.lagrangian import (  # noqa: E402
    GradientMultiplier,
    PIDMultiplier,
    SampleLearnerResult,
    TabularLearnerResult,
    lagrangian_sample,
    lagrangian_tabular,
    pid_lagrangian_sample,
    pid_lagrangian_tabular,
)
from mechsim.cmdp.planning import optimal_policy, soft_optimal_policy  # noqa: E402
from mechsim.cmdp.sampling import SoftmaxPolicy  # noqa: E402
from mechsim.cmdp.tabular_env import FiniteCMDPEnv  # noqa: E402
from mechsim.cmdp.tscac import TSCACResult, TSCACSampleResult, tscac_sample, tscac_tabular, tscac_target  # noqa: E402

__all__ += [
    "GradientMultiplier", "PIDMultiplier", "TabularLearnerResult", "SampleLearnerResult",
    "lagrangian_tabular", "pid_lagrangian_tabular", "lagrangian_sample", "pid_lagrangian_sample",
    "optimal_policy", "soft_optimal_policy", "SoftmaxPolicy", "FiniteCMDPEnv",
    "TSCACResult", "TSCACSampleResult", "tscac_tabular", "tscac_sample", "tscac_target",
]

# --- recommender tabular twin (other helper: append imports and __all__ entries below) --------------
from mechsim.cmdp.simulator import ShortVideoSimulator, SimulatorConfig, calibrate
from mechsim.cmdp.tabular_twin import tabular_recommender

__all__ += ["ShortVideoSimulator", "SimulatorConfig", "calibrate", "tabular_recommender"]
