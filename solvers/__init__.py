"""Exact solvers: pure functions from a model to a small frozen result dataclass.

============================  ======================================================================
module                        what it solves
============================  ======================================================================
``hiring_lp``                 optimal (correlated / uncorrelated) incentive-compatible hiring mechanisms
``hiring_online_lp``          the hiring LP on estimated laws with per-row margins (online learner)
``committee``                 best committee under any committee scoring rule with group bounds
``committee_family``          best committees for many group bounds on one profile (shared relaxation)
``cmdp_lp``                   constrained MDPs through the discounted occupancy LP (``solve_cmdp``)
``cmdp_lagrange``             constrained MDPs with few constraints by the Lagrangian dual (many states)
``debate``                    exact minimax value of a debate and the best-response confuser
``nash``                      every Nash equilibrium of a two-player game (support enumeration)
============================  ======================================================================

The names below are re-exported lazily (PEP 562): ``from mechsim.solvers import optimal_mechanism``
imports only ``mechsim.solvers.hiring_lp``.  Lazy re-export also keeps the package import-cycle free,
since learners in ``mechsim.<domain>`` import individual solver modules.
"""

from __future__ import annotations

from mechsim._lazy import lazy_exports

_EXPORTS = {
    "hiring_lp": ["optimal_mechanism", "optimal_uncorrelated_mechanism", "inducing_scoring_rules",
                  "solve_hiring_lp", "InducingRules", "LPInfo", "HiringLPSolution"],
    "hiring_online_lp": ["solve_estimated_mechanism_lp", "EstimatedLPSolution"],
    "cmdp_lp": ["solve_cmdp", "cmdp_frontier", "frontier", "occupancy_lp", "CMDPSolution", "CMDPFrontier"],
    "cmdp_lagrange": ["solve_cmdp_lagrange"],
    "committee": ["best_committee", "greedy_committee", "check_group_bounds", "Committee"],
    "committee_family": ["best_committee_family"],
    "committee_smoothness": ["constraint_family", "rankings_needed", "ConstraintFamily", "RankingsNeeded"],
    "debate": ["solve_debate", "best_response", "policy_value", "isolated_plan", "debate_game_tree",
               "DebateOutcome", "BestResponseOutcome", "subgame_values", "SubgameValues", "debate_win_table",
               "DebateTable", "IsolatedPlan"],
    "nash": ["support_enumeration", "NashEquilibria"],
}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.solvers", _EXPORTS, globals())
