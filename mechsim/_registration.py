"""The registries of mechsim's environments and scenarios.

Entry points are ``"module:attribute"`` strings, so registering costs nothing: an environment's module is
imported only when somebody makes that environment, a scenario's only when somebody runs or lists it.
Because they are strings, the registries sit at the bottom of the layers and point upwards without an
import statement.  ``import mechsim`` calls :func:`register_all` (Gymnasium and PettingZoo); the runner
and the ``mechsim`` command read :data:`SCENARIOS`.

Adding an environment or a scenario is one line here; ``tests/test_env_contract.py`` then runs the official
Gymnasium and PettingZoo checkers on every id of :data:`GYMNASIUM_ENVS` and every kind of
:data:`PETTINGZOO_ENVS` (with :data:`CHECK_KWARGS` where an environment's defaults are too small or too slow).
"""

from __future__ import annotations

import gymnasium

__all__ = ["CHECK_KWARGS", "GYMNASIUM_ENVS", "PETTINGZOO_ENVS", "SCENARIOS", "register_all"]

#: Gymnasium environments: id -> (entry point, one-line description, extra register kwargs).
GYMNASIUM_ENVS: dict[str, tuple[str, str, dict]] = {
    "mechsim/Recommender-v0": (
        "mechsim.envs.recommender:RecommenderEnv",
        "short-video recommender CMDP, Discrete(K) candidate action, costs in info",
        {"vector_entry_point": "mechsim.envs.recommender_vector:RecommenderVectorEnv"},
    ),
    "mechsim/RecommenderContinuous-v0": (
        "mechsim.envs.recommender:RecommenderContinuousEnv",
        "short-video recommender CMDP, Box ranking-weight action, costs in info",
        {"vector_entry_point": "mechsim.envs.recommender_vector:RecommenderContinuousVectorEnv"},
    ),
    "mechsim/JustifiableSepsis-v0": (
        "mechsim.envs.justifiable_sepsis:JustifiableSepsisEnv",
        "ICU-Sepsis treatment with reward mixing task return and debate outcome",
        # The package's 500-step cut: make's TimeLimit for single envs (a made env has no cut of its own), and
        # make_vec passes the spec's max_episode_steps to the vector entry point as an argument.  No additional
        # wrappers: make_vec refuses a vector entry point beside them.
        {"max_episode_steps": 500,
         "vector_entry_point": "mechsim.envs.sepsis_vector:JustifiableSepsisVectorEnv"},
    ),
}

#: PettingZoo environments: id -> ({"parallel"|"aec": entry point}, one-line description).  Parallel-first
#: environments register both kinds (the AEC kind is their ``parallel_to_aec`` view); turn-based games register
#: only "aec" (one agent acts per step, so a parallel view makes no sense).
PETTINGZOO_ENVS: dict[str, tuple[dict[str, str], str]] = {
    "mechsim/Hiring-v0": (
        {"parallel": "mechsim.envs.hiring:parallel_env", "aec": "mechsim.envs.hiring:env"},
        "agents choose effort then report a signal under a posted scoring-rule mechanism",
    ),
    "mechsim/Committee-v0": (
        {"parallel": "mechsim.envs.committee:parallel_env", "aec": "mechsim.envs.committee:env"},
        "voters report rankings to a fair committee scoring rule",
    ),
    "mechsim/Auction-v0": (
        {"parallel": "mechsim.envs.auction:parallel_env", "aec": "mechsim.envs.auction:env"},
        "bidders bid each round in a repeated first-, second-price or all-pay auction with private values",
    ),
    "mechsim/Debate-v0": (
        {"aec": "mechsim.envs.debate:env"},
        "two debaters reveal evidence in turn; a judge decides (turn-based: AEC only)",
    ),
}

#: Keyword arguments the environment contract test builds an id with (``gymnasium.make(id, **kw)``,
#: ``pettingzoo.make(kind, id, **kw)``); an id without an entry is checked with its defaults.
CHECK_KWARGS: dict[str, dict] = {
    "mechsim/Hiring-v0": {"max_cycles": 40},  # the default is one round (two steps)
    "mechsim/Committee-v0": {"max_cycles": 3},  # the default is a one-shot game
}

#: Scenarios: name (as in ``mechsim run NAME``) -> ``"module:attribute"`` of its :class:`~mechsim.runner.Scenario`.
SCENARIOS: dict[str, str] = {
    "constrained-recommender": "mechsim.scenarios.constrained_recommender:SCENARIO",
    "fair-selection": "mechsim.scenarios.fair_selection:SCENARIO",
    "hiring": "mechsim.scenarios.hiring:SCENARIO",
    "justifiable-sepsis": "mechsim.scenarios.justifiable_sepsis:SCENARIO",
    "learning-bidders": "mechsim.scenarios.learning_bidders:SCENARIO",
    "mechanism-design": "mechsim.scenarios.mechanism_design:SCENARIO",
    "no-regret": "mechsim.scenarios.no_regret:SCENARIO",
}


def register_all() -> None:
    """Register every environment above (idempotent)."""
    for env_id, (entry_point, _, kwargs) in GYMNASIUM_ENVS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point, **kwargs)
    try:
        import pettingzoo
    except ImportError:  # pragma: no cover - pettingzoo is a core dependency
        return
    if not hasattr(pettingzoo, "register"):  # PettingZoo < 1.27 has no registry
        return
    registries = {"parallel": getattr(pettingzoo, "parallel_registry", {}),
                  "aec": getattr(pettingzoo, "aec_registry", {})}
    for env_id, (entry_points, _) in PETTINGZOO_ENVS.items():
        for kind, entry_point in entry_points.items():
            if env_id not in registries[kind]:
                pettingzoo.register(kind, env_id, entry_point=entry_point)
