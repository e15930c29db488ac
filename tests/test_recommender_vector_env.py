"""Tests of the native recommender vector envs (mechsim.envs.recommender_vector).

Oracles: Gymnasium's ``SyncVectorEnv`` over the single env (the same sub-env seeds give the same sessions, so the
two are compared seed by seed), independent single envs (statistically, with unrelated seeds), and the cost
identities of the model (costs from the signals, the leaving charge, the change of variables of a floor).
Gymnasium 1.4 ships no checker for vector envs (``gymnasium.utils.env_checker`` checks single envs), so the
space, autoreset and info conventions are checked here against ``SyncVectorEnv``'s behaviour, and the env is
driven through Gymnasium's own vector wrappers.
"""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.vector import AutoresetMode, SyncVectorEnv, VectorEnv
from gymnasium.vector.utils import batch_space

import mechsim  # noqa: F401  (registers the environments)
from mechsim.envs.recommender import RecommenderContinuousEnv, RecommenderEnv, session_slots
from mechsim.envs.recommender_vector import RecommenderContinuousVectorEnv, RecommenderVectorEnv
from mechsim.errors import InvalidInstanceError

PAIRS = [(RecommenderEnv, RecommenderVectorEnv), (RecommenderContinuousEnv, RecommenderContinuousVectorEnv)]
IDS = {RecommenderVectorEnv: "mechsim/Recommender-v0",
       RecommenderContinuousVectorEnv: "mechsim/RecommenderContinuous-v0"}


def _sync(single, n, **kwargs):
    return SyncVectorEnv([lambda: single(**kwargs) for _ in range(n)])


def _assert_steps_match(a, b, t):
    """One vector step of the native env (a) and of SyncVectorEnv (b): the discrete outcomes exactly, the
    continuous values to rounding (numpy's vectorised exp/log1p may differ from the C library's in the last bit)."""
    obs_a, rew_a, term_a, trunc_a, info_a = a
    obs_b, rew_b, term_b, trunc_b, info_b = b
    np.testing.assert_array_equal(term_a, term_b, err_msg=f"step {t}")
    np.testing.assert_array_equal(trunc_a, trunc_b, err_msg=f"step {t}")
    assert obs_a.dtype == obs_b.dtype == np.float32 and obs_a.shape == obs_b.shape
    np.testing.assert_allclose(obs_a, obs_b, rtol=0, atol=1e-6, err_msg=f"step {t}")
    np.testing.assert_allclose(rew_a, rew_b, rtol=1e-12, atol=1e-12, err_msg=f"step {t}")
    assert rew_a.dtype == rew_b.dtype
    assert info_a.keys() == info_b.keys()
    for key in info_a:
        x, y = info_a[key], info_b[key]
        assert x.shape == y.shape and x.dtype == y.dtype, key
        if x.dtype == bool:
            np.testing.assert_array_equal(x, y, err_msg=key)
        else:
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12, err_msg=f"{key} at step {t}")
    np.testing.assert_array_equal(info_a["signals"][:, 1:], info_b["signals"][:, 1:])  # the 0/1 draws


# ------------------------------------------------------------------------------------------ construction
@pytest.mark.parametrize("single, native", PAIRS)
def test_make_vec_gives_the_native_env_with_batched_spaces(single, native):
    for mode in ("vector_entry_point", None):  # the vector entry point is also make_vec's default
        envs = gymnasium.make_vec(IDS[native], num_envs=3, vectorization_mode=mode, n_candidates=4)
        assert type(envs) is native and isinstance(envs, VectorEnv) and envs.num_envs == 3
        assert envs.spec.id == IDS[native] and envs.spec.kwargs["n_candidates"] == 4
        assert envs.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
        ref = single(n_candidates=4)
        assert envs.single_observation_space == ref.observation_space
        assert envs.single_action_space == ref.action_space
        assert envs.observation_space == batch_space(ref.observation_space, 3)
        assert envs.action_space == batch_space(ref.action_space, 3)
        obs, info = envs.reset(seed=0)
        assert envs.observation_space.contains(obs)
        for _ in range(30):
            obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
            assert envs.observation_space.contains(obs)
            assert reward.shape == terminated.shape == truncated.shape == (3,)
            assert reward.dtype == np.float64 and terminated.dtype == truncated.dtype == np.bool_
        envs.close()
    # the sync mode still builds a SyncVectorEnv of single envs
    assert isinstance(gymnasium.make_vec(IDS[native], num_envs=2, vectorization_mode="sync"), SyncVectorEnv)


# ------------------------------------------------------------------------------------------ equivalence
@pytest.mark.parametrize("single, native", PAIRS)
@pytest.mark.parametrize("kwargs", [
    {},                                                                              # blocks of 64 requests
    {"max_steps": 6, "n_candidates": 3},                                             # many truncations
    {"constraints": ("like", "hate", "click"), "cost_mode": "expected", "cost_discount": 0.9, "max_steps": 70},
    {"constraints": ("hate",)},
])
def test_seed_by_seed_equal_to_sync_vector_env(single, native, kwargs):
    """Sub-env i of the native env is the single env seeded with seed + i, through every autoreset."""
    n = 6
    a, b = native(n, **kwargs), _sync(single, n, **kwargs)
    obs_a, info_a = a.reset(seed=42)
    obs_b, info_b = b.reset(seed=42)
    assert data_equivalence(info_a, info_b, exact=True)
    np.testing.assert_array_equal(obs_a, obs_b)
    a.action_space.seed(7)
    ended = 0
    for t in range(400):
        actions = a.action_space.sample()
        out = a.step(actions)
        _assert_steps_match(out, b.step(actions), t)
        ended += int((out[2] | out[3]).sum())
    assert ended >= 2 * n  # every sub-env went through autoresets
    # the same with seeds given as a list, and again after a second seeded reset
    c = native(n, **kwargs)
    np.testing.assert_array_equal(c.reset(seed=[42 + i for i in range(n)])[0], a.reset(seed=42)[0])


def test_sub_env_is_the_single_env_with_its_own_seed():
    """Directly against independent single envs (no SyncVectorEnv in between): sub-env i with seed 5 + i."""
    n, steps = 4, 250
    envs = RecommenderVectorEnv(n, n_candidates=5)
    singles = [RecommenderEnv(n_candidates=5) for _ in range(n)]
    obs, _ = envs.reset(seed=5)
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(obs[i], env.reset(seed=5 + i)[0])
    rng = np.random.default_rng(0)
    pending = np.zeros(n, dtype=bool)
    for _ in range(steps):
        actions = rng.integers(5, size=n)
        obs, reward, terminated, truncated, info = envs.step(actions)
        assert envs.candidate_expectations().shape == (n, 5, 7)
        for i, env in enumerate(singles):
            if pending[i]:
                ref_obs, ref_info = env.reset()
                assert reward[i] == 0 and not terminated[i] and not truncated[i]
            else:
                ref_obs, ref_reward, ref_term, ref_trunc, ref_info = env.step(int(actions[i]))
                assert (terminated[i], truncated[i]) == (ref_term, ref_trunc)
                assert reward[i] == pytest.approx(ref_reward, rel=1e-12)
            np.testing.assert_allclose(obs[i], ref_obs, atol=1e-6)
            np.testing.assert_allclose(info["costs"][i], ref_info["costs"], rtol=1e-12, atol=1e-12)
            if not (terminated[i] or truncated[i]):
                np.testing.assert_allclose(envs.candidate_expectations()[i], env.candidate_expectations(),
                                           rtol=1e-10)
        pending = terminated | truncated


def test_same_distribution_as_independent_single_envs():
    """Statistically, against single envs with unrelated seeds: per-session watch time, likes, like cost and
    length agree (Welch z-statistics with fixed seeds; |z| < 4)."""
    kwargs = {"n_candidates": 5, "max_steps": 60, "constraints": ("like",)}
    target = 400
    rng = np.random.default_rng(1)

    def sessions_native():
        envs = RecommenderVectorEnv(50, **kwargs)
        envs.reset(seed=10_000)
        acc = np.zeros((50, 4))
        pending = np.zeros(50, dtype=bool)
        out = []
        while len(out) < target:
            _, reward, term, trunc, info = envs.step(rng.integers(5, size=50))
            live = ~pending
            acc[live] += np.column_stack([reward, info["signals"][:, 2], info["cost"], np.ones(50)])[live]
            done = term | trunc
            out.extend(acc[done].tolist())
            acc[done] = 0.0
            pending = done
        return np.array(out[:target])

    def sessions_single():
        env = RecommenderEnv(**kwargs)
        out = []
        for k in range(target):
            env.reset(seed=k)
            row, done = np.zeros(4), False
            while not done:
                _, reward, term, trunc, info = env.step(int(rng.integers(5)))
                row += [reward, info["signals"][2], info["cost"], 1.0]
                done = term or trunc
            out.append(row)
        return np.array(out)

    a, b = sessions_native(), sessions_single()
    z = (a.mean(0) - b.mean(0)) / np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
    assert np.all(np.abs(z) < 4), z
    # the like cost of a session is max_steps - likes whatever happens (the leaving charge): exactly
    np.testing.assert_allclose(a[:, 2], kwargs["max_steps"] - a[:, 1])


# ------------------------------------------------------------------------------------------ autoreset, infos
def test_next_step_autoreset_semantics():
    """The step after an episode ends ignores the action, returns the reset observation, reward 0, False flags
    and the reset's zero info; the next step after that is the new session's first request."""
    n = 3
    envs = RecommenderVectorEnv(n, max_steps=3)
    fresh = RecommenderVectorEnv(n, max_steps=3)
    envs.reset(seed=3)
    for t in range(3):
        obs, reward, terminated, truncated, info = envs.step(np.full(n, t % 2))
        assert np.all(reward > 0) and not terminated.any()
    assert truncated.all()
    np.testing.assert_allclose(obs[:, envs._d + 7], 1.0)  # progress t / max_steps
    obs, reward, terminated, truncated, info = envs.step(np.array([9, 0, 5]))
    np.testing.assert_array_equal(reward, 0.0)
    assert not terminated.any() and not truncated.any()
    for key in ("signals", "costs", "cost_offsets", "cost", "cost_like"):
        np.testing.assert_array_equal(info[key], 0.0)
        assert info["_" + key].all()
    np.testing.assert_array_equal(obs[:, :envs._d + 8], 0.0)  # a session start: no history, t = 0
    # the reset continued each sub-env's own random stream: not the observation of a fresh seed-3 reset
    assert not np.array_equal(obs, fresh.reset(seed=3)[0])
    obs, reward, terminated, truncated, info = envs.step(np.zeros(n, dtype=int))
    assert np.all(reward > 0)
    np.testing.assert_allclose(obs[:, envs._d + 7], 1 / 3)


def test_infos_and_cost_identities():
    """Costs are the single env's: missed interactions (plus the leaving charge on the step a user leaves) for
    floors, the hate draw for hate; info["cost"] sums them; offsets are 1 (+ charge) for floors, 0 for hate."""
    n, H = 64, 40
    envs = RecommenderVectorEnv(n, max_steps=H, constraints=("like", "share", "hate", "click"))
    _, info = envs.reset(seed=0)
    expected_keys = {"signals", "cost_like", "cost_share", "cost_hate", "cost_click", "costs", "cost_offsets", "cost"}
    assert set(info) == expected_keys | {"_" + k for k in expected_keys}
    rng = np.random.default_rng(0)
    pending = np.zeros(n, dtype=bool)
    saw_charge = False
    t_session = np.zeros(n, dtype=int)
    for _ in range(150):
        _, reward, terminated, truncated, info = envs.step(rng.integers(10, size=n))
        t_session = np.where(pending, 0, t_session + 1)
        s = info["signals"]
        live = ~pending
        charge = np.where(terminated, H - t_session, 0).astype(float)
        expected = np.column_stack([1 - s[:, 2] + charge, 1 - s[:, 5] + charge, s[:, 6], 1 - s[:, 1] + charge])
        np.testing.assert_array_equal(info["costs"][live], expected[live])
        np.testing.assert_array_equal(info["cost_offsets"][live],
                                      np.column_stack([1 + charge, 1 + charge, 0 * charge, 1 + charge])[live])
        for j, name in enumerate(("like", "share", "hate", "click")):
            np.testing.assert_array_equal(info[f"cost_{name}"], info["costs"][:, j])
        np.testing.assert_allclose(info["cost"], info["costs"].sum(axis=1))
        np.testing.assert_array_equal(reward[live], s[live, 0])
        assert set(np.unique(s[:, 1:])) <= {0.0, 1.0} and info["costs"].min() >= 0
        assert all(info["_" + k].all() for k in expected_keys)
        saw_charge |= bool((charge[live] > 0).any())
        pending = terminated | truncated
    assert saw_charge


@pytest.mark.parametrize("cost_mode", ["sampled", "expected"])
def test_floor_cost_change_of_variables_in_every_session(cost_mode):
    """sum_t gamma^t cost_like = session_slots(H, gamma) - sum_t gamma^t like_t per session of every sub-env."""
    gamma, H, n = 0.9, 30, 32
    envs = RecommenderVectorEnv(n, max_steps=H, constraints=("like",), cost_mode=cost_mode, cost_discount=gamma)
    envs.reset(seed=1)
    cost, likes, weight = np.zeros(n), np.zeros(n), np.ones(n)
    pending = np.zeros(n, dtype=bool)
    checked, lengths = 0, []
    t = np.zeros(n, dtype=int)
    for _ in range(120):
        probs = envs.candidate_expectations()[:, 0, 2]
        _, _, terminated, truncated, info = envs.step(np.zeros(n, dtype=int))
        live = ~pending
        like = info["signals"][:, 2] if cost_mode == "sampled" else probs
        cost[live] += weight[live] * info["cost"][live]
        likes[live] += weight[live] * like[live]
        weight[live] *= gamma
        t[live] += 1
        done = terminated | truncated
        np.testing.assert_allclose(cost[done], session_slots(H, gamma) - likes[done], rtol=1e-12, atol=1e-9)
        checked += int(done.sum())
        lengths.extend(t[done].tolist())
        cost[done], likes[done], weight[done], t[done] = 0.0, 0.0, 1.0, 0
        pending = done
    assert checked > 2 * n and min(lengths) < H == max(lengths)


# ------------------------------------------------------------------------------------------ seeding, reset_mask
def test_determinism_and_seeds():
    a, b = RecommenderVectorEnv(4), RecommenderVectorEnv(4)
    for env in (a, b):
        env.reset(seed=11)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(120):
        out_a = a.step(rng_a.integers(10, size=4))
        out_b = b.step(rng_b.integers(10, size=4))
        assert data_equivalence(out_a, out_b, exact=True)
    first = RecommenderVectorEnv(4).reset(seed=11)[0]
    assert not np.array_equal(first, RecommenderVectorEnv(4).reset(seed=12)[0])
    assert not np.array_equal(RecommenderVectorEnv(4).reset()[0], RecommenderVectorEnv(4).reset()[0])
    # sub-envs are independent sessions: different rows
    assert len({row.tobytes() for row in first}) == 4


def test_reset_mask_matches_sync_vector_env():
    """reset(options={"reset_mask": m}) restarts only the masked sub-envs, as SyncVectorEnv's does."""
    n = 4
    a, b = RecommenderVectorEnv(n, max_steps=50), _sync(RecommenderEnv, n, max_steps=50)
    a.reset(seed=0)
    b.reset(seed=0)
    rng = np.random.default_rng(0)
    for t in range(60):
        actions = rng.integers(10, size=n)
        _assert_steps_match(a.step(actions), b.step(actions), t)
        if t in (10, 37):
            mask = np.array([True, False, t == 37, False])
            obs_a, info_a = a.reset(options={"reset_mask": mask.copy()})
            obs_b, info_b = b.reset(options={"reset_mask": mask.copy()})
            np.testing.assert_allclose(obs_a, obs_b, atol=1e-6)
            assert info_a.keys() == info_b.keys()
            for key in info_a:
                np.testing.assert_array_equal(info_a[key], info_b[key])
            np.testing.assert_array_equal(info_a["_signals"], mask)


# ------------------------------------------------------------------------------------------ actions, rendering
def test_continuous_action_shows_the_argmax_candidate():
    envs = RecommenderContinuousVectorEnv(5, n_candidates=6)
    envs.reset(seed=2)
    d = envs.config.dim
    w = np.zeros((5, d + 1), dtype=np.float32)
    w[:, -1] = 1.0  # pure quality ranking
    quality = envs.simulator.catalogue.quality
    for _ in range(20):
        cands = envs._cands.copy()
        best = cands[np.arange(5), np.argmax(quality[cands], axis=1)]
        pending = envs._autoreset.copy()
        envs.step(w)
        np.testing.assert_array_equal(envs._last_item[~pending], best[~pending])


@pytest.mark.parametrize("mode", ["ansi", "rgb_array"])
def test_render_gives_one_frame_per_sub_env(mode):
    envs = RecommenderVectorEnv(3, render_mode=mode, max_steps=4)
    singles = [RecommenderEnv(render_mode=mode, max_steps=4) for _ in range(3)]
    envs.reset(seed=0)
    for i, env in enumerate(singles):
        env.reset(seed=i)
    for t in range(3):
        frames = envs.render()
        assert isinstance(frames, tuple) and len(frames) == 3
        for frame, env in zip(frames, singles):
            if mode == "ansi":
                assert frame == env.render()
            else:
                assert frame.dtype == np.uint8 and frame.shape == env.render().shape
        envs.step(np.full(3, t))
        for env in singles:
            env.step(t)
    with pytest.warns(UserWarning, match="render mode"):
        assert RecommenderVectorEnv(2).render() is None


def test_gymnasium_vector_wrappers_work_on_it():
    """Gymnasium's own episode statistics (next-step autoreset aware) give the same returns as on SyncVectorEnv."""
    from gymnasium.wrappers.vector import RecordEpisodeStatistics

    n = 4
    a = RecordEpisodeStatistics(RecommenderVectorEnv(n, max_steps=20))
    b = RecordEpisodeStatistics(_sync(RecommenderEnv, n, max_steps=20))
    a.reset(seed=9)
    b.reset(seed=9)
    returns_a, returns_b = [], []
    rng = np.random.default_rng(0)
    for _ in range(80):
        actions = rng.integers(10, size=n)
        info_a, info_b = a.step(actions)[4], b.step(actions)[4]
        if "episode" in info_a:
            returns_a.extend(info_a["episode"]["r"][info_a["_episode"]].tolist())
            returns_b.extend(info_b["episode"]["r"][info_b["_episode"]].tolist())
    assert len(returns_a) >= 3 * n
    np.testing.assert_allclose(returns_a, returns_b, rtol=1e-12)


# ------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize("native", [RecommenderVectorEnv, RecommenderContinuousVectorEnv])
def test_bad_arguments_raise_typed_errors(native):
    for bad in (0, -1, 2.5, True, "3", None, 10**12):
        with pytest.raises(InvalidInstanceError, match="num_envs"):
            native(bad)
    with pytest.raises(InvalidInstanceError, match="constraints"):
        native(2, constraints=("watch_time",))
    with pytest.raises(InvalidInstanceError, match="n_candidates"):
        native(2, n_candidates=0)
    envs = native(2)
    with pytest.raises(RuntimeError, match="reset"):
        envs.step(envs.action_space.sample())
    for bad in (-1, 1.5, "0", [0], (1, 2, 3), True):
        with pytest.raises(InvalidInstanceError, match="seed"):
            envs.reset(seed=bad)
    with pytest.raises(InvalidInstanceError, match="reset_mask"):
        envs.reset(options={"reset_mask": np.array([True, False])})  # the first reset must reset all
    envs.reset(seed=0)
    for bad in (np.array([True, False, True]), np.array([0, 1]), np.zeros(2, dtype=bool), [True, True]):
        with pytest.raises(InvalidInstanceError, match="reset_mask"):
            envs.reset(options={"reset_mask": bad})


def test_bad_actions_raise_typed_errors():
    envs = RecommenderVectorEnv(3, n_candidates=4)
    envs.reset(seed=0)
    for bad in (np.array([0, 1, 4]), np.array([0, -1, 2]), np.array([0.0, 1.0, 2.0]), np.array([True, False, True]),
                np.array([0, 1]), np.zeros((3, 1), dtype=int), 1, None, "012", [0, 1, 2.5]):
        with pytest.raises(InvalidInstanceError, match="actions"):
            envs.step(bad)
    envs.step([0, 1, 3])
    cenv = RecommenderContinuousVectorEnv(2)
    cenv.reset(seed=0)
    d = cenv.config.dim
    for bad in (np.zeros((2, d)), np.zeros(d + 1), np.full((2, d + 1), np.nan), np.full((2, d + 1), np.inf),
                np.zeros((2, d + 1), dtype=complex), np.zeros((2, d + 1)).astype(str), None):
        with pytest.raises(InvalidInstanceError, match="actions"):
            cenv.step(bad)
    cenv.step(np.full((2, d + 1), 1e300))  # huge but finite weights are weights


# ------------------------------------------------------------------------------------------ Stable-Baselines3
def test_sb3_adapter_refuses_what_it_cannot_adapt():
    from mechsim.envs.sb3_vector import sb3_vec_env

    with pytest.raises(InvalidInstanceError, match="env"):
        sb3_vec_env(RecommenderEnv())
    same_step = SyncVectorEnv([RecommenderEnv], autoreset_mode=AutoresetMode.SAME_STEP)
    with pytest.raises(InvalidInstanceError, match="env"):
        sb3_vec_env(same_step)


@pytest.mark.rl
def test_sb3_adapter_is_dummy_vec_env_seed_by_seed():
    """SB3's same-step autoreset, terminal observations, TimeLimit.truncated and per-sub-env infos (with the costs):
    over the native env the adapter gives what DummyVecEnv gives over single envs with the same seeds."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.vec_env import DummyVecEnv

    from mechsim.envs.sb3_vector import sb3_vec_env

    n = 4
    a = sb3_vec_env(RecommenderVectorEnv(n, max_steps=30))
    b = DummyVecEnv([lambda: RecommenderEnv(max_steps=30) for _ in range(n)])
    a.seed(3)
    b.seed(3)
    np.testing.assert_array_equal(a.reset(), b.reset())
    rng = np.random.default_rng(0)
    dones = truncations = 0
    for _ in range(300):
        actions = rng.integers(10, size=n)
        (obs_a, rew_a, done_a, infos_a), (obs_b, rew_b, done_b, infos_b) = a.step(actions), b.step(actions)
        np.testing.assert_allclose(obs_a, obs_b, atol=1e-6)
        assert rew_a.dtype == rew_b.dtype
        np.testing.assert_allclose(rew_a, rew_b, rtol=1e-6)
        np.testing.assert_array_equal(done_a, done_b)
        for x, y in zip(infos_a, infos_b):
            assert x.keys() == y.keys()
            for key in x:
                assert type(x[key]) is type(y[key]), key
                np.testing.assert_allclose(x[key], y[key], rtol=1e-9, atol=1e-6)
            truncations += x["TimeLimit.truncated"]
        dones += int(done_a.sum())
    assert dones > 2 * n and truncations > 0
    for x, y in zip(a.reset_infos, b.reset_infos):
        assert x.keys() == y.keys()


@pytest.mark.rl
def test_sb3_ppo_learns_on_the_native_vector_env():
    """PPO through the adapter (VecMonitor, VecNormalize) beats the random recommender on held-out sessions."""
    pytest.importorskip("stable_baselines3")
    torch = pytest.importorskip("torch")
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

    from mechsim.envs.sb3_vector import sb3_vec_env

    torch.set_num_threads(1)
    kwargs = {"n_candidates": 5, "max_steps": 40, "constraints": ("like",)}
    monitor = VecMonitor(sb3_vec_env(gymnasium.make_vec("mechsim/Recommender-v0", num_envs=16, **kwargs)))
    vec = VecNormalize(monitor, norm_obs=True, norm_reward=True)
    vec.seed(0)
    model = PPO("MlpPolicy", vec, n_steps=128, batch_size=256, n_epochs=10, learning_rate=1e-3, gamma=0.95,
                ent_coef=0.003, seed=0, verbose=0, policy_kwargs={"net_arch": [64, 64]})
    model.learn(25_000)
    vec.training = False
    assert monitor.episode_count > 300  # VecMonitor saw the sessions the adapter finished

    def sessions(choose, n=60, seed=20_000):
        env = RecommenderEnv(**kwargs)
        rng = np.random.default_rng(seed)
        watch = np.zeros(n)
        for k in range(n):
            obs, _ = env.reset(seed=seed + k)
            done = False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(choose(obs, rng))
                watch[k] += reward
                done = terminated or truncated
        return watch

    learned = sessions(lambda obs, rng: int(model.predict(vec.normalize_obs(obs[None]), deterministic=True)[0][0]))
    random = sessions(lambda obs, rng: int(rng.integers(5)))
    diff = learned - random  # paired: the same held-out sessions
    assert diff.mean() > 0.15 * random.mean()
    assert diff.mean() > 3 * diff.std() / np.sqrt(diff.size)
