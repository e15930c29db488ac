r"""Constrained MDPs for constrained recommendation (Cai et al., *Two-Stage Constrained Actor-Critic for Short
Video Recommendation*, WWW 2023).

A finite CMDP has states :math:`S`, actions :math:`A`, transitions :math:`P(s' | s, a)`, a reward :math:`r`,
costs :math:`c_k` with limits :math:`d_k`, an initial law :math:`\mu_0` and a discount :math:`\gamma`; the
problem is :math:`\max_\pi V_r^\pi` subject to :math:`J_k^\pi \le d_k` for every :math:`k`, where values
are discounted sums (no ``(1 - gamma)`` factor).

This package is the domain layer (numpy/scipy): :class:`FiniteCMDP`, exact policy evaluation and occupancy
measures (:mod:`mechsim.cmdp.model`), exact planning (:mod:`mechsim.cmdp.planning`), the calibrated
short-video simulator (:mod:`mechsim.cmdp.simulator`), its finite tabular twin
(:mod:`mechsim.cmdp.tabular_twin`) and random sparse CMDPs of any size (:mod:`mechsim.cmdp.generators`).  The
exact solvers are :mod:`mechsim.solvers.cmdp_lp` (``solve_cmdp``, ``cmdp_frontier``; the occupancy LP) and
:mod:`mechsim.solvers.cmdp_lagrange` (``solve_cmdp(method="lagrange")``; the Lagrangian dual, for many states).

For convenience the learners and the simulation environment are offered here too, through lazy re-exports
(importing this package imports neither them nor gymnasium): the Lagrangian and PID-Lagrangian primal-dual
methods (:mod:`mechsim.learners.lagrangian`, multipliers in :mod:`mechsim.learners.multipliers`), TSCAC
(:mod:`mechsim.learners.tscac`), each tabular (exact gradients on the known model) and sample-based
(episodes from a Gymnasium env, :mod:`mechsim.learners.policies`), and :class:`FiniteCMDPEnv`
(:mod:`mechsim.envs.finite_cmdp`).
"""

from mechsim._lazy import lazy_exports

_EXPORTS = {
    "model": ["FiniteCMDP", "PolicyEvaluation", "CMDPStructure", "evaluate_policy", "occupancy_measure",
              "action_values", "check_policy", "policy_transition_matrix", "uniform_policy", "cmdp_structure"],
    "planning": ["optimal_policy", "soft_optimal_policy"],
    "generators": ["banded_cmdp", "random_cmdp"],
    "simulator": ["ShortVideoSimulator", "SimulatorConfig", "calibrate"],
    "tabular_twin": ["tabular_recommender"],
    "mechsim.learners.multipliers": ["GradientMultiplier", "PIDMultiplier"],
    "mechsim.learners.lagrangian": ["TabularLearnerResult", "SampleLearnerResult", "lagrangian_tabular",
                                    "pid_lagrangian_tabular", "lagrangian_sample", "pid_lagrangian_sample"],
    "mechsim.learners.policies": ["SoftmaxPolicy"],
    "mechsim.learners.tscac": ["TSCACResult", "TSCACSampleResult", "tscac_tabular", "tscac_sample", "tscac_target"],
    "mechsim.envs.finite_cmdp": ["FiniteCMDPEnv"],
}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.cmdp", _EXPORTS, globals())
