"""Constrained MDPs: the model, exact evaluation and planning, the tabular-MDP core, the occupancy LP and the
Lagrangian method, the random CMDP generators, the CMDP learners, rollouts, the short-video simulator and its
tabular twin, and the recommender environments with their wrappers."""

import numpy as np

from fuzz.entry import ARRAY, COUNT, INDEX, MODEL, NONNEG_ARRAY, NUMBER, POSITIVE, SEED, SIZING_ARRAY, Entry
from mechsim import tabular_mdp as core
from mechsim.cmdp import generators as gen
from mechsim.cmdp import model as M
from mechsim.cmdp import planning
from mechsim.cmdp import simulator as sim
from mechsim.cmdp import tabular_twin as twin
from mechsim.envs.finite_cmdp import FiniteCMDPEnv
from mechsim.envs.lagrangian_reward import LagrangeMultipliers, LagrangianReward
from mechsim.envs.recommender import (
    RankingRules,
    RecommenderContinuousEnv,
    RecommenderEnv,
    cost_offsets,
    cost_signs,
    leaving_charge,
    session_slots,
)
from mechsim.envs.recommender_wrappers import ExpectedSignals
from mechsim.envs.safety import ToSafetyGymnasium
from mechsim.envs.signal_wrappers import EpisodeRecorder, ScaleRewardAndCosts
from mechsim.learners import lagrangian as lag
from mechsim.learners import multipliers as mult
from mechsim.learners import policies as pol
from mechsim.learners import tscac
from mechsim.rollout import rollout
from mechsim.solvers import cmdp_lagrange, cmdp_lp

_P = np.array([[[0.9, 0.1], [0.2, 0.8]], [[0.5, 0.5], [0.3, 0.7]]])
_R = np.array([[1.0, 0.0], [0.5, 0.2]])
_C = np.array([[[0.2, 0.8], [0.1, 0.5]], [[0.0, 0.3], [0.4, 0.1]]])
_D = np.array([3.0, 2.5])
_MU = np.array([0.5, 0.5])
_PI = np.array([[0.5, 0.5], [0.2, 0.8]])
_V = np.array([1.0, 2.0])


def _cmdp(K: int = 2):
    return M.FiniteCMDP(_P, _R, _C[:K], _D[:K], _MU, 0.9, constraint_names=("c0", "c1")[:K])


def _finite_env(K: int = 1):
    return FiniteCMDPEnv(_cmdp(K), max_episode_steps=5)


def _reset(env):
    env.reset(seed=0)
    return env


def _rec(**kw):
    return RecommenderEnv(**{"n_candidates": 3, "max_steps": 5, "constraints": ("like",), **kw})


def _cont(**kw):
    return RecommenderContinuousEnv(**{"n_candidates": 3, "max_steps": 5, "constraints": ("like",), **kw})


_CONFIG_ARRAY = (*ARRAY,)
_DISCOUNT = (*NUMBER, "negative")             # a number in [0, 1) (or [0, 1] in the core)
_OPT_NUMBER = ("type", "nan", "inf", "negative")  # an optional non-negative number (None is valid)
_CAP = ("none", "type", "nan", "inf", "negative", "fraction")   # an iteration or step cap (not an allocation)
_OPT_CAP = _CAP[1:]
_MASK = ("type", "nan", "shape", "ndim", "dtype", "empty")     # an optional boolean mask
_STACK = tuple(k for k in ARRAY if k != "ndim")  # a signal (S, A) or a stack (m, S, A)
_ACTION = ("none", "type", "nan", "inf", "negative", "fraction")
_ITEMS = ("none", "type", "nan", "inf", "negative", "fraction", "shape", "ndim", "dtype", "empty")

_MODEL_ENTRIES = [
    Entry("FiniteCMDP", M.FiniteCMDP,
          lambda: {"transitions": _P, "reward": _R, "costs": _C, "limits": _D, "initial": _MU, "discount": 0.9,
                   "constraint_names": ("c0", "c1")},
          {"transitions": NONNEG_ARRAY, "reward": ARRAY, "costs": ARRAY, "limits": ARRAY, "initial": NONNEG_ARRAY,
           "discount": POSITIVE, "constraint_names": ("type",)}),
    Entry("FiniteCMDP.with_limits", lambda limits: _cmdp().with_limits(limits), lambda: {"limits": _D},
          {"limits": ARRAY}),
    Entry("cmdp.evaluate_policy", M.evaluate_policy,
          lambda: {"cmdp": _cmdp(), "policy": _PI, "discounts": np.array([0.9, 0.8, 0.7])},
          {"cmdp": MODEL, "policy": NONNEG_ARRAY, "discounts": (*ARRAY[1:], "negative")}),
    Entry("cmdp.occupancy_measure", M.occupancy_measure, lambda: {"cmdp": _cmdp(), "policy": _PI},
          {"cmdp": MODEL, "policy": NONNEG_ARRAY}),
    Entry("cmdp.action_values", M.action_values,
          lambda: {"cmdp": _cmdp(), "signal": _R, "state_values": _V, "discount": 0.9},
          {"cmdp": MODEL, "signal": ARRAY, "state_values": ARRAY, "discount": _OPT_NUMBER}),
    Entry("cmdp.check_policy", M.check_policy, lambda: {"cmdp": _cmdp(), "policy": _PI},
          {"cmdp": MODEL, "policy": NONNEG_ARRAY}),
    Entry("cmdp.policy_transition_matrix", M.policy_transition_matrix, lambda: {"cmdp": _cmdp(), "policy": _PI},
          {"cmdp": MODEL, "policy": NONNEG_ARRAY}),
    Entry("cmdp.uniform_policy", M.uniform_policy, lambda: {"cmdp": _cmdp()}, {"cmdp": MODEL}),
    Entry("cmdp.cmdp_structure", M.cmdp_structure, lambda: {"cmdp": _cmdp()}, {"cmdp": MODEL}),
    Entry("cmdp.optimal_policy", planning.optimal_policy,
          lambda: {"cmdp": _cmdp(), "signal": _R, "discount": 0.9, "max_iterations": 100},
          {"cmdp": MODEL, "signal": ARRAY[1:], "discount": _OPT_NUMBER, "max_iterations": _CAP}),
    Entry("cmdp.soft_optimal_policy", planning.soft_optimal_policy,
          lambda: {"cmdp": _cmdp(), "signal": _R, "temperature": 0.5, "discount": 0.9, "tol": 1e-10,
                   "max_iterations": 10_000},
          {"cmdp": MODEL, "signal": ARRAY, "temperature": POSITIVE, "discount": _OPT_NUMBER, "tol": POSITIVE,
           "max_iterations": _CAP}),
    Entry("cmdp.state_values", planning.state_values,
          lambda: {"cmdp": _cmdp(), "policy": _PI, "signal": _R, "discount": 0.9},
          {"cmdp": MODEL, "policy": NONNEG_ARRAY, "signal": _STACK, "discount": _OPT_NUMBER}),
    Entry("cmdp.advantages", planning.advantages,
          lambda: {"cmdp": _cmdp(), "policy": _PI, "signal": _R, "discount": 0.9},
          {"cmdp": MODEL, "policy": NONNEG_ARRAY, "signal": _STACK, "discount": _OPT_NUMBER}),
]

_CORE_ENTRIES = [
    Entry("tabular_mdp.mdp_shape", core.mdp_shape, lambda: {"transitions": _P},
          {"transitions": ("none", "type", "shape", "ndim", "dtype", "empty")}),
    Entry("tabular_mdp.flat_transitions", core.flat_transitions, lambda: {"transitions": _P},
          {"transitions": ("none", "type", "shape", "ndim", "dtype", "empty")}),
    Entry("tabular_mdp.deterministic_policy", core.deterministic_policy,
          lambda: {"actions": np.array([0, 1]), "n_actions": 2},
          {"actions": ("none", "type", "nan", "inf", "negative", "fraction", "ndim", "dtype"), "n_actions": COUNT}),
    Entry("tabular_mdp.policy_transition_matrix", core.policy_transition_matrix,
          lambda: {"transitions": _P, "policy": _PI}, {"transitions": ARRAY, "policy": ARRAY}),
    Entry("tabular_mdp.policy_reward", core.policy_reward, lambda: {"reward": _R, "policy": _PI},
          {"reward": ARRAY, "policy": ARRAY}),
    Entry("tabular_mdp.expected_next", core.expected_next, lambda: {"transitions": _P, "values": _V},
          {"transitions": ARRAY, "values": ARRAY}),
    Entry("tabular_mdp.action_values", core.action_values,
          lambda: {"transitions": _P, "reward": _R, "values": _V, "discount": 0.9,
                   "terminal": np.array([False, True])},
          {"transitions": ARRAY, "reward": ARRAY, "values": ARRAY, "discount": _DISCOUNT, "terminal": _MASK}),
    Entry("tabular_mdp.solve_bellman", core.solve_bellman,
          lambda: {"p_pi": core.policy_transition_matrix(_P, _PI), "rhs": _V, "discount": 0.9,
                   "terminal": np.array([False, True])},
          {"p_pi": NONNEG_ARRAY, "rhs": ARRAY, "discount": _DISCOUNT, "terminal": _MASK}),
    Entry("tabular_mdp.state_values", core.state_values,
          lambda: {"transitions": _P, "policy": _PI, "reward": _R, "discount": 0.9, "terminal": np.array([False, True]),
                   "horizon": 4},
          {"transitions": NONNEG_ARRAY, "policy": NONNEG_ARRAY, "reward": ARRAY, "discount": _DISCOUNT,
           "terminal": _MASK, "horizon": ("type", "nan", "inf", "negative", "fraction")}),
    Entry("tabular_mdp.evaluate_policy", core.evaluate_policy,
          lambda: {"transitions": _P, "policy": _PI, "reward": _R, "discount": 0.9, "initial": _MU},
          {"transitions": NONNEG_ARRAY, "policy": NONNEG_ARRAY, "reward": ARRAY, "discount": _DISCOUNT,
           "initial": NONNEG_ARRAY}),
    Entry("tabular_mdp.state_occupancy", core.state_occupancy,
          lambda: {"transitions": _P, "policy": _PI, "initial": _MU, "discount": 0.9},
          {"transitions": NONNEG_ARRAY, "policy": NONNEG_ARRAY, "initial": NONNEG_ARRAY, "discount": _DISCOUNT}),
    Entry("tabular_mdp.occupancy_measure", core.occupancy_measure,
          lambda: {"transitions": _P, "policy": _PI, "initial": _MU, "discount": 0.9},
          {"transitions": NONNEG_ARRAY, "policy": NONNEG_ARRAY, "initial": NONNEG_ARRAY, "discount": _DISCOUNT}),
    Entry("tabular_mdp.value_iteration", core.value_iteration,
          lambda: {"transitions": _P, "reward": _R, "discount": 0.9, "allowed": np.ones((2, 2), dtype=bool),
                   "initial": _MU, "tol": 1e-8, "max_iter": 10_000},
          {"transitions": NONNEG_ARRAY, "reward": ARRAY, "discount": _DISCOUNT, "allowed": _MASK,
           "initial": NONNEG_ARRAY[1:], "tol": POSITIVE, "max_iter": _CAP}),
    Entry("tabular_mdp.backward_induction", core.backward_induction,
          lambda: {"transitions": _P, "reward": _R, "horizon": 5, "discount": 0.9},
          {"transitions": NONNEG_ARRAY, "reward": ARRAY, "horizon": COUNT, "discount": _DISCOUNT}),
    Entry("tabular_mdp.policy_iteration", core.policy_iteration,
          lambda: {"transitions": _P, "reward": _R, "discount": 0.9, "initial_policy": np.array([0, 1]),
                   "atol": 1e-12, "rtol": 0.0, "max_iter": 100},
          {"transitions": NONNEG_ARRAY, "reward": ARRAY, "discount": _DISCOUNT,
           "initial_policy": ("type", "nan", "inf", "negative", "fraction", "shape", "ndim", "dtype", "empty"),
           "atol": POSITIVE, "rtol": POSITIVE, "max_iter": _CAP}),
    Entry("tabular_mdp.soft_value_iteration", core.soft_value_iteration,
          lambda: {"transitions": _P, "reward": _R, "discount": 0.9, "temperature": 0.5, "tol": 1e-10,
                   "max_iter": 10_000},
          {"transitions": NONNEG_ARRAY, "reward": ARRAY, "discount": _DISCOUNT, "temperature": POSITIVE,
           "tol": POSITIVE, "max_iter": _CAP}),
    Entry("tabular_mdp.log_softmax", core.log_softmax, lambda: {"logits": _R},
          {"logits": ("none", "type", "nan", "inf", "dtype")}),   # any shape is valid
]

_SOLVER_ENTRIES = [
    Entry("solve_cmdp", cmdp_lp.solve_cmdp, lambda: {"cmdp": _cmdp(), "backend": "highspy", "method": "auto"},
          {"cmdp": MODEL, "backend": ("none", "type"), "method": ("none", "type")}),
    Entry("cmdp_frontier", cmdp_lp.cmdp_frontier,
          lambda: {"cmdp": _cmdp(), "constraint": 0, "limits": np.array([2.0, 3.0])},
          {"cmdp": MODEL, "constraint": INDEX, "limits": SIZING_ARRAY[:-1]}),
    Entry("occupancy_lp", cmdp_lp.occupancy_lp, lambda: {"cmdp": _cmdp()}, {"cmdp": MODEL}),
    Entry("solve_cmdp(method=lagrange)", lambda cmdp: cmdp_lp.solve_cmdp(cmdp, method="lagrange"),
          lambda: {"cmdp": _cmdp()}, {"cmdp": MODEL}),
    Entry("solve_cmdp_lagrange", cmdp_lagrange.solve_cmdp_lagrange,
          lambda: {"cmdp": _cmdp(), "gap_rtol": 1e-9, "max_evaluations": 100},
          {"cmdp": MODEL, "gap_rtol": POSITIVE, "max_evaluations": _CAP}),
]

_GENERATOR_KINDS = {"n_states": COUNT, "n_actions": COUNT, "n_constraints": COUNT, "successors": COUNT,
                    "discount": POSITIVE, "correlation": POSITIVE, "slack": POSITIVE, "seed": SEED}
_GENERATOR_ENTRIES = [
    Entry("banded_cmdp", gen.banded_cmdp,
          lambda: {"n_states": 20, "n_actions": 3, "n_constraints": 2, "successors": 3, "bandwidth": 2,
                   "discount": 0.9, "correlation": 0.5, "slack": 0.1, "seed": 0},
          {**_GENERATOR_KINDS, "bandwidth": COUNT}),
    Entry("random_cmdp", gen.random_cmdp,
          lambda: {"n_states": 20, "n_actions": 3, "n_constraints": 2, "successors": 3, "discount": 0.9,
                   "correlation": 0.5, "slack": 0.1, "seed": 0},
          _GENERATOR_KINDS),
]

_LEARNER_ENTRIES = [
    Entry("lagrangian_tabular", lag.lagrangian_tabular,
          lambda: {"cmdp": _cmdp(), "iterations": 3, "multiplier_lr": 0.1, "policy_lr": 0.5,
                   "policy_update": "npg", "initial_policy": _PI},
          {"cmdp": MODEL, "iterations": COUNT, "multiplier_lr": POSITIVE, "policy_lr": _OPT_NUMBER,
           "policy_update": ("none", "type"), "initial_policy": NONNEG_ARRAY[1:]}),
    Entry("pid_lagrangian_tabular", lag.pid_lagrangian_tabular,
          lambda: {"cmdp": _cmdp(), "iterations": 3, "kp": 0.1, "ki": 0.01, "kd": 0.01, "policy_lr": 0.5,
                   "policy_update": "best_response", "initial_policy": _PI},
          {"cmdp": MODEL, "iterations": COUNT, "kp": POSITIVE, "ki": POSITIVE, "kd": POSITIVE,
           "policy_lr": _OPT_NUMBER, "policy_update": ("none", "type"), "initial_policy": NONNEG_ARRAY[1:]}),
    Entry("lagrangian_sample", lag.lagrangian_sample,
          lambda: {"env": _finite_env(), "limits": np.array([3.0]), "iterations": 2, "episodes_per_iteration": 2,
                   "discount": 0.9, "lr": 0.05, "multiplier_lr": 0.05, "max_steps": 5, "entropy": 0.01, "seed": 0},
          {"env": MODEL, "limits": ARRAY, "iterations": COUNT, "episodes_per_iteration": COUNT,
           "discount": _DISCOUNT, "lr": POSITIVE, "multiplier_lr": POSITIVE, "max_steps": _OPT_CAP,
           "entropy": POSITIVE, "seed": SEED}),
    Entry("pid_lagrangian_sample", lag.pid_lagrangian_sample,
          lambda: {"env": _finite_env(), "limits": np.array([3.0]), "iterations": 2, "episodes_per_iteration": 2,
                   "discount": 0.9, "lr": 0.05, "kp": 0.1, "ki": 0.01, "kd": 0.01, "max_steps": 5, "entropy": 0.0,
                   "seed": 0},
          {"env": MODEL, "limits": ARRAY, "iterations": COUNT, "episodes_per_iteration": COUNT,
           "discount": _DISCOUNT, "lr": POSITIVE, "kp": POSITIVE, "ki": POSITIVE, "kd": POSITIVE,
           "max_steps": _OPT_CAP, "entropy": POSITIVE, "seed": SEED}),
    Entry("tscac_tabular", tscac.tscac_tabular,
          lambda: {"cmdp": _cmdp(), "weights": np.array([0.5, 0.2]), "temperature": 0.5,
                   "discounts": np.array([0.9, 0.9, 0.8]), "iterations": 5, "damping": 0.5, "tol": 1e-10},
          {"cmdp": MODEL, "weights": NONNEG_ARRAY, "temperature": POSITIVE, "discounts": NONNEG_ARRAY[1:],
           "iterations": _CAP, "damping": POSITIVE, "tol": POSITIVE}),
    Entry("tscac_sample", tscac.tscac_sample,
          lambda: {"env": _finite_env(), "weights": 0.5, "n_constraints": 1, "discounts": 0.9,
                   "stage_one_iterations": 2, "iterations": 2, "episodes_per_iteration": 2, "lr": 0.05,
                   "temperature": 0.05, "max_steps": 5, "seed": 0},
          {"env": MODEL, "weights": POSITIVE, "n_constraints": COUNT[1:], "discounts": _DISCOUNT,
           "stage_one_iterations": COUNT, "iterations": COUNT, "episodes_per_iteration": COUNT, "lr": POSITIVE,
           "temperature": POSITIVE, "max_steps": _OPT_CAP, "seed": SEED}),
    Entry("tscac_target", tscac.tscac_target,
          lambda: {"advantage": _R, "aux_log_policies": np.log(np.stack([_PI, _PI[::-1]])),
                   "weights": np.array([0.5, 1.0])},
          {"advantage": ARRAY, "aux_log_policies": ARRAY, "weights": NONNEG_ARRAY}),
    Entry("GradientMultiplier", mult.GradientMultiplier, lambda: {"lr": 0.1}, {"lr": POSITIVE}),
    Entry("PIDMultiplier", mult.PIDMultiplier, lambda: {"kp": 0.1, "ki": 0.01, "kd": 0.01},
          {"kp": POSITIVE, "ki": POSITIVE, "kd": POSITIVE}),
    Entry("PIDController", mult.PIDController,
          lambda: {"n": 2, "kp": 0.1, "ki": 0.01, "kd": 0.01, "initial": 0.5, "max_value": 10.0},
          {"n": COUNT, "kp": POSITIVE, "ki": POSITIVE, "kd": POSITIVE, "initial": POSITIVE,
           "max_value": ("none", "type", "nan", "negative")}),
    Entry("PIDController.update", lambda costs, limits: mult.PIDController(2, ki=0.1).update(costs, limits),
          lambda: {"costs": np.array([1.0, 2.0]), "limits": np.array([0.5, 0.5])},
          {"costs": ARRAY, "limits": ARRAY}),
    Entry("SoftmaxPolicy", pol.SoftmaxPolicy, lambda: {"weights": np.zeros((2, 3)), "tabular": True},
          {"weights": SIZING_ARRAY, "tabular": ("type",)}),
    Entry("SoftmaxPolicy.log_probabilities_from_features",
          lambda features: pol.SoftmaxPolicy(np.zeros((2, 3)), False).log_probabilities_from_features(features),
          lambda: {"features": np.ones((4, 3))}, {"features": tuple(k for k in ARRAY if k != "empty")}),
    Entry("featurizer", pol.featurizer, lambda: {"observation_space": _finite_env().observation_space},
          {"observation_space": MODEL}),
    Entry("fit_linear_critic", pol.fit_linear_critic,
          lambda: {"features": np.eye(3), "targets": np.ones((3, 2)), "ridge": 1e-3},
          {"features": SIZING_ARRAY, "targets": SIZING_ARRAY, "ridge": POSITIVE}),
    Entry("averaged_occupancy_policy", lag.averaged_occupancy_policy, lambda: {"occupancy_sum": _PI},
          {"occupancy_sum": (*SIZING_ARRAY, "negative")}),
    Entry("collect_episodes", pol.collect_episodes,
          lambda: {"env": _finite_env(), "policy": pol.SoftmaxPolicy(np.zeros((2, 2)), True),
                   "phi": pol.featurizer(_finite_env().observation_space)[0], "n_episodes": 2,
                   "discounts": np.array([0.9, 0.9]), "rng": np.random.default_rng(0), "max_steps": 5},
          {"env": MODEL, "policy": MODEL, "phi": MODEL, "n_episodes": COUNT, "discounts": NONNEG_ARRAY,
           "rng": MODEL, "max_steps": _CAP}),
    Entry("rollout", rollout,
          lambda: {"env": _finite_env(), "choose": lambda env, obs: 0, "n_episodes": 2, "seeds": 0, "max_steps": 5,
                   "on_step": lambda *a: None, "options": {}},
          {"env": MODEL, "choose": MODEL, "n_episodes": COUNT, "seeds": SEED, "max_steps": _OPT_CAP,
           "on_step": ("type",), "options": ("type",)}),
]

_SIM_ENTRIES = [
    Entry("SimulatorConfig", sim.SimulatorConfig,
          lambda: {"n_items": 50, "dim": 4, "n_topics": 3, "topic_spread": 0.6, "history": 3,
                   "affinity": (2.0, 1.5, 2.0, 1.5, 1.5, 1.5, -2.0), "biases": sim.CALIBRATED_BIASES,
                   "watch_noise": 0.7, "activity_sd": 0.3, "drift": 0.15, "temper_init": 20.0, "temper_spread": 2.0,
                   "temper_weights": (2.5, 0.6, 2.0, 2.0, 1.0, 2.0, -4.0), "leave_threshold": 1.0,
                   "catalogue_seed": 1},
          {"n_items": COUNT, "dim": COUNT, "n_topics": COUNT, "topic_spread": POSITIVE, "history": COUNT,
           "affinity": _CONFIG_ARRAY, "biases": _CONFIG_ARRAY, "watch_noise": POSITIVE, "activity_sd": POSITIVE,
           "drift": POSITIVE, "temper_init": POSITIVE, "temper_spread": POSITIVE, "temper_weights": _CONFIG_ARRAY,
           "leave_threshold": NUMBER, "catalogue_seed": ("none", *SEED)}),
    Entry("ShortVideoSimulator", sim.ShortVideoSimulator,
          lambda: {"config": sim.SimulatorConfig(n_items=50), "catalogue": None},
          {"config": ("type",), "catalogue": ("type",)}),
    Entry("ShortVideoSimulator.sample_users",
          lambda n, seed: sim.ShortVideoSimulator(sim.SimulatorConfig(n_items=50)).sample_users(n, seed),
          lambda: {"n": 3, "seed": 0}, {"n": COUNT, "seed": SEED}),
    Entry("ShortVideoSimulator.step",
          lambda users, items, seed: sim.ShortVideoSimulator(sim.SimulatorConfig(n_items=50)).step(users, items, seed),
          lambda: {"users": sim.ShortVideoSimulator(sim.SimulatorConfig(n_items=50)).sample_users(3, 0),
                   "items": np.array([0, 5, 7]), "seed": 1},
          {"users": MODEL, "items": _ITEMS, "seed": SEED}),
    Entry("random_policy_means", sim.random_policy_means,
          lambda: {"config": sim.SimulatorConfig(n_items=50), "n_users": 20, "max_steps": 5, "seed": 0},
          {"config": ("type",), "n_users": COUNT, "max_steps": _CAP, "seed": SEED}),
    Entry("calibrate", sim.calibrate,
          lambda: {"config": sim.SimulatorConfig(), "targets": dict(sim.LOGGED_MEANS), "n_users": 20, "max_steps": 5,
                   "seed": 0, "rtol": 5.0, "max_iter": 3},
          {"config": ("type",), "targets": ("type",), "n_users": COUNT, "max_steps": _CAP, "seed": SEED,
           "rtol": POSITIVE, "max_iter": _CAP}),
    Entry("twin_responses", twin.twin_responses,
          lambda: {"config": sim.SimulatorConfig(), "n_clusters": 2, "durations": np.array([8.0, 20.0]),
                   "qualities": np.array([0.25, 0.75])},
          {"config": ("type",), "n_clusters": COUNT, "durations": (*SIZING_ARRAY, "negative"),
           "qualities": (*SIZING_ARRAY, "negative")}),
    Entry("tabular_recommender", twin.tabular_recommender,
          lambda: {"constraints": ("like", "hate"), "limits": np.array([18.0, 0.01]), "n_fatigue": 3,
                   "n_clusters": 2, "durations": np.array([8.0, 20.0]), "qualities": np.array([0.25, 0.75]),
                   "discount": 0.9, "config": sim.SimulatorConfig(), "sparse": False},
          {"constraints": ("none", "type"), "limits": ARRAY[1:], "n_fatigue": COUNT, "n_clusters": COUNT,
           "durations": (*SIZING_ARRAY, "negative"), "qualities": (*SIZING_ARRAY, "negative"),
           "discount": POSITIVE, "config": ("type",), "sparse": ("type",)}),
]

_ENV_ENTRIES = [
    Entry("FiniteCMDPEnv", FiniteCMDPEnv,
          lambda: {"cmdp": _cmdp(), "max_episode_steps": 5, "terminal_states": [1], "render_mode": "ansi"},
          {"cmdp": MODEL, "max_episode_steps": _OPT_CAP,
           "terminal_states": ("none", "type", "nan", "inf", "negative", "fraction", "ndim", "dtype"),
           "render_mode": ("type",)}),
    Entry("FiniteCMDPEnv.step", lambda action: _reset(_finite_env()).step(action), lambda: {"action": 1},
          {"action": _ACTION}),
    Entry("RecommenderEnv", RecommenderEnv,
          lambda: {"n_candidates": 3, "max_steps": 5, "constraints": ("like",), "config": sim.SimulatorConfig(),
                   "render_mode": "rgb_array", "cost_mode": "expected", "cost_discount": 0.9},
          {"n_candidates": COUNT, "max_steps": _CAP, "constraints": ("none", "type"), "config": ("type",),
           "render_mode": ("type",), "cost_mode": ("none", "type"), "cost_discount": POSITIVE}),
    Entry("RecommenderEnv.step", lambda action: _reset(_rec()).step(action), lambda: {"action": 1},
          {"action": _ACTION}),
    Entry("RecommenderContinuousEnv", RecommenderContinuousEnv,
          lambda: {"n_candidates": 3, "max_steps": 5, "constraints": ("like",), "config": sim.SimulatorConfig(),
                   "render_mode": "rgb_array", "cost_mode": "sampled", "cost_discount": 0.9},
          {"n_candidates": COUNT, "max_steps": _CAP, "constraints": ("none", "type"), "config": ("type",),
           "render_mode": ("type",), "cost_mode": ("none", "type"), "cost_discount": POSITIVE}),
    Entry("RecommenderContinuousEnv.step", lambda action: _reset(_cont()).step(action),
          lambda: {"action": np.full(9, 0.5, dtype=np.float32)}, {"action": ARRAY}),
    Entry("RankingRules", RankingRules, lambda: {"env": _rec(), "rules": {"long": (1.0, 0.0, 0.0, 0.0)}},
          {"env": MODEL, "rules": ("type",)}),
    Entry("RankingRules.step", lambda action: _reset(RankingRules(_rec())).step(action), lambda: {"action": 1},
          {"action": _ACTION}),
    Entry("ExpectedSignals", ExpectedSignals, lambda: {"env": _rec()}, {"env": MODEL}),
    Entry("ExpectedSignals.step", lambda action: _reset(ExpectedSignals(_rec())).step(action), lambda: {"action": 1},
          {"action": _ACTION}),
    Entry("ScaleRewardAndCosts", ScaleRewardAndCosts, lambda: {"env": _rec(), "reward_scale": 0.1, "cost_scale": 2.0},
          {"env": MODEL, "reward_scale": POSITIVE, "cost_scale": POSITIVE}),
    Entry("ScaleRewardAndCosts.step", lambda action: _reset(ScaleRewardAndCosts(_rec(), 0.1, 2.0)).step(action),
          lambda: {"action": 1}, {"action": _ACTION}),
    Entry("EpisodeRecorder", EpisodeRecorder, lambda: {"env": _rec(), "keys": ("signals", "costs")},
          {"env": MODEL, "keys": ("none", "type")}),
    Entry("EpisodeRecorder.batch_means", lambda episodes_per_batch: EpisodeRecorder(_rec()).batch_means(
        episodes_per_batch), lambda: {"episodes_per_batch": 2}, {"episodes_per_batch": COUNT[:-1]}),
    Entry("ToSafetyGymnasium", ToSafetyGymnasium, lambda: {"env": _rec(), "constraint": 0},
          {"env": MODEL, "constraint": ("type", "nan", "negative", "fraction")}),
    Entry("session_slots", session_slots, lambda: {"max_steps": 100, "discount": 0.9},
          {"max_steps": _CAP, "discount": POSITIVE}),
    Entry("leaving_charge", leaving_charge, lambda: {"remaining": 10, "discount": 0.9},
          {"remaining": _CAP, "discount": POSITIVE}),
    Entry("cost_signs", cost_signs, lambda: {"constraints": ("like", "hate")}, {"constraints": ("none", "type")}),
    Entry("cost_offsets", cost_offsets, lambda: {"constraints": ("like", "hate")}, {"constraints": ("none", "type")}),
    Entry("ToSafetyGymnasium.step", lambda action: _reset(ToSafetyGymnasium(_rec())).step(action),
          lambda: {"action": 1}, {"action": _ACTION}),
    Entry("LagrangeMultipliers", LagrangeMultipliers,
          lambda: {"limits": np.array([1.0, 2.0]), "ki": 0.05, "kp": 0.1, "kd": 0.0, "initial": 0.5,
                   "max_value": 10.0, "batch_episodes": 2, "names": ("a", "b")},
          {"limits": SIZING_ARRAY, "ki": POSITIVE, "kp": POSITIVE, "kd": POSITIVE, "initial": POSITIVE,
           "max_value": ("none", "type", "nan", "negative"), "batch_episodes": COUNT[:-1], "names": ("type",)}),
    Entry("LagrangeMultipliers.record_episode",
          lambda episode_costs: LagrangeMultipliers([1.0, 2.0]).record_episode(episode_costs),
          lambda: {"episode_costs": np.array([1.5, 0.5])}, {"episode_costs": ARRAY}),
    Entry("LagrangeMultipliers.record_episodes",
          lambda episode_costs: LagrangeMultipliers([1.0, 2.0]).record_episodes(episode_costs),
          lambda: {"episode_costs": np.array([[1.5, 0.5], [0.0, 3.0]])}, {"episode_costs": ARRAY}),
    Entry("LagrangeMultipliers.update", lambda mean_costs: LagrangeMultipliers([1.0, 2.0]).update(mean_costs),
          lambda: {"mean_costs": np.array([1.5, 0.5])}, {"mean_costs": ARRAY}),
    Entry("LagrangianReward", LagrangianReward,
          lambda: {"env": _rec(), "multipliers": LagrangeMultipliers([1.0]), "cost_key": "costs", "update": True},
          {"env": MODEL, "multipliers": MODEL, "cost_key": ("none", "type"), "update": ("type",)}),
    Entry("LagrangianReward.step",
          lambda action: _reset(LagrangianReward(_rec(), LagrangeMultipliers([1.0]))).step(action),
          lambda: {"action": 1}, {"action": _ACTION}),
]

ENTRIES = [*_MODEL_ENTRIES, *_CORE_ENTRIES, *_SOLVER_ENTRIES, *_GENERATOR_ENTRIES, *_LEARNER_ENTRIES, *_SIM_ENTRIES,
           *_ENV_ENTRIES]
