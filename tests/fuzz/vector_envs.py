"""Native vector environments: the recommender and sepsis vector envs' constructors, ``reset`` seeds and options,
and batched actions; ``make_vec`` on the sepsis id; the vector Lagrangian reward.

The Stable-Baselines3 adapter ``sb3_vec_env`` is not here: its valid call needs the ``rl`` extra; its bad inputs are
checked in tests/test_recommender_vector_env.py."""

import gymnasium
import numpy as np

from fuzz.entry import ARRAY, COUNT, MODEL, POSITIVE, SEED, Entry
from mechsim.cmdp import simulator as sim
from mechsim.debate.judges import BradleyTerryJudge
from mechsim.envs.lagrangian_reward import LagrangeMultipliers
from mechsim.envs.recommender_vector import RecommenderContinuousVectorEnv, RecommenderVectorEnv
from mechsim.envs.sepsis_vector import JustifiableSepsisVectorEnv
from mechsim.envs.vector_lagrangian import VectorLagrangianReward

_SMALL = {"n_candidates": 3, "max_steps": 5, "constraints": ("like",)}
_CAP = ("none", "type", "nan", "inf", "negative", "fraction")
_ACTIONS = ("none", "type", "nan", "inf", "negative", "fraction", "shape", "ndim", "dtype", "empty")


#: A cheap untrained judge: the debate table is built once per process for it.
_JUDGE = BradleyTerryJudge(44, 25, n_evidence=2, hidden=(8,), seed=3)


def _sepsis(n=2):
    return JustifiableSepsisVectorEnv(n, judge=_JUDGE)


def _reset(envs):
    envs.reset(seed=0)
    return envs


def _constructor_kinds():
    return {"num_envs": COUNT, "n_candidates": COUNT, "max_steps": _CAP, "constraints": ("none", "type"),
            "config": ("type",), "render_mode": ("type",), "cost_mode": ("none", "type"), "cost_discount": POSITIVE}


def _constructor_call(cost_mode):
    return lambda: {"num_envs": 2, "n_candidates": 3, "max_steps": 5, "constraints": ("like",),
                    "config": sim.SimulatorConfig(), "render_mode": "ansi", "cost_mode": cost_mode,
                    "cost_discount": 0.9}


ENTRIES = [
    Entry("RecommenderVectorEnv", RecommenderVectorEnv, _constructor_call("expected"), _constructor_kinds()),
    Entry("RecommenderContinuousVectorEnv", RecommenderContinuousVectorEnv, _constructor_call("sampled"),
          _constructor_kinds()),
    Entry("RecommenderVectorEnv.reset", lambda seed: RecommenderVectorEnv(2, **_SMALL).reset(seed=seed),
          lambda: {"seed": 3}, {"seed": SEED}),
    Entry("RecommenderVectorEnv.step", lambda actions: _reset(RecommenderVectorEnv(2, **_SMALL)).step(actions),
          lambda: {"actions": np.array([1, 2])}, {"actions": _ACTIONS}),
    Entry("RecommenderContinuousVectorEnv.step",
          lambda actions: _reset(RecommenderContinuousVectorEnv(2, **_SMALL)).step(actions),
          lambda: {"actions": np.full((2, 9), 0.5, dtype=np.float32)}, {"actions": ARRAY}),
    Entry("JustifiableSepsisVectorEnv", lambda num_envs, max_episode_steps:
          JustifiableSepsisVectorEnv(num_envs, judge=_JUDGE, max_episode_steps=max_episode_steps),
          lambda: {"num_envs": 2, "max_episode_steps": 5}, {"num_envs": COUNT, "max_episode_steps": _CAP[1:]}),
    Entry("JustifiableSepsisVectorEnv.reset", lambda seed, state: _sepsis().reset(seed=seed, options={"state": state}),
          lambda: {"seed": 3, "state": np.array([4, 7])}, {"seed": SEED, "state": _ACTIONS[1:]},  # None: sample d_0
          names={"state": ("options['state']",)}),
    Entry("JustifiableSepsisVectorEnv.step", lambda actions: _reset(_sepsis()).step(actions),
          lambda: {"actions": np.array([1, 24])}, {"actions": _ACTIONS}),
    Entry("make_vec(JustifiableSepsis-v0)", lambda num_envs, max_episode_steps: gymnasium.make_vec(
          "mechsim/JustifiableSepsis-v0", num_envs=num_envs, vectorization_mode="vector_entry_point", judge=_JUDGE,
          max_episode_steps=max_episode_steps),
          lambda: {"num_envs": 2, "max_episode_steps": 5}, {"num_envs": COUNT, "max_episode_steps": _CAP[1:]}),
    Entry("VectorLagrangianReward", VectorLagrangianReward,
          lambda: {"env": RecommenderVectorEnv(2, **_SMALL), "multipliers": LagrangeMultipliers([1.0]),
                   "cost_key": "costs", "update": True, "discount": 0.9, "subtract_offsets": False},
          {"env": MODEL, "multipliers": MODEL, "cost_key": ("none", "type"), "update": ("type",),
           "discount": ("none", "type", "nan", "negative"), "subtract_offsets": ("type",)}),
    Entry("VectorLagrangianReward.step", lambda actions: _reset(VectorLagrangianReward(
          RecommenderVectorEnv(2, **_SMALL), LagrangeMultipliers([1.0]))).step(actions),
          lambda: {"actions": np.array([1, 2])}, {"actions": _ACTIONS}),
]
