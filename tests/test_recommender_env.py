"""Tests of the short-video simulator and its Gymnasium environments."""

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import mechsim  # noqa: F401  (registers the environments)
from mechsim.cmdp.simulator import (
    CALIBRATED_BIASES,
    LOGGED_MEANS,
    SIGNAL_NAMES,
    ShortVideoSimulator,
    SimulatorConfig,
    calibrate,
    expected_responses,
    random_policy_means,
)
from mechsim.envs.recommender import RecommenderContinuousEnv, RecommenderEnv
from mechsim.envs.safety import ToSafetyGymnasium
from mechsim.errors import InvalidInstanceError

ENV_CLASSES = [RecommenderEnv, RecommenderContinuousEnv]
ENV_IDS = ["mechsim/Recommender-v0", "mechsim/RecommenderContinuous-v0"]


def _rollout(env, seed, n_steps, action_seed=0):
    """Run ``n_steps`` with actions from a seeded action space; return the per-step tuples."""
    env.action_space.seed(action_seed)
    obs, info = env.reset(seed=seed)
    out = [(obs, info)]
    for _ in range(n_steps):
        step = env.step(env.action_space.sample())
        out.append(step)
        if step[2] or step[3]:
            out.append(env.reset())
    return out


# ---------------------------------------------------------------------------------------------- checkers
@pytest.mark.parametrize("cls", ENV_CLASSES)
def test_check_env(cls):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no spec" warning for alternative render modes
        check_env(cls())
        check_env(cls(render_mode="ansi"))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_make_by_registered_id(env_id):
    env = gymnasium.make(env_id, n_candidates=5, max_steps=7)
    check_env(env.unwrapped)
    obs, _info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    steps = 0
    while True:
        obs, _reward, terminated, truncated, _info = env.step(env.action_space.sample())
        steps += 1
        assert env.observation_space.contains(obs)
        if terminated or truncated:
            break
    assert steps <= 7


# ---------------------------------------------------------------------------------------------- semantics
@pytest.mark.parametrize("cls", ENV_CLASSES)
def test_same_seed_same_session(cls):
    a = _rollout(cls(), seed=11, n_steps=150)
    b = _rollout(cls(), seed=11, n_steps=150)
    c = _rollout(cls(), seed=12, n_steps=150)
    for x, y in zip(a, b):
        for u, v in zip(x, y):
            if isinstance(u, dict):
                assert u.keys() == v.keys()
                for key in u:
                    np.testing.assert_array_equal(u[key], v[key])
            else:
                np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0][0], c[0][0])


def test_info_signals_and_non_negative_costs():
    """Costs are Safety-Gymnasium's: non-negative, missed interactions 1 - x for floors (plus the leaving
    charge of the unused request slots when the user leaves), x for hate; info["cost"] sums several."""
    env = RecommenderEnv(constraints=("like", "share", "hate", "click"))
    assert env.signal_names == SIGNAL_NAMES
    _obs, info = env.reset(seed=3)
    assert set(info) == {"signals", "cost_like", "cost_share", "cost_hate", "cost_click", "costs", "cost",
                         "cost_offsets"}
    assert np.all(info["signals"] == 0) and info["cost"] == 0
    saw_click = saw_leaving = False
    t_episode = 0
    for t in range(400):
        _obs, reward, terminated, truncated, info = env.step(t % env.n_candidates)
        t_episode += 1
        s = info["signals"]
        assert s.shape == (7,) and reward == s[0] > 0
        assert set(np.unique(s[1:])) <= {0.0, 1.0}
        charge = float(env.max_steps - t_episode) if terminated else 0.0
        expected = np.array([1 - s[2] + charge, 1 - s[5] + charge, s[6], 1 - s[1] + charge])
        np.testing.assert_array_equal(info["costs"], expected)
        assert info["costs"].min() >= 0
        assert [info[f"cost_{n}"] for n in ("like", "share", "hate", "click")] == expected.tolist()
        assert info["cost"] == pytest.approx(expected.sum())
        saw_click |= s[1] == 1
        saw_leaving |= charge > 0
        if terminated or truncated:
            env.reset()
            t_episode = 0
    assert saw_click and saw_leaving


@pytest.mark.parametrize("cost_mode", ["sampled", "expected"])
@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_floor_cost_is_a_change_of_variables_in_every_session(cost_mode, gamma):
    """sum_t gamma^t cost_like = session_slots(H, gamma) - sum_t gamma^t like_t in every session (users who
    leave early included), so the floor E[discounted likes] >= C is exactly the limit session_slots - C."""
    from mechsim.envs.recommender import session_slots

    env = RecommenderEnv(constraints=("like",), cost_mode=cost_mode, cost_discount=gamma, max_steps=60)
    lengths = []
    for seed in range(30):
        env.reset(seed=seed)
        cost = likes = 0.0
        weight, t, done = 1.0, 0, False
        while not done:
            probs = env.candidate_expectations()[0]
            _, _, terminated, truncated, info = env.step(0)
            assert info["cost"] == info["cost_like"] == info["costs"][0] >= 0   # one constraint: info["cost"] is it
            like = info["signals"][2] if cost_mode == "sampled" else probs[2]
            cost += weight * info["cost"]
            likes += weight * like
            weight *= gamma
            t += 1
            done = terminated or truncated
        lengths.append(t)
        assert cost == pytest.approx(session_slots(60, gamma) - likes, rel=1e-12, abs=1e-9)
    assert min(lengths) < 60 == max(lengths)  # sessions that end by leaving and by truncation


def test_single_constraint_cost_and_rgb_frames():
    env = RecommenderEnv(constraints=("hate",), render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    _, _, _, _, info = env.step(0)
    assert info["cost"] == info["cost_hate"] == info["signals"][6]
    frame = env.render()
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3 and first.shape == frame.shape


def test_watch_time_never_exceeds_duration_and_session_ends():
    env = RecommenderEnv(max_steps=1000)
    env.reset(seed=5)
    for _t in range(1000):
        item = int(env._cands[0])
        _obs, reward, terminated, truncated, _info = env.step(0)
        assert 0 < reward < env.simulator.catalogue.durations[item]
        if terminated:
            break
    assert terminated and not truncated  # a random-ish policy loses the user long before 1000 requests
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


def test_env_matches_simulator_response_model():
    """The env's scalar fast path draws from the same law as the vectorised simulator."""
    env = RecommenderEnv(n_candidates=4)
    rng = np.random.default_rng(0)
    residuals = []
    variances = []
    for episode in range(60):
        env.reset(seed=episode)
        done = False
        while not done:
            k = int(rng.integers(4))
            oracle = env.candidate_expectations()[k]
            # Same expectation from the batch simulator's code path with the env's hidden state.
            item = env._cands[k]
            again = expected_responses(env.config, env._aff[k], env.simulator.catalogue.quality[item], env._sim[k],
                                       env.simulator.catalogue.durations[item], env._activity)
            np.testing.assert_allclose(oracle, again, rtol=1e-12)
            _obs, _reward, terminated, truncated, info = env.step(k)
            residuals.append(info["signals"] - oracle)
            variances.append(oracle * (1 - oracle))
            done = terminated or truncated
    residuals = np.array(residuals)
    n = len(residuals)
    # Realised signals minus their conditional expectations: a martingale, so the sum is ~ N(0, sum var).
    watch_z = residuals[:, 0].sum() / (residuals[:, 0].std() * np.sqrt(n))
    assert abs(watch_z) < 4
    binary_z = residuals[:, 1:].sum(axis=0) / np.sqrt(np.array(variances)[:, 1:].sum(axis=0))
    assert np.all(np.abs(binary_z) < 4), binary_z


def test_continuous_action_shows_argmax_candidate():
    env = RecommenderContinuousEnv(n_candidates=6)
    env.reset(seed=1)
    d = env.config.dim
    for _ in range(20):
        w = np.zeros(d + 1, dtype=np.float32)
        w[-1] = 1.0  # pure quality ranking
        q = env.simulator.catalogue.quality[env._cands]
        best = int(env._cands[int(np.argmax(q))])
        env.step(w)
        assert env._last[0] == best
        if env._done:
            env.reset()


# ---------------------------------------------------------------------------------------------- calibration
def test_calibrated_constants_match_logged_means_on_fresh_simulation():
    means = random_policy_means(SimulatorConfig(), n_users=3000, seed=2024)
    for name in SIGNAL_NAMES:
        assert means[name] == pytest.approx(LOGGED_MEANS[name], rel=0.10), name


def test_random_policy_in_env_matches_logged_means_on_dense_signals():
    env = RecommenderEnv()
    totals = np.zeros(7)
    n = 0
    for episode in range(150):
        env.reset(seed=1000 + episode)
        env.action_space.seed(episode)
        done = False
        while not done:
            _obs, _reward, terminated, truncated, info = env.step(env.action_space.sample())
            totals += info["signals"]
            n += 1
            done = terminated or truncated
    assert totals[0] / n == pytest.approx(LOGGED_MEANS["watch_time"], rel=0.10)
    assert totals[1] / n == pytest.approx(LOGGED_MEANS["click"], rel=0.10)
    assert totals[2] / n == pytest.approx(LOGGED_MEANS["like"], rel=0.35)  # ~80 likes: sampling noise


@pytest.mark.slow
def test_calibrate_reproduces_stored_constants():
    start = SimulatorConfig(biases=(0.0,) * 7)
    biases = calibrate(start, n_users=4000, seed=0)
    np.testing.assert_allclose(biases, CALIBRATED_BIASES, atol=2e-2)


def test_calibrate_hits_other_targets():
    targets = dict(LOGGED_MEANS, like=0.03, watch_time=10.0)
    biases = calibrate(SimulatorConfig(), targets=targets, n_users=800, seed=1, rtol=5e-3)
    means = random_policy_means(SimulatorConfig(biases=biases), n_users=800, seed=1)
    assert means["like"] == pytest.approx(0.03, rel=5e-3)
    assert means["watch_time"] == pytest.approx(10.0, rel=5e-3)


# ---------------------------------------------------------------------------------------------- vector envs
@pytest.mark.parametrize("mode", ["NextStep", "SameStep"])
def test_costs_survive_vector_autoreset(mode):
    envs = gymnasium.vector.SyncVectorEnv([lambda: RecommenderEnv(max_steps=3) for _ in range(2)],
                                          autoreset_mode=gymnasium.vector.AutoresetMode(mode))
    envs.reset(seed=0)
    keys = {"signals", "cost_like", "cost_follow", "cost_share", "costs", "cost"}
    ended_before = np.zeros(2, dtype=bool)
    for _t in range(9):
        _obs, reward, terminated, truncated, info = envs.step(np.array([0, 1]))
        assert keys <= set(info)
        for key in keys:
            assert info[f"_{key}"].all()  # present for every sub-env, including those just reset
        done = terminated | truncated
        # NextStep: the autoreset step reports the reset's zero info; SameStep: a finished sub-env's info is the
        # reset's (its last step is in final_info).
        live = ~ended_before if mode == "NextStep" else ~done
        # Sessions of 3 requests never end by leaving: the floors' costs are the missed interactions.
        np.testing.assert_array_equal(info["costs"][live], 1.0 - info["signals"][live][:, [2, 3, 5]])
        np.testing.assert_array_equal(info["costs"][~live], 0.0)
        np.testing.assert_allclose(info["cost"], info["costs"].sum(axis=1))
        done = terminated | truncated
        if mode == "NextStep":
            # The autoreset step reports reward 0 and zero costs; other steps report real signals.
            np.testing.assert_array_equal(reward[ended_before], 0.0)
            np.testing.assert_array_equal(info["signals"][ended_before], 0.0)
            assert np.all(info["signals"][~ended_before, 0] > 0)
        else:
            if done.any():
                final = info["final_info"]
                for key in keys:
                    assert final[f"_{key}"][done].all()
                assert np.all(final["signals"][done, 0] > 0)
                np.testing.assert_array_equal(final["costs"][done], 1.0 - final["signals"][done][:, [2, 3, 5]])
        ended_before = done
    envs.close()


def test_make_vec_by_id():
    envs = gymnasium.make_vec("mechsim/Recommender-v0", num_envs=3, vectorization_mode="sync", max_steps=4)
    envs.reset(seed=1)
    for _ in range(6):
        _obs, _reward, _terminated, _truncated, info = envs.step(envs.action_space.sample())
        assert info["costs"].shape == (3, 3)
    envs.close()


# ---------------------------------------------------------------------------------------------- wrapper
def test_safety_gymnasium_six_tuple():
    with pytest.warns(UserWarning, match="2 constraints"):  # several constraints: the total, with a warning
        env = ToSafetyGymnasium(gymnasium.make("mechsim/Recommender-v0", constraints=("like", "hate")))
    like = ToSafetyGymnasium(gymnasium.make("mechsim/Recommender-v0", constraints=("like", "hate")),
                             constraint="like")
    hate = ToSafetyGymnasium(gymnasium.make("mechsim/Recommender-v0", constraints=("like", "hate")), constraint=1)
    for e in (env, like, hate):
        e.reset(seed=0)
        e.action_space.seed(0)
    for _ in range(50):
        action = env.action_space.sample()
        out = env.step(action)
        assert len(out) == 6
        _obs, _reward, cost, terminated, truncated, info = out
        assert isinstance(cost, float) and cost == info["cost"] == info["cost_like"] + info["cost_hate"] >= 0
        assert like.step(action)[2] == info["cost_like"] and hate.step(action)[2] == info["cost_hate"]
        if terminated or truncated:
            for e in (env, like, hate):
                e.reset()


def test_safety_gymnasium_refuses_negative_costs_and_unknown_constraints():
    from mechsim.cmdp import FiniteCMDP, FiniteCMDPEnv

    signed = FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[-1.0, 0.5]]], [0.0], [1.0], 0.5)
    env = ToSafetyGymnasium(FiniteCMDPEnv(signed))
    env.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match="non-negative"):
        env.step(0)
    assert env.step(1)[2] == 0.5
    with pytest.raises(InvalidInstanceError, match="constraint"):
        ToSafetyGymnasium(RecommenderEnv(constraints=("like",)), constraint="hate")
    with pytest.raises(InvalidInstanceError, match="constraint"):
        ToSafetyGymnasium(RecommenderEnv(constraints=("like",)), constraint=3)


def test_safety_wrapper_rejects_env_without_cost():
    env = ToSafetyGymnasium(gymnasium.make("CartPole-v1"))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="cost"):
        env.step(0)


# ---------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("kwargs, match", [
    ({"n_candidates": 0}, "n_candidates"),
    ({"n_candidates": 2.5}, "n_candidates"),
    ({"max_steps": 0}, "max_steps"),
    ({"constraints": ("watch_time",)}, "constraints"),
    ({"constraints": ("like", "like")}, "constraints"),
    ({"constraints": 3}, "constraints"),
    ({"render_mode": 7}, "render_mode"),             # an unknown mode *name* only warns (Gymnasium convention)
    ({"config": "default"}, "config"),
])
@pytest.mark.parametrize("cls", ENV_CLASSES)
def test_bad_constructor_arguments(cls, kwargs, match):
    with pytest.raises(InvalidInstanceError, match=match):
        cls(**kwargs)


def test_bad_actions_and_configs():
    env = RecommenderEnv(n_candidates=3)
    env.reset(seed=0)
    for bad in (3, -1, 1.0, True, "0"):
        with pytest.raises(InvalidInstanceError, match="action"):
            env.step(bad)
    env.step(np.int64(2))
    env.step(np.array(1))
    cenv = RecommenderContinuousEnv()
    cenv.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match="action"):
        cenv.step(np.zeros(3))
    with pytest.raises(InvalidInstanceError, match="action"):
        cenv.step(np.full(cenv.config.dim + 1, np.nan))
    with pytest.raises(InvalidInstanceError, match="affinity"):
        SimulatorConfig(affinity=(1.0, 2.0))
    with pytest.raises(InvalidInstanceError, match="temper_init"):
        SimulatorConfig(temper_init=2.0)
    with pytest.raises(InvalidInstanceError, match="dim"):
        SimulatorConfig(dim=1)


def test_simulator_batch_step_shapes_and_determinism():
    sim = ShortVideoSimulator()
    outs = []
    for _ in range(2):
        users = sim.sample_users(50, seed=3)
        rng = np.random.default_rng(4)
        out = None
        for _ in range(10):
            out = sim.step(users, rng.integers(sim.catalogue.n_items, size=50), seed=rng)
        outs.append((out.signals, users.temper.copy(), users.interest.copy()))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    assert outs[0][0].shape == (50, 7)
    np.testing.assert_allclose(np.linalg.norm(outs[0][2], axis=1), 1.0)
    with pytest.raises(InvalidInstanceError, match="items"):
        sim.step(users, [0, 1])


# ---------------------------------------------------------------------------------------------- cost modes, rules
def test_expected_cost_mode_reports_conditional_probabilities():
    env = RecommenderEnv(constraints=("like", "hate"), cost_mode="expected")
    sampled = RecommenderEnv(constraints=("like", "hate"))
    env.reset(seed=4)
    sampled.reset(seed=4)
    for t in range(40):
        k = t % env.n_candidates
        probs = env.candidate_expectations()[k]
        _, r1, term, trunc, info = env.step(k)
        _, r2, _, _, info2 = sampled.step(k)
        charge = float(env.max_steps - env._t) if term else 0.0
        np.testing.assert_allclose(info["costs"], [1.0 - probs[2] + charge, probs[6]], rtol=1e-10)
        # Same session either way: only the reported costs differ.
        assert r1 == r2
        np.testing.assert_array_equal(info["signals"], info2["signals"])
        if term or trunc:
            break
    with pytest.raises(InvalidInstanceError, match="cost_mode"):
        RecommenderEnv(cost_mode="mean")


def test_ranking_rules_wrapper():
    from mechsim.envs.recommender import DEFAULT_RULES, RankingRules

    env = RankingRules(RecommenderEnv(n_candidates=6))
    assert env.action_space.n == len(DEFAULT_RULES)
    obs, info = env.reset(seed=2)
    assert env.observation_space.contains(obs) and "costs" in info
    quality_rule = env.rule_names.index("quality")
    for _ in range(30):
        base = env.unwrapped
        q = base.simulator.catalogue.quality[base._cands]
        expected = env.candidate_for(quality_rule)
        assert expected == int(np.argmax(q))
        obs, _reward, terminated, truncated, info = env.step(quality_rule)
        assert info["candidate"] == expected and env.observation_space.contains(obs)
        if terminated or truncated:
            obs, info = env.reset()
    with pytest.raises(InvalidInstanceError, match="action"):
        env.step(len(DEFAULT_RULES))
    with pytest.raises(InvalidInstanceError, match="rules"):
        RankingRules(RecommenderEnv(), rules={"bad": (1.0, 2.0)})
    with pytest.raises(InvalidInstanceError, match="env"):
        RankingRules(gymnasium.make("CartPole-v1"))


# ------------------------------------------------------------------------------------ evaluation wrappers
def _play(env, n_episodes, seed=0, action=0):
    from mechsim.rollout import rollout

    return rollout(env, lambda e, obs: action, n_episodes, seeds=seed)


def test_scale_reward_and_costs_against_the_raw_env():
    from mechsim.envs.signal_wrappers import ScaleRewardAndCosts

    kw = {"n_candidates": 5, "max_steps": 20, "constraints": ("like", "hate"), "cost_mode": "expected"}
    raw, env = RecommenderEnv(**kw), ScaleRewardAndCosts(RecommenderEnv(**kw), reward_scale=0.5,
                                                          cost_scale=[10.0, 2.0])
    raw.reset(seed=3)
    env.reset(seed=3)
    for t in range(20):
        _, r0, term, trunc, i0 = raw.step(t % 5)
        _, r1, _, _, i1 = env.step(t % 5)
        assert r1 == r0 * 0.5
        np.testing.assert_array_equal(i1["costs"], i0["costs"] * [10.0, 2.0])
        assert i1["cost"] == pytest.approx(i1["costs"].sum()) and i1["cost_like"] == i0["cost_like"]
        if term or trunc:
            break
    for bad in ({"reward_scale": 0.0}, {"cost_scale": [1.0, -1.0]}, {"cost_scale": np.nan}, {"reward_scale": "x"}):
        with pytest.raises(InvalidInstanceError, match=next(iter(bad))):
            ScaleRewardAndCosts(RecommenderEnv(**kw), **bad)
    no_costs = ScaleRewardAndCosts(gymnasium.make("CartPole-v1"))
    no_costs.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match="costs"):
        no_costs.step(0)


def test_episode_recorder_totals_and_batch_means():
    from mechsim.envs.signal_wrappers import EpisodeRecorder

    env = EpisodeRecorder(RecommenderEnv(n_candidates=4, max_steps=12, constraints=("like",)))
    signals, costs, lengths = [], [], []
    for seed in range(6):
        env.reset(seed=seed)
        s, c, n, done = np.zeros(7), np.zeros(1), 0, False
        while not done:
            _, _, term, trunc, info = env.step(seed % 4)
            s, c, n = s + info["signals"], c + info["costs"], n + 1
            done = term or trunc
        signals.append(s)
        costs.append(c)
        lengths.append(n)
    totals = env.episode_totals()
    np.testing.assert_allclose(totals[:, env.columns["signals"]], signals)
    np.testing.assert_allclose(totals[:, env.columns["costs"]], costs)
    assert env.lengths.tolist() == lengths and env.n_episodes == 6
    means = env.batch_means(4)  # one complete batch of 4; the last 2 episodes are left out
    np.testing.assert_allclose(means, [totals[:4].sum(axis=0) / sum(lengths[:4])])
    env.reset(seed=9)  # an episode with no step yet counts as zeros
    assert env.episode_totals().shape == (7, 8) and not env.episode_totals()[-1].any()
    with pytest.raises(InvalidInstanceError, match="keys"):
        EpisodeRecorder(RecommenderEnv(), keys="signals")
    missing = EpisodeRecorder(RecommenderEnv(), keys=("nope",))
    missing.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match="nope"):
        missing.step(0)


def test_expected_signals_wrapper():
    from mechsim.envs.recommender_wrappers import ExpectedSignals

    env = ExpectedSignals(RecommenderEnv(n_candidates=5, max_steps=30))
    twin = RecommenderEnv(n_candidates=5, max_steps=30)
    env.reset(seed=4)
    twin.reset(seed=4)
    for t in range(30):
        expected = twin.candidate_expectations()[t % 5]
        _, r, term, trunc, info = env.step(t % 5)
        _, r_twin, *_ = twin.step(t % 5)
        np.testing.assert_array_equal(info["expected_signals"], expected)
        assert r == r_twin  # measuring does not change the session
        if term or trunc:
            break
    env.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match="action"):
        env.step(99)
    from mechsim.envs.recommender import RankingRules

    with pytest.raises(InvalidInstanceError, match="candidate-index"):
        ExpectedSignals(RankingRules(RecommenderEnv()))
    with pytest.raises(InvalidInstanceError, match="env"):
        ExpectedSignals(gymnasium.make("CartPole-v1"))


def test_choosers():
    from mechsim.envs.recommender_wrappers import (
        random_candidate_chooser,
        ranking_rule_chooser,
        watch_greedy_chooser,
    )
    from mechsim.learners.policies import SoftmaxPolicy
    from mechsim.rollout import rollout

    env = RecommenderEnv(n_candidates=6, max_steps=10)
    obs, _ = env.reset(seed=0)
    greedy = watch_greedy_chooser()
    assert greedy(env, obs) == int(np.argmax(env.candidate_expectations()[:, 0]))
    picks = [random_candidate_chooser(np.random.default_rng(1))(env, obs) for _ in range(3)]
    assert picks == [int(np.random.default_rng(1).integers(6))] * 3
    # A policy that always picks the "quality" rule shows the best-quality candidate.
    from mechsim.envs.recommender import DEFAULT_RULES

    weights = np.zeros((len(DEFAULT_RULES), 9))
    weights[list(DEFAULT_RULES).index("quality"), -1] = 50.0
    choose = ranking_rule_chooser(SoftmaxPolicy(weights, False), np.random.default_rng(0))

    shown = []

    def check(t, o, action, reward, info):
        assert action == shown[-1]

    def spy(e, o):
        k = choose(e, o)
        assert k == int(np.argmax(e.simulator.catalogue.quality[e._cands]))
        shown.append(k)
        return k

    assert rollout(env, spy, 2, seeds=0, on_step=check).n_steps == len(shown) > 0


def _wrapper(name):
    from mechsim.envs.lagrangian_reward import LagrangeMultipliers, LagrangianReward
    from mechsim.envs.recommender import RankingRules
    from mechsim.envs.recommender_wrappers import ExpectedSignals
    from mechsim.envs.signal_wrappers import EpisodeRecorder, ScaleRewardAndCosts

    return {"scale": lambda e: ScaleRewardAndCosts(e, reward_scale=0.1, cost_scale=2.0),
            "recorder": lambda e: EpisodeRecorder(e, keys=("signals",)),
            "expected": ExpectedSignals, "rules": RankingRules,
            "lagrangian": lambda e: LagrangianReward(e, LagrangeMultipliers([4.0, 4.0, 4.0], ki=0.1)),
            "safety": lambda e: ToSafetyGymnasium(e, constraint="like")}[name]


WRAPPERS = ["scale", "recorder", "expected", "rules", "lagrangian", "safety"]


@pytest.mark.parametrize("make_wrapper", WRAPPERS)
def test_wrappers_keep_the_spec(make_wrapper):
    """Every wrapper records its arguments (RecordConstructorArgs): gymnasium.make(env.spec) rebuilds it."""
    env = _wrapper(make_wrapper)(gymnasium.make("mechsim/Recommender-v0", n_candidates=4, max_steps=5))
    spec = env.spec
    assert spec.additional_wrappers[-1].kwargs is not None
    again = gymnasium.make(spec)
    assert type(again) is type(env)
    a, _ = env.reset(seed=1)
    b, _ = again.reset(seed=1)
    np.testing.assert_array_equal(a, b)
    assert len(env.step(0)) == len(again.step(0)) == (6 if make_wrapper == "safety" else 5)


@pytest.mark.parametrize("make_wrapper", [w for w in WRAPPERS if w != "safety"])
def test_wrappers_pass_the_gymnasium_checker(make_wrapper):
    """Gymnasium's own checker, on the wrapper around the registered env (render modes included)."""
    env = _wrapper(make_wrapper)(gymnasium.make("mechsim/Recommender-v0", n_candidates=4, max_steps=5,
                                                render_mode="rgb_array"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.filterwarnings("ignore", message=".*is different from the unwrapped version")
        check_env(env)


def test_safety_wrapper_follows_the_six_tuple_contract():
    """ToSafetyGymnasium returns Safety-Gymnasium's 6-tuple, which Gymnasium's checker (5-tuple) cannot take:
    check the wrapped env with the checker and the 6-tuple here (spaces, types, non-negative cost, seeding)."""
    inner = gymnasium.make("mechsim/Recommender-v0", n_candidates=4, max_steps=5, constraints=("like", "hate"))
    check_env(inner.unwrapped)
    env = ToSafetyGymnasium(inner, constraint="hate")
    obs, info = env.reset(seed=2)
    assert env.observation_space.contains(obs) and isinstance(info, dict)
    done = False
    while not done:
        obs, reward, cost, terminated, truncated, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)
        assert isinstance(reward, float) and isinstance(cost, float) and cost >= 0
        assert isinstance(terminated, bool) and isinstance(truncated, bool)
        assert cost == info["cost_hate"]
        done = terminated or truncated


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rgb_array_frames_from_gymnasium_make(env_id):
    """The mode SB3's make_vec_env asks for: gymnasium.make(id, render_mode="rgb_array") renders RGB frames of one
    size (video recorders need a constant size)."""
    env = gymnasium.make(env_id, render_mode="rgb_array")
    assert "rgb_array" in env.metadata["render_modes"]
    env.reset(seed=0)
    frames = [env.render()]
    for _ in range(3):
        env.step(env.action_space.sample())
        frames.append(env.render())
    for frame in frames:
        assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3
        assert frame.shape == frames[0].shape and frame.shape[2] == 3
        assert frame.min() < 128 < frame.max()  # text drawn on a white background
    with pytest.warns(UserWarning, match="render_mode"):
        quiet = gymnasium.make(env_id, render_mode="no-such-mode")  # unknown: a warning, rendering off
    assert quiet.unwrapped.render_mode is None


def test_cost_offsets_are_the_policy_independent_part_of_the_costs():
    """costs - cost_offsets is the signed signal (-like for a floor), and each step gets its own array."""
    env = RecommenderEnv(constraints=("like", "hate"))
    env.reset(seed=4)
    seen = []
    for _ in range(30):
        _obs, _r, terminated, truncated, info = env.step(0)
        signed = info["costs"] - info["cost_offsets"]
        like = info["signals"][list(SIGNAL_NAMES).index("like")]
        hate = info["signals"][list(SIGNAL_NAMES).index("hate")]
        assert signed[0] == pytest.approx(-like) and signed[1] == pytest.approx(hate)
        assert all(info["cost_offsets"] is not s for s in seen)
        seen.append(info["cost_offsets"])
        if terminated or truncated:
            break
