"""Gymnasium and PettingZoo environments of mechsim (installed as ``mechsim.envs``).

================================  =========  =================================================================
id                                API        module
================================  =========  =================================================================
``mechsim/Hiring-v0``             parallel   :mod:`mechsim.envs.hiring` (AEC view through ``env()``)
``mechsim/Committee-v0``          parallel   :mod:`mechsim.envs.committee` (AEC view through ``env()``)
``mechsim/Debate-v0``             AEC        :mod:`mechsim.envs.debate`
``mechsim/Auction-v0``            parallel   :mod:`mechsim.envs.auction` (AEC view through ``env()``)
``mechsim/Recommender-v0``        gymnasium  :mod:`mechsim.envs.recommender` (``Discrete(K)`` action)
``mechsim/RecommenderContinuous`` gymnasium  :mod:`mechsim.envs.recommender` (``Box`` ranking weights)
``mechsim/JustifiableSepsis-v0``  gymnasium  :mod:`mechsim.envs.justifiable_sepsis`
================================  =========  =================================================================

``gymnasium.make_vec`` on the two recommender ids and on the sepsis id returns their native vector environments
(:mod:`mechsim.envs.recommender_vector`, :mod:`mechsim.envs.sepsis_vector`),
:class:`~mechsim.envs.vector_lagrangian.VectorLagrangianReward` is the Lagrangian reward over any of them, and
:func:`~mechsim.envs.sb3_vector.sb3_vec_env` hands one to Stable-Baselines3.

``import mechsim`` registers them all (see :mod:`mechsim._registration`).  Wrappers:
:class:`~mechsim.envs.safety.ToSafetyGymnasium` (Safety-Gymnasium 6-tuple) and the RL-library helpers in
:mod:`mechsim.envs.rl`.  Names below are re-exported lazily, so importing one environment module does not
import the others.
"""

from __future__ import annotations

from mechsim._lazy import lazy_exports

_EXPORTS = {
    "recommender": ["RecommenderEnv", "RecommenderContinuousEnv", "RankingRules"],
    "safety": ["ToSafetyGymnasium"],
    "justifiable_sepsis": ["JustifiableSepsisEnv"],
    "hiring": ["HiringParallelEnv"],
    "auction": ["AuctionParallelEnv"],
    "recommender_vector": ["RecommenderVectorEnv", "RecommenderContinuousVectorEnv"],
    "sepsis_vector": ["JustifiableSepsisVectorEnv"],
    "sb3_vector": ["sb3_vec_env"],
    "hiring_vector": ["HiringVectorEnv"],
    "auction_vector": ["AuctionVectorEnv"],
    "ma_vector": ["as_vector_env", "AgentSlotVectorEnv"],
    "lagrangian_reward": ["LagrangeMultipliers", "LagrangianReward"],
    "vector_lagrangian": ["VectorLagrangianReward"],
    "debate_opponent": ["DebateVsOpponent"],
    "multiagent_adapters": ["OneHotParallelEnv", "ScriptedAgents", "hiring_rllib_env"],
    "finite_cmdp": ["FiniteCMDPEnv"],
    "signal_wrappers": ["ScaleRewardAndCosts", "EpisodeRecorder"],
    "recommender_wrappers": ["ExpectedSignals", "random_candidate_chooser", "watch_greedy_chooser",
                             "ranking_rule_chooser"],
}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.envs", _EXPORTS, globals())
