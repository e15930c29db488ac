"""Adapters that plug mechsim's environments into reinforcement-learning libraries (one import path).

Nothing here imports torch, Stable-Baselines3 or Ray: the adapters are plain Gymnasium / PettingZoo
wrappers, so they work in the core install and with any learner.  The examples in ``examples/`` and the
``rl``-marked tests show them driving Stable-Baselines3, sb3-contrib and RLlib.  Each adapter lives in its
own module and is re-exported here lazily:

- :mod:`mechsim.envs.lagrangian_reward`: :class:`LagrangianReward` and its shared
  :class:`LagrangeMultipliers` (a constrained learner from any unconstrained one);
- :mod:`mechsim.envs.vector_lagrangian`: :class:`VectorLagrangianReward` (the same over a vector env);
- :mod:`mechsim.envs.debate_opponent`: :class:`DebateVsOpponent` (one debater against a fixed opponent,
  with action masks and the exact best-response value);
- :mod:`mechsim.envs.multiagent_adapters`: :class:`OneHotParallelEnv`, :class:`ScriptedAgents`,
  :func:`hiring_rllib_env` and :func:`obedient_truthful_hiring_policy`.
"""

from __future__ import annotations

from mechsim._lazy import lazy_exports

_EXPORTS = {
    "lagrangian_reward": ["LagrangeMultipliers", "LagrangianReward"],
    "vector_lagrangian": ["VectorLagrangianReward"],
    "debate_opponent": ["DebateVsOpponent"],
    "multiagent_adapters": ["OneHotParallelEnv", "ScriptedAgents", "hiring_rllib_env",
                            "obedient_truthful_hiring_policy"],
}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.envs", _EXPORTS, globals())
