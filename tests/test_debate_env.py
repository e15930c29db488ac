"""The PettingZoo AEC environment mechsim/Debate-v0.

``render_test`` and the registry-wide checks run in tests/test_env_contract.py.
"""

import numpy as np
import pettingzoo
import pytest
from pettingzoo.test import api_test, seed_test

import mechsim  # noqa: F401  (registers the environments)
from mechsim.debate.judges import ConstantJudge, LinearJudge, debate_outcome
from mechsim.envs import debate
from mechsim.errors import InvalidInstanceError
from mechsim.solvers.debate import solve_debate

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _custom(**kw):
    rng = np.random.default_rng(0)
    states = rng.normal(size=(30, 6))
    judge = LinearJudge(rng.normal(size=(3, 6)))
    return debate.env(states=states, judge=judge, n_evidence=3, **kw)


def test_api_test_default_and_custom():
    api_test(debate.env(), num_cycles=300)
    api_test(_custom(), num_cycles=300)
    api_test(_custom(decisions=(2, 0), first_mover=1), num_cycles=100)


def test_seed_test():
    seed_test(debate.env, num_cycles=100)
    seed_test(_custom, num_cycles=100)


def test_make_through_registry():
    e = pettingzoo.make("aec", "mechsim/Debate-v0", n_evidence=2)
    e.reset(seed=3)
    assert e.agents == ["debater_0", "debater_1"]
    assert e.unwrapped.n_evidence == 2


def _play(e, pick):
    """Play one episode, ``pick(agent, obs) -> feature``; returns (final rewards, evidence)."""
    totals = {a: 0.0 for a in e.possible_agents}
    _play.final_infos = {}
    for agent in e.agent_iter():
        obs, reward, term, trunc, info = e.last()
        totals[agent] += reward
        if term or trunc:
            _play.final_infos[agent] = info
            e.step(None)
            continue
        e.step(pick(agent, obs))
    return totals


def test_episode_mechanics_and_zero_sum_reward():
    rng = np.random.default_rng(1)
    F, D, L = 5, 3, 3
    states = rng.normal(size=(10, F))
    judge = LinearJudge(rng.normal(size=(D, F)))
    e = debate.env(states=states, judge=judge, n_evidence=L)
    for seed in range(20):
        e.reset(seed=seed)
        raw = e.unwrapped
        x, (a0, a1), fm = raw.current_features, raw.current_decisions, raw.infos["debater_0"]["first_mover"]
        assert a0 != a1
        assert e.agent_selection == f"debater_{fm}"
        obs = e.observe("debater_0")
        np.testing.assert_allclose(obs["observation"][:F], x.astype(np.float32))
        assert obs["observation"][2 * F + a0] == 1 and obs["observation"][2 * F:].sum() == 1
        assert obs["action_mask"].dtype == np.int8 and obs["action_mask"].sum() == F
        order = []

        def pick(agent, o, order=order):
            order.append(agent)
            legal = np.flatnonzero(o["action_mask"])
            np.testing.assert_array_equal(o["observation"][F:2 * F] == 1, o["action_mask"] == 0)
            return int(rng.choice(legal))
        totals = _play(e, pick)
        assert len(order) == L
        # alternation starting with the first mover; first mover gets the extra reveal when L is odd
        assert order == [f"debater_{(fm + k) % 2}" for k in range(L)]
        evidence = _play.final_infos["debater_0"]["evidence"]
        assert evidence == raw.evidence and len(evidence) == L
        mask = np.zeros(F, dtype=bool)
        mask[list(evidence)] = True
        expected = debate_outcome(judge, x, mask, a0, a1)[0]
        assert totals["debater_0"] == expected and totals["debater_1"] == -expected
        assert _play.final_infos["debater_1"]["outcome"] == -expected


def test_optimal_play_in_env_realises_solver_value():
    """Both agents follow the solver's principal line: the env's reward equals the minimax value."""
    rng = np.random.default_rng(4)
    F, L = 6, 4
    states = rng.integers(-2, 3, size=(5, F)).astype(float)
    judge = LinearJudge(rng.integers(-2, 3, size=(2, F)).astype(float))
    e = debate.env(states=states, judge=judge, n_evidence=L, decisions=(0, 1))
    for seed in range(6):
        e.reset(seed=seed)
        raw = e.unwrapped
        fm = raw.infos["debater_0"]["first_mover"]
        out = solve_debate(judge, raw.current_features, (0, 1), L, first_mover=fm)
        line = iter(out.principal_line)
        totals = _play(e, lambda agent, o, line=line: next(line))
        assert totals["debater_0"] == out.value


def test_constant_judge_always_ties():
    e = debate.env(states=np.ones((3, 4)), judge=ConstantJudge(n_decisions=2), n_evidence=2)
    e.reset(seed=0)
    totals = _play(e, lambda agent, o: int(np.flatnonzero(o["action_mask"])[0]))
    assert totals == {"debater_0": 0.0, "debater_1": 0.0}


def test_state_sampler_and_decision_callable():
    def sampler(rng):
        return rng.normal(size=4)

    def decide(rng, x):
        return (0, 1) if x[0] > 0 else (1, 0)
    e = debate.env(state_sampler=sampler, n_features=4, judge=LinearJudge(np.eye(2, 4)), decisions=decide,
                   n_evidence=2)
    for seed in range(5):
        e.reset(seed=seed)
        raw = e.unwrapped
        assert raw.current_decisions == ((0, 1) if raw.current_features[0] > 0 else (1, 0))
    assert raw.state().shape == raw.state_space.shape


def test_illegal_reveal_raises():
    e = debate.raw_env(n_evidence=3)
    e.reset(seed=0)
    e.step(2)
    with pytest.raises(ValueError, match="already revealed"):
        e.step(2)


@pytest.mark.parametrize("kwargs, argument", [
    (dict(n_evidence=0), "n_evidence"),
    (dict(n_evidence=9), "n_evidence"),
    (dict(judge=LinearJudge(np.ones((2, 3)))), "states"),
    (dict(states=np.ones((2, 3)), judge=LinearJudge(np.ones((2, 3))), decisions=(1, 1), n_evidence=2),
     "decisions"),
    (dict(states=np.ones((2, 3)), judge=LinearJudge(np.ones((2, 3))), first_mover=3, n_evidence=2), "first_mover"),
    (dict(states=np.ones((2, 3)), judge=object(), n_decisions=2, n_evidence=2), "judge"),
    (dict(render_mode=7), "render_mode"),          # an unknown mode *name* only warns (Gymnasium convention)
])
def test_bad_configuration(kwargs, argument):
    with pytest.raises(InvalidInstanceError, match=argument):
        debate.raw_env(**kwargs)


@pytest.mark.parametrize("action", [None, "3", 2.5, np.nan, -1, 8, 10**12, True])
def test_bad_actions_are_typed_errors(action):
    """Issue 12: the Debate env's step errors are mechsim errors naming the action (they were bare ValueErrors)."""
    e = debate.raw_env()
    e.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match="action"):
        e.step(action)
    e.step(np.int64(3))  # numpy integers (what action spaces sample) are actions
    with pytest.raises(InvalidInstanceError, match="already revealed"):
        e.step(3)


def test_states_must_fit_the_judge():
    with pytest.raises(InvalidInstanceError, match="states: expected 8 features"):
        debate.raw_env(states=np.ones((4, 5)))  # the demonstration judge scores 8 features
    with pytest.raises(InvalidInstanceError, match="n_decisions"):
        debate.raw_env(states=np.ones((4, 3)), judge=LinearJudge(np.ones((2, 3))), n_decisions=3, n_evidence=2)


def _count_turns(e, seed=0):
    """PettingZoo's max_cycles_test count, with masked reveals: agent iterations per agent (dead step included)."""
    e.reset(seed=seed)
    counts = dict.fromkeys(e.possible_agents, 0)
    rng = np.random.default_rng(seed)
    for agent in e.agent_iter():
        counts[agent] += 1
        obs, _, term, trunc, _ = e.last()
        e.step(None if term or trunc else int(rng.choice(np.flatnonzero(obs["action_mask"]))))
    return counts


@pytest.mark.parametrize("max_cycles", [1, 2, 3])
def test_max_cycles_truncates_after_that_many_cycles(max_cycles):
    """Issue 12 (PettingZoo convention): each debater acts max_cycles times, then both are truncated."""
    e = pettingzoo.make("aec", "mechsim/Debate-v0", n_evidence=8, max_cycles=max_cycles)
    assert e.unwrapped.max_cycles == max_cycles
    assert _count_turns(e) == {"debater_0": max_cycles + 1, "debater_1": max_cycles + 1}
    e.reset(seed=1)
    for _agent in e.agent_iter():
        obs, reward, term, trunc, info = e.last()
        if term or trunc:
            assert trunc and not term and reward == 0.0
            assert info["outcome"] is None and len(info["evidence"]) == 2 * max_cycles
            e.step(None)
        else:
            e.step(int(np.flatnonzero(obs["action_mask"])[0]))


def test_max_cycles_beyond_the_game_changes_nothing():
    """A game of L reveals ends by termination after ceil(L/2) cycles; a larger max_cycles never cuts it."""
    for L in (3, 4):
        a, b = debate.env(n_evidence=L), debate.env(n_evidence=L, max_cycles=(L + 1) // 2)
        assert _count_turns(a) == _count_turns(b)
        b.reset(seed=0)
        for _agent in b.agent_iter():
            obs, _, term, trunc, info = b.last()
            assert not trunc
            b.step(None if term else int(np.flatnonzero(obs["action_mask"])[0]))
    with pytest.raises(InvalidInstanceError, match="max_cycles"):
        debate.raw_env(max_cycles=0)


def test_rgb_array_frame():
    e = debate.raw_env(render_mode="rgb_array")
    e.reset(seed=0)
    e.step(1)
    frame = e.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    assert "rgb_array" in e.metadata["render_modes"]
