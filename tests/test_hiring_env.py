"""Tests of the mechsim/Hiring-v0 PettingZoo environment.

``max_cycles_test`` and the registry-wide checks run in tests/test_env_contract.py.
"""

import numpy as np
import pettingzoo
import pytest
from pettingzoo.test import (
    api_test,
    parallel_api_test,
    parallel_seed_test,
    render_test,
    seed_test,
)

import mechsim  # noqa: F401  (registers the environments)
from mechsim.envs import hiring as hiring_env
from mechsim.hiring import HiringInstance, Mechanism, audit_incentives
from mechsim.solvers.hiring_lp import optimal_mechanism

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_parallel_api():
    parallel_api_test(hiring_env.parallel_env(max_cycles=40), num_cycles=200)


def test_aec_api():
    api_test(hiring_env.env(max_cycles=40), num_cycles=200)


def test_seeding():
    seed_test(hiring_env.env, num_cycles=50)
    parallel_seed_test(hiring_env.parallel_env, num_cycles=50)


def test_render():
    render_test(hiring_env.env)
    env = hiring_env.parallel_env(render_mode="ansi")
    env.reset(seed=0)
    env.step({a: np.array([1, 0]) for a in env.agents})
    env.step({a: np.array([1, 1]) for a in env.agents})
    assert "principal action" in env.render()


def test_registered_ids_make_the_environment():
    par = pettingzoo.make("parallel", "mechsim/Hiring-v0", max_cycles=6)
    obs, infos = par.reset(seed=3)
    assert par.agents == ["agent_0", "agent_1"] and set(obs) == set(par.agents)
    aec = pettingzoo.make("aec", "mechsim/Hiring-v0")
    aec.reset(seed=3)
    assert aec.agent_selection == "agent_0"


def play(env, policy, rounds, seed):
    """Play ``rounds`` rounds with ``policy(agent_index, phase, obs) -> int``; return the log."""
    log = []
    observations, _ = env.reset(seed=seed)
    for _ in range(rounds):
        for phase in (0, 1):
            actions = {}
            for i, a in enumerate(env.agents):
                choice = policy(i, phase, observations[a])
                actions[a] = np.array([choice, 0] if phase == 0 else [0, choice])
            observations, rewards, _, _, infos = env.step(actions)
        log.append((rewards, infos))
    return log


def obedient(i, phase, obs):
    return int(obs[1]) if phase == 0 else int(obs[3])


def test_obedient_agents_realise_the_mechanism_value():
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.7, seed=74)
    mech = optimal_mechanism(inst)
    rounds = 20_000
    env = hiring_env.parallel_env(instance=inst, mechanism=mech, max_cycles=2 * rounds)
    log = play(env, obedient, rounds, seed=0)
    principal = np.array([infos["agent_0"]["principal_utility"] for _, infos in log])
    # the sample mean is within 5 standard errors of the exact value
    assert abs(principal.mean() - mech.value) < 5 * principal.std() / np.sqrt(rounds) + 1e-12
    recommended = np.array([infos["agent_0"]["profile"] for _, infos in log])
    assert set(map(tuple, recommended)) <= {tuple(b) for b in mech.support}


def test_the_deviation_found_by_the_audit_pays_in_the_environment():
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=1)
    pay = np.zeros((2, *inst.n_efforts, *inst.n_signals, inst.n_states))
    mech = Mechanism.build(inst, [[0.0, 0.0], [0.0, 1.0]], pay)  # work for nothing
    audit = audit_incentives(inst, mech)
    assert not audit.is_ic and audit.deviation_effort == 0
    rounds = 2_000

    def deviate(i, phase, obs):
        if i == audit.agent:
            return audit.deviation_effort if phase == 0 else int(audit.reporting_map[int(obs[3])])
        return obedient(i, phase, obs)

    env = hiring_env.parallel_env(instance=inst, mechanism=mech, max_cycles=2 * rounds)
    agent = f"agent_{audit.agent}"
    honest = np.mean([r[agent] for r, _ in play(env, obedient, rounds, seed=1)])
    cheat = np.mean([r[agent] for r, _ in play(env, deviate, rounds, seed=1)])
    # no payments: the rewards are minus the costs, so the gain is exactly the audit's
    assert cheat - honest == pytest.approx(audit.max_gain, abs=1e-12)


def test_rewards_and_infos_follow_the_mechanism():
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.7, seed=74)
    mech = optimal_mechanism(inst)
    env = hiring_env.parallel_env(instance=inst, mechanism=mech, max_cycles=400)
    observations, infos = env.reset(seed=5)
    for _ in range(200):
        efforts = {a: np.array([int(observations[a][1]), 0]) for a in env.agents}
        observations, rewards, _, _, infos = env.step(efforts)
        assert all(r == 0.0 for r in rewards.values())
        assert all(observations[a][0] == 1 for a in observations)
        reports = {a: np.array([0, int(observations[a][3])]) for a in env.agents}
        observations, rewards, terms, truncs, infos = env.step(reports)
        info = infos["agent_0"]
        b, s, t = info["profile"], info["reports"], info["state"]
        for i, a in enumerate(["agent_0", "agent_1"]):
            expected = mech.payments[(i, *b, *s, t)] - inst.costs[i][info["efforts"][i]]
            assert rewards[a] == pytest.approx(expected)
            assert infos[a]["payment"] == pytest.approx(mech.payments[(i, *b, *s, t)])
        assert info["principal_utility"] == pytest.approx(
            inst.utility[info["action"], t] - sum(infos[a]["payment"] for a in infos)
        )
    assert all(truncs.values()) and not any(terms.values()) and env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})


def test_cost_timing_moves_the_cost_not_the_total():
    totals = {}
    for timing in ("report", "effort"):
        env = hiring_env.parallel_env(max_cycles=200, cost_timing=timing)
        env.reset(seed=9)
        total = 0.0
        for step in range(200):
            _, rewards, _, _, _ = env.step({a: np.array([1, step % 2]) for a in env.agents})
            total += sum(rewards.values())
        totals[timing] = total
    assert totals["report"] == pytest.approx(totals["effort"])


def test_invalid_actions_and_arguments_are_rejected():
    env = hiring_env.parallel_env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="missing"):
        env.step({"agent_0": np.array([0, 0])})
    with pytest.raises(ValueError, match="effort in 0..1"):
        env.step({"agent_0": np.array([2, 0]), "agent_1": np.array([0, 0])})
    with pytest.raises(ValueError, match="pair"):
        env.step({"agent_0": 1, "agent_1": np.array([0, 0])})
    with pytest.raises(ValueError, match="max_cycles"):
        hiring_env.parallel_env(max_cycles=0)
    with pytest.raises(ValueError, match="cost_timing"):
        hiring_env.parallel_env(cost_timing="never")
    other = HiringInstance.random(1, 3, 2, 2, 2, seed=0)
    with pytest.raises(ValueError, match="mechanism"):
        hiring_env.parallel_env(
            instance=other, mechanism=optimal_mechanism(hiring_env.default_instance())
        )


def test_spaces_are_cached_and_observations_valid():
    env = hiring_env.parallel_env(
        instance=HiringInstance.random(3, [2, 3, 1], [3, 2, 2], 2, 2, seed=0), max_cycles=20
    )
    observations, _ = env.reset(seed=0)
    for a in env.possible_agents:
        assert env.observation_space(a) is env.observation_space(a)
        assert env.action_space(a) is env.action_space(a)
    for _ in range(20):
        for a, o in observations.items():
            assert env.observation_space(a).contains(o)
        observations, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})


@pytest.mark.parametrize("sizes", [(1, 3, 2, 2), (3, [2, 3, 1], [3, 2, 2], 2)])
def test_api_on_other_instances(sizes):
    n, efforts, signals, states = sizes
    inst = HiringInstance.random(n, efforts, signals, states, 2, correlation=0.5, seed=0)
    parallel_api_test(hiring_env.parallel_env(instance=inst, max_cycles=7), num_cycles=50)
    api_test(hiring_env.env(instance=inst, max_cycles=7), num_cycles=50)


def test_monte_carlo_gain_of_the_audited_deviation_matches_the_audit():
    """Under an underpaying (non-IC) mechanism, the audit's deviation earns, on average over many
    rounds, phi_i(b_i) x the audited conditional gain more than obedience
    (common random numbers)."""
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.7, seed=74)
    opt = optimal_mechanism(inst)
    mech = Mechanism.build(inst, opt.recommendation, 0.7 * opt.payments)
    audit = audit_incentives(inst, mech)
    assert not audit.is_ic
    i, b = audit.agent, audit.recommended_effort
    agent = f"agent_{i}"

    def deviate(j, phase, obs):
        if j == i and int(obs[1]) == b:
            return audit.deviation_effort if phase == 0 else int(audit.reporting_map[int(obs[3])])
        return obedient(j, phase, obs)

    rounds = 15_000
    env = hiring_env.parallel_env(instance=inst, mechanism=mech, max_cycles=2 * rounds)
    honest = np.array([r[agent] for r, _ in play(env, obedient, rounds, seed=2)])
    cheat = np.array([r[agent] for r, _ in play(env, deviate, rounds, seed=2)])
    phi_i = mech.recommendation.sum(axis=1 - i)[b]
    diff = cheat - honest
    standard_error = diff.std() / np.sqrt(rounds)
    assert abs(diff.mean() - phi_i * audit.max_gain) < 5 * standard_error + 1e-12
    assert diff.mean() > 3 * standard_error
