"""The cvxpy modelling layer: mechanism-design problems as programs users can read, extend and solve.

========================  ==================================================================================
module                    programs
========================  ==================================================================================
``program``               :class:`MechanismProgram` (named variables, constraint groups, expressions; solve,
                          decode, audit) and :class:`ProgramResult`
``direct``                direct mechanisms over finite type spaces and their constraint families (Bayesian
                          and dominant-strategy IC, interim and ex-post IR, limited liability, budget
                          balance, payment caps)
``auction``               optimal auctions (revenue or welfare, BIC or DSIC, reserve prices, multi-unit)
``persuasion``            the sender-optimal obedient signalling scheme (Bayesian persuasion)
``cmdp``                  the CMDP occupancy LP, open to users' own linear constraints
``hiring``                the correlated hiring LP (budgets, per-agent caps, ...) and the single-agent
                          scoring-rule LP
``equilibrium``           correlated and coarse correlated equilibria of n-player normal-form games (any
                          linear objective: welfare, a player's payoff, a profile's probability)
========================  ==================================================================================

cvxpy is the user-facing layer; mechsim's direct HiGHS paths (``mechsim.solvers.hiring_lp``,
``mechsim.solvers.cmdp_lp``) stay where they are faster, and the programs that open them up give the same
answers.  Names are re-exported lazily (importing one module does not import cvxpy's solvers for the others).
"""

from __future__ import annotations

from mechsim._lazy import lazy_exports

_EXPORTS = {
    "program": ["MechanismProgram", "ProgramResult", "AuditOutcome", "VERTEX_SOLVERS"],
    "direct": ["direct_program", "bayesian_ic", "dominant_strategy_ic", "interim_ir", "ex_post_ir",
               "limited_liability", "budget_balance", "payment_caps", "outcome_feasibility", "clean_mechanism"],
    "auction": ["auction_program"],
    "persuasion": ["persuasion_program"],
    "cmdp": ["cmdp_program", "PolicySolution"],
    "hiring": ["hiring_program", "scoring_rule_program", "ScoringRule"],
    "equilibrium": ["equilibrium_program", "EquilibriumProgram", "EquilibriumSolution"],
}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.solvers.design", _EXPORTS, globals())
