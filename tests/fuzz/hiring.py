"""The hiring domain: model, audits, LPs, the online learner and its world, learning agents, Hiring-v0."""

import functools

import numpy as np

from fuzz.entry import ARRAY, COUNT, INDEX, MODEL, NONNEG_ARRAY, NUMBER, POSITIVE, SEED, SIZING_ARRAY, Entry
from mechsim import hiring as H
from mechsim.envs import hiring as hiring_env
from mechsim.envs.multiagent_adapters import hiring_rllib_env
from mechsim.learners import hiring_agents as A
from mechsim.learners import hiring_online as O
from mechsim.solvers import hiring_lp as LP
from mechsim.solvers.hiring_online_lp import solve_estimated_mechanism_lp
from mechsim.testing.hiring import assert_hiring_incentive_compatible

#: An index sequence (an effort profile): every array kind, and each entry an index.
PROFILE = ("none", "type", "nan", "inf", "negative", "fraction", "shape", "ndim", "dtype", "empty")
#: A real number where ``None`` means "the default".
OPTIONAL_NUMBER = NUMBER[1:]
OPTIONAL_POSITIVE = POSITIVE[1:]
#: A count that is a limit (a huge one is a valid, if pointless, limit).
LIMIT = COUNT[:-1]
#: A sequence with one array per agent whose length sets the number of agents.
PER_AGENT = ("none", "type", "nan", "inf", "ndim", "dtype", "empty")
STRING = ("none", "type")
OPTIONS = ("type",)
#: One payment cap per agent: every array kind ("shape": one cap too few or too many for the agents).
CAPS = ("none", "type", "nan", "inf", "negative", "shape", "ndim", "dtype", "empty")
#: A valid per-agent cap vector for the two agents of the tables' instance.
_CAPS = (0.5, 1.0)


@functools.cache
def _inst():
    return H.HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=0)


@functools.cache
def _mech():
    return LP.optimal_mechanism(_inst())


@functools.cache
def _online():
    """A small instance the online learner can learn, its inducing rules and OPT."""
    _, inst = O.learnable_instances(1)[0]
    return inst, LP.inducing_scoring_rules(inst), LP.optimal_mechanism(inst).value


def _cost_differences():
    return [_inst().cost_differences(i) for i in range(2)]


@functools.cache
def _lp():
    inst = _inst()
    return LP.build_hiring_lp(inst.joint, _cost_differences(), inst.utility, inst.payment_cap)


@functools.cache
def _env():
    return hiring_env.parallel_env(max_cycles=40)


def _env_step(effort_step: bool):
    """``step`` of a fresh episode at its effort step (or at its report step, after an obedient effort step)."""
    def call(actions):
        env = _env()
        env.reset(seed=0)
        if not effort_step:
            env.step({"agent_0": np.array([1, 0]), "agent_1": np.array([0, 0])})
        return env.step(actions)
    return call


def _env_step_one(effort_step: bool):
    step = _env_step(effort_step)
    return lambda action: step({"agent_0": action, "agent_1": np.array([0, 0])})


def _instance_kwargs():
    inst = _inst()
    return {"prior": np.array(inst.prior), "costs": [np.array(c) for c in inst.costs],
            "signal_law": np.array(inst.signal_law), "utility": np.array(inst.utility), "payment_cap": 1.0}


def _mechanism_kwargs():
    m = _mech()
    return {"recommendation": np.array(m.recommendation), "payments": np.array(m.payments),
            "decision": np.array(m.decision), "value": m.value}


def _random_kwargs():
    return {"n_agents": 2, "n_efforts": 2, "n_signals": 2, "n_states": 2, "n_actions": 2, "correlation": 0.5,
            "seed": 0, "payment_cap": 1.0, "cost_margin": 0.25, "min_informativeness": 0.3,
            "max_informativeness": 1.0, "concentration": 0.5, "alignment": 3.0, "cost_level": 1.0}


def _lp_kwargs(**extra):
    inst = _inst()
    return {"joint": np.array(inst.joint), "cost_differences": _cost_differences(), "utility": np.array(inst.utility),
            "payment_cap": 1.0, **extra}


_LP_KINDS = {"joint": NONNEG_ARRAY, "cost_differences": PER_AGENT, "utility": ARRAY, "payment_cap": POSITIVE}
_BUILD_KINDS = {**_LP_KINDS, "margin": NUMBER, "relaxation": OPTIONAL_POSITIVE, "profile": PROFILE[1:],
                "effort_margins": OPTIONAL_NUMBER, "truthful_margins": ARRAY[1:]}


def _build_kwargs():
    return _lp_kwargs(margin=0.0, relaxation=0.0, profile=[1, 0], effort_margins=0.0,
                      truthful_margins=[np.zeros((2, 2)), np.zeros((2, 2))])


def _online_kwargs():
    inst, rules, opt = _online()
    return {"instance": inst, "horizon": 10_000, "seed": 0, "variant": "default", "delta": 1e-3,
            "explore_scale": 0.25, "max_candidates": 6, "safety": 1.25, "incentive_tests": True,
            "non_ic_charge": "worst", "inducing_rules": rules, "optimal_value": opt, "checkpoints_per_decade": 12}


def _world(**kw):
    inst, _, opt = _online()
    return H.HiringWorld(inst, 1000, opt, np.random.default_rng(0), **kw)


def _exp3(env, instance, rounds, seed, tail):
    return A.independent_exp3_agents(env, instance, rounds, seed, tail=tail)


def _per_agent_caps(call, kwargs):
    """``call`` with its keyword arguments from ``kwargs()``, except a per-agent ``payment_cap``."""
    return lambda payment_cap: call(**{**kwargs(), "payment_cap": payment_cap})


ENTRIES = [
    # ------------------------------------------------------------------------------------------ the model
    Entry("hiring.HiringInstance", H.HiringInstance, _instance_kwargs,
          {"prior": (*SIZING_ARRAY, "negative"), "costs": tuple(k for k in NONNEG_ARRAY if k != "shape"),
           "signal_law": NONNEG_ARRAY, "utility": NONNEG_ARRAY, "payment_cap": POSITIVE}),
    Entry("hiring.HiringInstance.random", H.HiringInstance.random, _random_kwargs,
          {"n_agents": COUNT, "n_efforts": COUNT, "n_signals": COUNT, "n_states": COUNT, "n_actions": COUNT,
           "correlation": POSITIVE, "seed": SEED, "payment_cap": POSITIVE, "cost_margin": POSITIVE,
           "min_informativeness": POSITIVE, "max_informativeness": POSITIVE, "concentration": POSITIVE,
           "alignment": POSITIVE, "cost_level": POSITIVE}),
    Entry("hiring.HiringInstance.noisy_bits", H.HiringInstance.noisy_bits,
          lambda: {"n_agents": 2, "accuracy": np.array([0.52, 0.95]), "costs": np.array([0.0, 0.08]),
                   "payment_cap": 1.0},
          {"n_agents": COUNT, "accuracy": (*SIZING_ARRAY, "negative"), "costs": NONNEG_ARRAY,
           "payment_cap": POSITIVE}),
    Entry("hiring.HiringInstance(per-agent caps)", _per_agent_caps(H.HiringInstance, _instance_kwargs),
          lambda: {"payment_cap": np.array(_CAPS)}, {"payment_cap": CAPS}),
    Entry("hiring.HiringInstance.random(per-agent caps)", _per_agent_caps(H.HiringInstance.random, _random_kwargs),
          lambda: {"payment_cap": list(_CAPS)}, {"payment_cap": CAPS}),
    Entry("hiring.HiringInstance.noisy_bits(per-agent caps)",
          _per_agent_caps(H.HiringInstance.noisy_bits, lambda: {"n_agents": 2}),
          lambda: {"payment_cap": np.array(_CAPS)}, {"payment_cap": CAPS}),
    Entry("hiring.HiringInstance.scale_costs", lambda factor: _inst().scale_costs(factor), lambda: {"factor": 0.5},
          {"factor": POSITIVE}),
    Entry("hiring.HiringInstance.marginal", lambda i: _inst().marginal(i), lambda: {"i": 1}, {"i": INDEX}),
    Entry("hiring.HiringInstance.own_marginal", lambda i, atol: _inst().own_marginal(i, atol),
          lambda: {"i": 1, "atol": 1e-9}, {"i": INDEX, "atol": POSITIVE}),
    Entry("hiring.HiringInstance.cost_differences", lambda i: _inst().cost_differences(i), lambda: {"i": 1},
          {"i": INDEX}),
    Entry("hiring.Mechanism", H.Mechanism, _mechanism_kwargs,
          {"recommendation": (*SIZING_ARRAY, "negative"), "payments": tuple(k for k in ARRAY if k != "shape"),
           "decision": tuple(k for k in NONNEG_ARRAY if k != "shape"), "value": NUMBER}),
    Entry("hiring.Mechanism.build", H.Mechanism.build,
          lambda: {"instance": _inst(), **{k: v for k, v in _mechanism_kwargs().items() if k != "value"}},
          {"instance": MODEL, "recommendation": NONNEG_ARRAY, "payments": ARRAY, "decision": NONNEG_ARRAY[1:]}),
    Entry("hiring.Mechanism.uncorrelated", H.Mechanism.uncorrelated,
          lambda: {"instance": _inst(), "profile": [1, 0], "scoring_rules": [np.ones((2, 2)), np.zeros((2, 2))],
                   "decision": _inst().bayes_decision()},
          {"instance": MODEL, "profile": PROFILE, "scoring_rules": ARRAY, "decision": NONNEG_ARRAY[1:]}),
    Entry("hiring.Mechanism.with_flat_fee", lambda instance, agent: _mech().with_flat_fee(instance, agent),
          lambda: {"instance": _inst(), "agent": 0}, {"instance": MODEL, "agent": INDEX}),
    Entry("hiring.Mechanism.expected_payments", lambda instance: _mech().expected_payments(instance),
          lambda: {"instance": _inst()}, {"instance": MODEL}),
    Entry("hiring.Mechanism.check_compatible", lambda instance: _mech().check_compatible(instance),
          lambda: {"instance": _inst()}, {"instance": MODEL}),
    Entry("hiring.Mechanism.respects_limits", lambda instance, atol: _mech().respects_limits(instance, atol),
          lambda: {"instance": _inst(), "atol": 1e-9}, {"instance": MODEL, "atol": POSITIVE}),
    Entry("hiring.bayes_decision", H.bayes_decision,
          lambda: {"joint": np.array(_inst().joint), "utility": np.array(_inst().utility)},
          {"joint": NONNEG_ARRAY, "utility": ARRAY}),
    Entry("hiring.value_of_information", H.value_of_information,
          lambda: {"joint": np.array(_inst().joint), "utility": np.array(_inst().utility), "n_agents": 2},
          {"joint": NONNEG_ARRAY, "utility": ARRAY, "n_agents": COUNT}),
    # ---------------------------------------------------------------------------------------------- audits
    Entry("hiring.evaluate_mechanism", H.evaluate_mechanism, lambda: {"instance": _inst(), "mechanism": _mech()},
          {"instance": MODEL, "mechanism": MODEL}),
    Entry("hiring.audit_incentives", H.audit_incentives,
          lambda: {"instance": _inst(), "mechanism": _mech(), "atol": 1e-7},
          {"instance": MODEL, "mechanism": MODEL, "atol": POSITIVE}),
    Entry("hiring.is_incentive_compatible", H.is_incentive_compatible,
          lambda: {"instance": _inst(), "mechanism": _mech(), "atol": 1e-7},
          {"instance": MODEL, "mechanism": MODEL, "atol": POSITIVE}),
    Entry("hiring.audit_incentives_brute_force", H.audit_incentives_brute_force,
          lambda: {"instance": _inst(), "mechanism": _mech(), "atol": 1e-7, "max_maps": 1000},
          {"instance": MODEL, "mechanism": MODEL, "atol": POSITIVE, "max_maps": LIMIT}),
    Entry("hiring.assert_hiring_incentive_compatible", assert_hiring_incentive_compatible,
          lambda: {"instance": _inst(), "mechanism": _mech()}, {"instance": MODEL, "mechanism": MODEL}),
    # --------------------------------------------------------------------------------------- the world
    Entry("hiring.HiringWorld", H.HiringWorld,
          lambda: {"instance": _online()[0], "horizon": 1000, "optimal_value": _online()[2],
                   "rng": np.random.default_rng(0), "non_ic_charge": "worst"},
          {"instance": MODEL, "horizon": LIMIT, "optimal_value": NUMBER, "rng": ("type",),
           "non_ic_charge": STRING}),
    Entry("hiring.HiringWorld.post_scoring_rules",
          lambda rules, actions, n_rounds, phase: _world().post_scoring_rules(rules, actions, n_rounds, phase),
          lambda: {"rules": [np.ones((2, 2)), np.zeros((2, 2))], "actions": np.zeros((2, 2), dtype=int),
                   "n_rounds": 10, "phase": "estimation"},
          {"rules": ARRAY, "actions": (*ARRAY, "negative", "fraction"), "n_rounds": LIMIT, "phase": STRING}),
    Entry("hiring.HiringWorld.commit", lambda mechanism: _world().commit(mechanism),
          lambda: {"mechanism": LP.optimal_mechanism(_online()[0])}, {"mechanism": MODEL}),
    Entry("hiring.HiringWorld.cumulative_regret", lambda checkpoints: _world().cumulative_regret(checkpoints),
          lambda: {"checkpoints": np.array([1, 10, 100])},
          {"checkpoints": (*(k for k in SIZING_ARRAY if k != "empty"), "negative")}),   # no checkpoint: a no-op
    # ---------------------------------------------------------------------------------------------- LPs
    Entry("hiring.optimal_mechanism", LP.optimal_mechanism,
          lambda: {"instance": _inst(), "margin": 0.0, "profile": [1, 0], "highs_options": {"time_limit": 60.0}},
          {"instance": MODEL, "margin": POSITIVE, "profile": PROFILE[1:], "highs_options": OPTIONS}),
    Entry("hiring.optimal_uncorrelated_mechanism", LP.optimal_uncorrelated_mechanism,
          lambda: {"instance": _inst(), "margin": 0.0}, {"instance": MODEL, "margin": POSITIVE}),
    Entry("hiring.inducing_scoring_rules", LP.inducing_scoring_rules, lambda: {"instance": _online()[0]},
          {"instance": MODEL}),
    Entry("hiring.InducingRules.mechanism", lambda instance, profile: _online()[1].mechanism(instance, profile),
          lambda: {"instance": _online()[0], "profile": [1, 0]}, {"instance": MODEL, "profile": PROFILE}),
    Entry("hiring.min_payment", LP.min_payment,
          lambda: {"instance": _inst(), "agent": 0, "profile": [1, 0], "margin": 0.0},
          {"instance": MODEL, "agent": INDEX, "profile": PROFILE, "margin": POSITIVE}),
    Entry("hiring.build_hiring_lp", LP.build_hiring_lp, _build_kwargs, _BUILD_KINDS),
    Entry("hiring.solve_hiring_lp", LP.solve_hiring_lp,
          lambda: {**_build_kwargs(), "highs_options": {"time_limit": 60.0}},
          {**_BUILD_KINDS, "highs_options": OPTIONS}),
    Entry("hiring.build_hiring_lp(per-agent caps)", _per_agent_caps(LP.build_hiring_lp, _build_kwargs),
          lambda: {"payment_cap": np.array(_CAPS)}, {"payment_cap": CAPS}),
    Entry("hiring.solve_hiring_lp(per-agent caps)", _per_agent_caps(LP.solve_hiring_lp, _lp_kwargs),
          lambda: {"payment_cap": list(_CAPS)}, {"payment_cap": CAPS}),
    Entry("hiring.solve_assembled_lp", LP.solve_assembled_lp,
          lambda: {"lp": _lp(), "highs_options": {"time_limit": 60.0}}, {"lp": MODEL, "highs_options": OPTIONS}),
    Entry("hiring.solve_estimated_mechanism_lp", solve_estimated_mechanism_lp,
          lambda: _lp_kwargs(effort_margins=0.0, truthful_margins=[np.zeros((2, 2)), np.zeros((2, 2))],
                             truthful_relaxation=0.0),
          {**_LP_KINDS, "effort_margins": OPTIONAL_NUMBER, "truthful_margins": NONNEG_ARRAY[1:],
           "truthful_relaxation": POSITIVE}),
    Entry("hiring.solve_estimated_mechanism_lp(per-agent caps)",
          _per_agent_caps(solve_estimated_mechanism_lp, _lp_kwargs),
          lambda: {"payment_cap": np.array(_CAPS)}, {"payment_cap": CAPS}),
    # ------------------------------------------------------------------------------------------ learners
    Entry("hiring.simulate_online", O.simulate_online, _online_kwargs,
          {"instance": MODEL, "horizon": LIMIT, "seed": SEED, "variant": STRING, "delta": OPTIONAL_POSITIVE,
           "explore_scale": OPTIONAL_POSITIVE, "max_candidates": LIMIT, "safety": POSITIVE,
           "incentive_tests": ("none", "type"), "non_ic_charge": STRING, "inducing_rules": ("type",),
           "optimal_value": OPTIONAL_NUMBER, "checkpoints_per_decade": COUNT}),
    Entry("hiring.learnable_instances", O.learnable_instances,
          lambda: {"count": 1, "start": 0, "correlation": 0.3, "cost_factor": 0.25},
          {"count": COUNT, "start": INDEX, "correlation": POSITIVE, "cost_factor": POSITIVE}),
    Entry("hiring.empirical_bernstein_width", O.empirical_bernstein_width,
          lambda: {"variance": np.array([0.1, 0.2]), "n": np.array([10.0, 20.0]), "value_range": 1.0,
                   "log_term": 3.0},
          {"variance": ("none", "type", "nan", "dtype"), "n": ("none", "type", "nan", "dtype"),
           "value_range": ("none", "type", "nan"), "log_term": POSITIVE}),
    Entry("hiring.reporting_plans", A.reporting_plans, lambda: {"instance": _inst(), "agent": 1},
          {"instance": MODEL, "agent": INDEX}),
    Entry("hiring.independent_exp3_agents", _exp3,
          lambda: {"env": hiring_env.parallel_env(instance=_inst(), mechanism=_mech(), max_cycles=40),
                   "instance": _inst(), "rounds": 20, "seed": 0, "tail": 5},
          {"env": MODEL, "instance": MODEL, "rounds": COUNT, "seed": SEED, "tail": INDEX[1:]}),
    # ------------------------------------------------------------------------------------- environments
    Entry("hiring.Hiring-v0", hiring_env.HiringParallelEnv,
          lambda: {"instance": _inst(), "mechanism": _mech(), "max_cycles": 4, "cost_timing": "report",
                   "render_mode": "ansi"},
          {"instance": ("type",), "mechanism": ("type",), "max_cycles": LIMIT, "cost_timing": STRING,
           "render_mode": ("type",)}),
    Entry("hiring.Hiring-v0.reset", lambda seed: _env().reset(seed=seed), lambda: {"seed": 0}, {"seed": SEED}),
    Entry("hiring.Hiring-v0.step(effort)", _env_step(True),
          lambda: {"actions": {"agent_0": np.array([1, 0]), "agent_1": np.array([0, 0])}}, {"actions": MODEL}),
    Entry("hiring.Hiring-v0.step(report)", _env_step(False),
          lambda: {"actions": {"agent_0": np.array([0, 1]), "agent_1": np.array([0, 0])}}, {"actions": MODEL}),
    Entry("hiring.Hiring-v0.step(effort action)", _env_step_one(True), lambda: {"action": np.array([1, 0])},
          {"action": (*ARRAY, "negative", "fraction")}, names={"action": ("actions",)}),
    Entry("hiring.Hiring-v0.step(report action)", _env_step_one(False), lambda: {"action": np.array([0, 1])},
          {"action": (*ARRAY, "negative", "fraction")}, names={"action": ("actions",)}),
    Entry("hiring.hiring_rllib_env", hiring_rllib_env, lambda: {"config": {"max_cycles": 4}}, {"config": ("type",)}),
]
