"""Core tests of the RL adapters in :mod:`mechsim.envs.rl` (no torch, no RL library needed)."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given
from hypothesis import strategies as st
from pettingzoo.test import parallel_api_test, parallel_seed_test

import mechsim  # noqa: F401  (registers the environments)
from mechsim.envs.debate import ResetNeededError
from mechsim.envs.hiring import HiringParallelEnv
from mechsim.envs.rl import (
    DebateVsOpponent,
    LagrangeMultipliers,
    LagrangianReward,
    OneHotParallelEnv,
    ScriptedAgents,
    hiring_rllib_env,
    obedient_truthful_hiring_policy,
)
from mechsim.errors import InvalidInstanceError
from mechsim.learners.debaters import GreedyDebater, PolicyGradientDebater, RandomDebater
from mechsim.solvers.debate import best_response, brute_force_best_response, solve_debate, subgame_values


# ------------------------------------------------------------------------------------ multipliers
def test_dual_ascent_by_hand():
    lm = LagrangeMultipliers([1.0, -2.0], ki=0.5)
    assert lm.record_episode([3.0, -2.5])           # errors (2, -0.5)
    np.testing.assert_allclose(lm.lambdas, [1.0, 0.0])
    lm.record_episode([0.0, 0.0])                   # errors (-1, 2)
    np.testing.assert_allclose(lm.lambdas, [0.5, 1.0])
    lm.record_episode([-10.0, -2.0])                # projected at zero, not negative
    np.testing.assert_allclose(lm.lambdas, [0.0, 1.0])
    assert len(lm.history) == 3 and lm.n_episodes == 3


def test_pid_terms_and_cap():
    lm = LagrangeMultipliers([0.0], ki=1.0, kp=2.0, kd=3.0, max_value=100.0)
    lm.update([1.0])                                # I = 1, P = 2, no previous: D = 0
    np.testing.assert_allclose(lm.lambdas, [3.0])
    lm.update([2.0])                                # I = 3, P = 4, D = 3 * (2 - 1)
    np.testing.assert_allclose(lm.lambdas, [10.0])
    lm.update([1.0])                                # I = 4, P = 2, falling cost: D = 0
    np.testing.assert_allclose(lm.lambdas, [6.0])
    lm.update([200.0])
    np.testing.assert_allclose(lm.lambdas, [100.0])  # capped


def test_batch_episodes_average():
    lm = LagrangeMultipliers([0.0], ki=1.0, batch_episodes=3)
    assert not lm.record_episode([1.0]) and not lm.record_episode([2.0])
    assert lm.record_episode([6.0])
    np.testing.assert_allclose(lm.lambdas, [3.0])
    np.testing.assert_allclose(lm.cost_history[-1], [3.0])


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=20), st.floats(0.01, 2.0))
def test_multipliers_never_negative(costs, ki):
    lm = LagrangeMultipliers([0.5], ki=ki, kp=0.3, kd=0.2)
    for c in costs:
        lm.record_episode([c])
        assert lm.lambdas[0] >= 0.0


def _former_lagrange_update(limits, ki, kp, kd, initial, max_value, costs_seq):
    """The former update of LagrangeMultipliers (before it used PIDController), verbatim: the merge's oracle."""
    integral, previous, out = np.broadcast_to(initial, limits.shape).astype(float).copy(), None, []
    for j in costs_seq:
        error = j - limits
        integral = np.maximum(0.0, integral + ki * error)
        rise = np.zeros_like(j) if previous is None else np.maximum(0.0, j - previous)
        previous = j.copy()
        out.append(np.clip(kp * error + integral + kd * rise, 0.0, max_value))
    return np.array(out)


@given(st.integers(0, 10_000), st.sampled_from([np.inf, 2.0]), st.booleans())
def test_lagrange_multipliers_reproduce_the_former_update_exactly(seed, max_value, per_constraint):
    rng = np.random.default_rng(seed)
    m = 3
    limits = rng.normal(size=m)
    gains = [rng.uniform(0, 2, size=m) if per_constraint else float(rng.uniform(0, 2)) for _ in range(3)]
    initial = rng.uniform(0, 1, size=m)
    costs_seq = rng.normal(size=(25, m)) * 3
    lm = LagrangeMultipliers(limits, ki=gains[0], kp=gains[1], kd=gains[2], initial=initial, max_value=max_value)
    for j in costs_seq:
        lm.update(j)
    expected = _former_lagrange_update(limits, *(np.broadcast_to(g, (m,)) for g in gains), initial, max_value,
                                       costs_seq)
    np.testing.assert_array_equal(np.array(lm.history), expected)
    np.testing.assert_array_equal(lm.lambdas, expected[-1])


@pytest.mark.parametrize("kwargs, argument", [
    ({"limits": []}, "limits"), ({"limits": [1.0], "ki": -1.0}, "ki"),
    ({"limits": [1.0], "kp": [1.0, 2.0]}, "kp"), ({"limits": [1.0], "batch_episodes": 0}, "batch_episodes"),
    ({"limits": [1.0], "max_value": 0.0}, "max_value"), ({"limits": [1.0], "names": ["a", "b"]}, "names"),
    ({"limits": [1.0], "initial": 5.0, "max_value": 1.0}, "initial"),
])
def test_multiplier_errors_name_argument(kwargs, argument):
    with pytest.raises(InvalidInstanceError, match=argument):
        LagrangeMultipliers(**kwargs)


# ------------------------------------------------------------------------------------ Lagrangian reward
def _recommender(**kw):
    return gymnasium.make("mechsim/Recommender-v0", n_candidates=4, max_steps=15, **kw)


def test_lagrangian_reward_penalises_and_shares_multipliers():
    lm = LagrangeMultipliers([14.0, 0.5], ki=2.0, initial=[3.0, 1.0], names=["like", "hate"])
    envs = [LagrangianReward(_recommender(constraints=["like", "hate"]), lm) for _ in range(2)]
    for k, env in enumerate(envs):
        obs, info = env.reset(seed=k)
        np.testing.assert_array_equal(info["lambdas"], lm.lambdas)
        total, done, updates = np.zeros(2), False, len(lm.history)
        while not done:
            _, r, term, trunc, info = env.step(env.action_space.sample())
            assert r == pytest.approx(info["reward_unconstrained"] - info["lambdas"] @ info["costs"])
            total += info["costs"]
            done = term or trunc
        np.testing.assert_allclose(info["episode_costs"], total)
        assert len(lm.history) == updates + 1      # each copy's episode end moved the shared multipliers
        np.testing.assert_allclose(lm.cost_history[-1], total)
    # both copies read the same object
    assert envs[0].multipliers is envs[1].multipliers


def test_lagrangian_reward_penalty_changes_the_return():
    """With lambda = 100 per missed like, every session's penalised return is its watch time plus 100 per like,
    minus 100 per request slot of the session (the missed-like cost totals max_steps - likes, leaving charge
    included): a session with likes scores more than one without."""
    lm = LagrangeMultipliers([14.0], ki=0.0, initial=100.0)
    env = LagrangianReward(_recommender(constraints=["like"]), lm)
    for seed in range(20):
        env.reset(seed=seed)
        env.action_space.seed(seed)
        ret = watch = likes = 0.0
        done = False
        while not done:
            _, r, term, trunc, info = env.step(env.action_space.sample())
            ret += r
            watch += info["reward_unconstrained"]
            likes += info["signals"][2]
            done = term or trunc
        assert ret == pytest.approx(watch + 100.0 * likes - 100.0 * env.unwrapped.max_steps)
        if likes:
            return
    pytest.fail("no like in 20 sessions: cannot exercise the penalty")


def test_lagrangian_update_false_and_errors():
    lm = LagrangeMultipliers([14.0], ki=1.0)
    env = LagrangianReward(_recommender(constraints=["like"]), lm, update=False)
    env.reset(seed=0)
    done = False
    while not done:
        *_, term, trunc, _ = env.step(0)
        done = term or trunc
    assert lm.history == []
    with pytest.raises(InvalidInstanceError, match="multipliers"):
        LagrangianReward(_recommender(constraints=["like", "share"]), lm)
    with pytest.raises(InvalidInstanceError, match="multipliers"):
        LagrangianReward(_recommender(), object())
    bad = LagrangianReward(_recommender(constraints=["like"]), lm, cost_key="nope")
    bad.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match="nope"):
        bad.step(0)


def test_lagrangian_reward_in_a_sync_vector_env():
    lm = LagrangeMultipliers([14.5], ki=5.0)
    vec = gymnasium.vector.SyncVectorEnv(
        [lambda: LagrangianReward(_recommender(constraints=["like"]), lm) for _ in range(3)])
    vec.reset(seed=0)
    for _ in range(60):
        vec.step(vec.action_space.sample())
    assert lm.n_episodes >= 3 and len(lm.history) == lm.n_episodes
    vec.close()


# ------------------------------------------------------------------------------------ debate view
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("opponent", ["minimax", "random"])
def test_debate_view_passes_gymnasium_checker(opponent):
    check_env(DebateVsOpponent(opponent=opponent), skip_render_check=True)


@pytest.mark.parametrize("opponent", ["minimax", "random", "greedy"])
@pytest.mark.parametrize("learner", [0, 1])
def test_best_response_value_matches_exact_solver(opponent, learner):
    env = DebateVsOpponent(opponent=opponent, learner=learner)
    for seed in range(4):
        _, info = env.reset(seed=seed)
        g = env.game
        args = (g.judge, g.current_features, g.current_decisions, g.n_evidence)
        fm = g.infos["debater_0"]["first_mover"]
        if opponent == "minimax":
            ref = solve_debate(*args, first_mover=fm).value
        else:
            policy = RandomDebater() if opponent == "random" else GreedyDebater(g.judge)
            ref = best_response(*args, policy, learner, first_mover=fm).value
        ref = ref if learner == 0 else -ref
        assert info["best_response_value"] == pytest.approx(ref, abs=1e-12)


def test_best_response_value_matches_brute_force_for_a_learned_opponent():
    """Against a stochastic policy the value is an expectation: check it against the sequence-tree oracle."""
    opponent = PolicyGradientDebater(8, 4, seed=1)
    for learner in (0, 1):
        env = DebateVsOpponent(opponent=opponent, learner=learner)
        for seed in range(3):
            _, info = env.reset(seed=seed)
            g = env.game
            fm = g.infos["debater_0"]["first_mover"]
            ref = brute_force_best_response(g.judge, g.current_features, g.current_decisions, g.n_evidence,
                                            opponent, learner, first_mover=fm)
            assert info["best_response_value"] == pytest.approx(ref if learner == 0 else -ref, abs=1e-12)


@pytest.mark.parametrize("learner", [0, 1])
def test_minimax_opponent_reveals_an_optimal_feature(learner):
    env = DebateVsOpponent(opponent="minimax", learner=learner)
    rng = np.random.default_rng(learner)
    for seed in range(20):
        env.reset(seed=seed)
        g = env.game
        table = subgame_values(g.judge, g.current_features, g.current_decisions, g.n_evidence,
                               g.infos["debater_0"]["first_mover"])
        revealed = np.zeros(g.n_features, dtype=bool)
        for k, f in enumerate(g.evidence):
            mover = g.infos["debater_0"]["first_mover"] if k % 2 == 0 else 1 - g.infos["debater_0"]["first_mover"]
            if mover != learner:
                children = table.child_values(revealed)[0]
                best = np.nanmax(children) if mover == 0 else np.nanmin(children)
                assert f == int(np.flatnonzero(children == best)[0])  # optimal, lowest index on ties
            revealed[f] = True
        done = len(g.evidence) == g.n_evidence
        while not done:
            revealed = ~env.action_masks()
            _, _, done, _, _ = env.step(int(rng.choice(np.flatnonzero(~revealed))))
            if len(g.evidence) > revealed.sum() + 1:  # the opponent replied
                f = g.evidence[-1]
                after = revealed.copy()
                after[g.evidence[-2]] = True
                children = table.child_values(after)[0]
                best = np.nanmax(children) if learner == 1 else np.nanmin(children)
                assert f == int(np.flatnonzero(children == best)[0])


def test_bad_opponent_policy_names_the_opponent():
    class Unnormalised:
        def probabilities(self, features, revealed, own, other):
            return (~np.asarray(revealed)).astype(float)
    for compute_value in (True, False):
        env = DebateVsOpponent(opponent=Unnormalised(), compute_value=compute_value, learner=1)
        with pytest.raises(InvalidInstanceError, match="opponent") as err:
            for seed in range(10):  # the opponent moves first in some episode
                env.reset(seed=seed)
                while not env.step(int(np.flatnonzero(env.action_masks())[0]))[2]:
                    pass
        assert err.value.argument == "opponent"


def test_debate_episode_masks_and_outcome():
    env = DebateVsOpponent(opponent="greedy", compute_value=False)
    for seed in range(10):
        obs, info = env.reset(seed=seed)
        F = env.game.n_features
        moves = 0
        done = False
        while not done:
            mask = env.action_masks()
            np.testing.assert_array_equal(mask, obs[F:2 * F] == 0)
            np.testing.assert_array_equal(info["action_mask"], mask.astype(np.int8))
            obs, r, done, trunc, info = env.step(int(np.flatnonzero(mask)[-1]))
            moves += 1
            assert not trunc
        assert len(info["evidence"]) == env.game.n_evidence
        assert moves in (env.game.n_evidence // 2, (env.game.n_evidence + 1) // 2)
        assert r == info["outcome"] and r in (-1.0, 0.0, 1.0)
        assert "best_response_value" not in info


def test_debate_seeding_is_deterministic():
    def trajectory(seed):
        env = DebateVsOpponent(opponent="random")
        obs, _ = env.reset(seed=seed)
        out, done = [obs], False
        while not done:
            obs, r, done, _, _ = env.step(int(np.flatnonzero(env.action_masks())[0]))
            out.append(obs)
        return np.concatenate(out), r
    a, b, c = trajectory(3), trajectory(3), trajectory(4)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[1] == b[1]
    assert not np.array_equal(a[0][:8], c[0][:8])


def test_debate_illegal_actions():
    env = DebateVsOpponent(opponent="random")
    env.reset(seed=0)
    revealed = np.flatnonzero(~env.action_masks())
    free = int(np.flatnonzero(env.action_masks())[0])
    if revealed.size == 0:  # learner moved first: reveal once so that an illegal move exists
        env.step(free)
        revealed = np.flatnonzero(~env.action_masks())
    _, r, done, _, info = env.step(int(revealed[0]))
    assert (r, done, info["illegal_action"]) == (-1.0, True, True)
    strict = DebateVsOpponent(opponent="random", illegal_action="raise")
    strict.reset(seed=0)
    f = int(np.flatnonzero(strict.action_masks())[0])
    strict.step(f)
    with pytest.raises(ValueError, match="already revealed"):
        strict.step(f)
    with pytest.raises(ValueError, match="action"):
        strict.step(99)
    with pytest.raises(InvalidInstanceError, match="opponent"):
        DebateVsOpponent(opponent="smart")
    with pytest.raises(InvalidInstanceError, match="learner"):
        DebateVsOpponent(learner=2)


def test_debate_view_conventions():
    """Issue 12: rgb_array frames, a reset-needed error after the end, typed constructor errors, max_cycles."""
    env = DebateVsOpponent(opponent="random", render_mode="rgb_array")
    check_env(env)
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    with pytest.raises(ResetNeededError):
        DebateVsOpponent(opponent="random").step(0)
    done = False
    while not done:
        _, _, term, trunc, _ = env.step(int(np.flatnonzero(env.action_masks())[0]))
        done = term or trunc
    with pytest.raises(gymnasium.error.ResetNeeded):
        env.step(0)
    with pytest.warns(UserWarning, match="no-such-mode"):
        assert DebateVsOpponent(render_mode="no-such-mode").render_mode is None
    for kwargs, argument in [(dict(debate_kwargs=[1, 2]), "debate_kwargs"), (dict(compute_value="yes"),
                                                                              "compute_value"),
                             (dict(render_mode=3), "render_mode"), (dict(opponent=None), "opponent")]:
        with pytest.raises(InvalidInstanceError, match=argument):
            DebateVsOpponent(**kwargs)
    cut = DebateVsOpponent(debate_kwargs={"n_evidence": 8, "max_cycles": 2}, opponent="random",
                           compute_value=False)
    cut.reset(seed=0)
    for _k in range(4):
        obs, reward, term, trunc, info = cut.step(int(np.flatnonzero(cut.action_masks())[0]))
        if term or trunc:
            break
    assert trunc and not term and reward == 0.0 and info["outcome"] is None and len(info["evidence"]) == 4


def test_minimax_opponent_holds_random_learner_below_the_value():
    """Against the exact minimax opponent no learner can beat the game value; a random one loses more."""
    env = DebateVsOpponent(opponent="minimax")
    rng = np.random.default_rng(0)
    outcomes, values = [], []
    for seed in range(150):
        _, info = env.reset(seed=seed)
        values.append(info["best_response_value"])
        done = False
        while not done:
            _, r, done, _, _ = env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
        outcomes.append(r)
        assert r <= 1.0
    assert np.mean(outcomes) < np.mean(values) - 0.1


# ------------------------------------------------------------------------------------ one-hot parallel
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_one_hot_hiring_passes_parallel_checks():
    parallel_api_test(hiring_rllib_env({"max_cycles": 6}), num_cycles=50)
    parallel_seed_test(lambda: hiring_rllib_env({"max_cycles": 6}), num_cycles=50)


def test_one_hot_matches_raw_env():
    raw = HiringParallelEnv(max_cycles=10)
    wrapped = hiring_rllib_env({"max_cycles": 10})
    o_raw, _ = raw.reset(seed=5)
    o_w, _ = wrapped.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(10):
        for a in raw.agents:
            space = raw.observation_space(a)
            assert wrapped.observation_space(a).shape == (int(space.nvec.sum()),)
            np.testing.assert_array_equal(wrapped.encode(a, o_raw[a]), o_w[a])
            assert o_w[a].sum() == len(space.nvec)
        flat = {a: int(rng.integers(wrapped.action_space(a).n)) for a in raw.agents}
        pairs = {a: wrapped.decode_action(a, k) for a, k in flat.items()}
        for a, k in flat.items():
            S = raw.instance.n_signals[int(a.split("_")[1])]
            assert tuple(pairs[a]) == divmod(k, S)
            assert wrapped.encode_action(a, pairs[a]) == k
        o_raw, r_raw, *_ = raw.step(pairs)
        o_w, r_w, *_ = wrapped.step(flat)
        assert r_raw == r_w
    assert wrapped.agents == raw.agents == []


def test_one_hot_rejects_bad_spaces_and_actions():
    class BoxEnv:
        possible_agents = ("agent_0",)

        def observation_space(self, a):
            return gymnasium.spaces.Box(0, 1, (2,))

        def action_space(self, a):
            return gymnasium.spaces.Discrete(2)

    with pytest.raises(InvalidInstanceError, match="observation_space"):
        OneHotParallelEnv(BoxEnv())
    env = hiring_rllib_env()
    env.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match="agent_0"):
        env.step({"agent_0": 17, "agent_1": 0})


# ------------------------------------------------------------------------------------ scripted agents
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_scripted_agents_play_obediently_and_truthfully():
    wrapped = hiring_rllib_env({"max_cycles": 40, "learners": ["agent_0"]})
    parallel_api_test(hiring_rllib_env({"max_cycles": 6, "learners": "agent_0"}), num_cycles=20)
    assert wrapped.possible_agents == ["agent_0"]
    raw = HiringParallelEnv(max_cycles=40)
    wrapped.reset(seed=9)
    o_raw, _ = raw.reset(seed=9)
    rng = np.random.default_rng(1)
    while raw.agents:
        k = int(rng.integers(wrapped.action_space("agent_0").n))
        _, r_w, _, trunc, info_w = wrapped.step({"agent_0": k})
        _, rec, _, signal = (int(v) for v in o_raw["agent_1"])
        actions = {"agent_0": wrapped.decode_action("agent_0", k), "agent_1": np.array([rec, signal])}
        o_raw, r_raw, *_, info_raw = raw.step(actions)
        assert set(r_w) == {"agent_0"} and r_w["agent_0"] == r_raw["agent_0"]
        if "efforts" in info_raw["agent_1"]:
            # agent_1 exerted its recommendation and reported its signal
            assert info_raw["agent_1"]["efforts"][1] == info_raw["agent_1"]["profile"][1]
            assert info_raw["agent_1"]["reports"][1] == info_raw["agent_1"]["signals"][1]
            assert info_w["agent_0"]["reports"] == info_raw["agent_0"]["reports"]
    assert wrapped.agents == [] and trunc["agent_0"]


def test_scripted_agents_errors():
    with pytest.raises(InvalidInstanceError, match="learners"):
        hiring_rllib_env({"learners": ["agent_7"]})
    with pytest.raises(InvalidInstanceError, match="policies"):
        ScriptedAgents(HiringParallelEnv(), {"agent_0": obedient_truthful_hiring_policy,
                                            "agent_1": obedient_truthful_hiring_policy})
    with pytest.raises(InvalidInstanceError, match="policies"):
        ScriptedAgents(HiringParallelEnv(), {"agent_0": 3})
