"""Real (small) training runs with Stable-Baselines3, sb3-contrib and RLlib on mechsim environments.

Marked ``rl``: they need the ``rl`` extra and run in their own CI job (``pytest -m rl``).  Each run has a
fixed seed and a bounded number of steps and asserts that learning happened, by a margin over the
no-learning baseline that a broken adapter (scrambled observations, lost masks, ignored multipliers)
cannot reach.  Evaluations are paired: the same held-out episodes for the learner and the baseline.
"""

import gymnasium
import numpy as np
import pytest

import mechsim  # noqa: F401  (registers the environments)
from mechsim.envs.rl import DebateVsOpponent, LagrangeMultipliers, LagrangianReward

pytestmark = pytest.mark.rl

REC_KWARGS = {"n_candidates": 5, "max_steps": 40, "constraints": ("like",)}


def _likes_common():
    """Simulator with the like bias raised by 2: likes on ~6% of requests instead of ~1%, so that a floor
    on likes is learnable in a short run (with the calibrated rate PPO learns nothing about likes in 40k
    steps, even with the multiplier at its cap)."""
    from mechsim.cmdp.simulator import CALIBRATED_BIASES, SimulatorConfig

    biases = list(CALIBRATED_BIASES)
    biases[2] += 2.0
    return {**REC_KWARGS, "config": SimulatorConfig(biases=tuple(biases))}


@pytest.fixture(autouse=True)
def _one_thread():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)


def _recommender_vec(n_envs, seed, multipliers=None, kwargs=REC_KWARGS):
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    def factory(i):
        def make():
            env = Monitor(gymnasium.make("mechsim/Recommender-v0", **kwargs))
            if multipliers is not None:
                env = LagrangianReward(env, multipliers, subtract_offsets=True)
            env.reset(seed=seed + i)
            return env
        return make

    return VecNormalize(DummyVecEnv([factory(i) for i in range(n_envs)]), norm_obs=True, norm_reward=True)


def _sessions(choose, n=60, seed=20_000, kwargs=REC_KWARGS):
    """Per-session watch time and likes of ``choose(env, obs, rng)`` on ``n`` held-out sessions."""
    env = gymnasium.make("mechsim/Recommender-v0", **kwargs)
    rng = np.random.default_rng(seed)
    watch, likes = np.zeros(n), np.zeros(n)
    for k in range(n):
        obs, _ = env.reset(seed=seed + k)
        done = False
        while not done:
            obs, r, term, trunc, info = env.step(choose(env, obs, rng))
            watch[k] += r
            likes[k] += info["signals"][2]
            done = term or trunc
    return watch, likes


def _ppo(vec, steps, seed):
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", vec, n_steps=256, batch_size=256, n_epochs=10, learning_rate=1e-3, gamma=0.95,
                ent_coef=0.003, seed=seed, verbose=0, policy_kwargs={"net_arch": [64, 64]})
    model.learn(steps)
    vec.training = False

    def choose(env, obs, rng):
        return int(model.predict(vec.normalize_obs(obs[None]), deterministic=True)[0][0])
    return choose


def _random(env, obs, rng):
    return int(rng.integers(env.action_space.n))


def test_sb3_ppo_beats_random_recommender():
    pytest.importorskip("stable_baselines3")
    learned = _ppo(_recommender_vec(8, 0), 40_000, seed=0)
    w_ppo, _ = _sessions(learned)
    w_rand, _ = _sessions(_random)
    diff = w_ppo - w_rand
    # paired difference: well above zero (a policy that cannot see the candidates stays at random level)
    assert diff.mean() > 0.15 * w_rand.mean()
    assert diff.mean() > 3 * diff.std() / np.sqrt(diff.size)


def test_sb3_lagrangian_reward_raises_likes_to_the_floor():
    pytest.importorskip("stable_baselines3")
    kwargs = _likes_common()
    # Floor: 4 likes per session.  Measured here: random ~2.5, watch-greedy oracle ~2.4, like-greedy oracle
    # (hidden state) ~6.5: feasible, and binding for a watch maximiser.  The same PPO without the
    # multiplier (lambda = 0) learned 2.3 likes per session; with it 3.7 (this configuration) to 4.2.
    # Costs are non-negative (missed likes, and the unused slots of a session the user leaves): the floor of 4
    # likes in sessions of 40 requests is the limit 36 on the like cost.
    lm = LagrangeMultipliers([REC_KWARGS["max_steps"] - 4.0], ki=10.0, initial=20.0, batch_episodes=8,
                             max_value=2000.0, names=["like"])
    learned = _ppo(_recommender_vec(8, 100, lm, kwargs), 40_000, seed=1)
    _, likes = _sessions(learned, n=150, kwargs=kwargs)
    _, likes_rand = _sessions(_random, n=150, kwargs=kwargs)
    assert lm.lambdas[0] > 20.0 and len(lm.history) > 50    # the floor was violated early: lambda rose
    assert likes.mean() > 1.3 * likes_rand.mean()


def test_maskable_ppo_debater_learns_towards_the_best_response():
    pytest.importorskip("sb3_contrib")
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    def factory(i):
        def make():
            env = Monitor(DebateVsOpponent(opponent="random", compute_value=False))
            env.reset(seed=i)
            return env
        return make

    model = MaskablePPO("MlpPolicy", DummyVecEnv([factory(i) for i in range(8)]), n_steps=128, batch_size=256,
                        learning_rate=1e-3, gamma=1.0, ent_coef=0.01, seed=0, verbose=0,
                        policy_kwargs={"net_arch": [128, 128]})
    model.learn(40_000)
    env = DebateVsOpponent(opponent="random")
    rng = np.random.default_rng(0)
    learned, rand, best = [], [], []
    for k in range(400):
        for policy, out in (("ppo", learned), ("random", rand)):
            obs, info = env.reset(seed=70_000 + k)
            done = False
            while not done:
                if policy == "ppo":
                    a = int(model.predict(obs, action_masks=env.action_masks(), deterministic=True)[0])
                else:
                    a = int(rng.choice(np.flatnonzero(env.action_masks())))
                obs, r, done, _, _ = env.step(a)
            out.append(r)
        best.append(info["best_response_value"])
    learned, rand, best = np.mean(learned), np.mean(rand), np.mean(best)
    # random play scores ~0 (symmetric game), the exact best response ~0.6; 30k steps measured ~0.19
    assert learned > rand + 0.12
    assert learned <= best + 0.1    # nobody beats the exact best response beyond sampling noise


def test_rllib_ppo_finds_the_audited_deviation():
    """Under a non-IC mechanism an RLlib PPO agent (the other agent obedient and truthful, as the audit
    assumes) learns exactly the deviation the exact audit reports: keep working, report the opposite."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.rllib")
    import importlib.util
    import pathlib
    import sys

    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "rllib_hiring.py"
    spec = importlib.util.spec_from_file_location("rllib_hiring_example", path)
    example = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = example
    spec.loader.exec_module(example)

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        result = example.run(example.default_instance(), "swap", "unilateral", iterations=20, seed=0)
    finally:
        ray.shutdown()
    audit, pol = result["audit"], result["learned"]["agent_0"]
    assert not audit.is_ic and audit.agent == 0
    b = audit.recommended_effort
    effort = int(pol["effort"][b])
    assert effort == audit.deviation_effort == 1
    np.testing.assert_array_equal(pol["report_map"][b][effort], audit.reporting_map)
    assert not np.array_equal(audit.reporting_map, np.arange(audit.reporting_map.size))   # a real lie
    assert pol["p_effort"][b, effort] > 0.8 and pol["p_report"][b][effort].max(axis=1).min() > 0.8
    # obeying truthfully would earn -0.05 per round; the learned policy earns the audit's best deviation
    assert result["obey_utility"] < 0
    assert result["greedy_vs_truthful_others"] == pytest.approx(result["audit_best_utility"], abs=1e-9)
    assert result["learned_vs_truthful_others"] > result["obey_utility"] + 0.5 * audit.max_gain


# ------------------------------------------------------------------------- SB3's standard entry points
def _gym_ids():
    from mechsim._registration import GYMNASIUM_ENVS

    return sorted(GYMNASIUM_ENVS)


@pytest.mark.parametrize("env_id", _gym_ids())
def test_sb3_make_vec_env_and_ppo_by_id(env_id):
    """Users start with ``make_vec_env(id)`` and ``PPO("MlpPolicy", id)``; both pass render_mode="rgb_array"."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    from mechsim._registration import CHECK_KWARGS

    kwargs = CHECK_KWARGS.get(env_id, {})
    vec = make_vec_env(env_id, n_envs=2, seed=0, env_kwargs=kwargs)
    obs = vec.reset()
    assert obs.shape[0] == 2
    PPO("MlpPolicy", vec, n_steps=32, batch_size=32, seed=0).learn(64)
    if not kwargs:
        PPO("MlpPolicy", env_id, n_steps=32, batch_size=32, seed=0).learn(64)
    frame = gymnasium.make(env_id, render_mode="rgb_array", **kwargs)
    frame.reset(seed=0)
    image = frame.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


# ------------------------------------------------------------------------------ vector paths (issue 15)
def _example(name):
    import importlib.util
    import pathlib
    import sys

    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_example", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_sb3_ppo_wall_clock_to_the_same_return_before_and_after():
    """The example's before/after measurement, small: both paths reach the target return, and after the same
    number of steps up to a rollout (the native env reproduces DummyVecEnv seed by seed, so PPO sees the same
    sessions); the wall-clock ratio is printed, never asserted (timing lives in benchmarks)."""
    pytest.importorskip("stable_baselines3")
    example = _example("sb3_recommender")
    target = 510.0  # the uniformly random recommender earns 440 +- 9 watch-s per session here (200 sessions)
    out = example.wall_clock_before_after(target, 40_000, 0, 16, 128, **REC_KWARGS)
    old, new = out["old"], out["native"]
    print(f"\nPPO to a return of {target:g} watch-s (16 sub-envs): old {old['seconds']:.1f} s ({old['steps']} steps), "
          f"native {new['seconds']:.1f} s ({new['steps']} steps): {out['ratio']:.2f}x wall, "
          f"{out['cpu_ratio']:.2f}x CPU")
    assert old["reached"] and new["reached"] and old["return"] >= target and new["return"] >= target
    assert old["steps"] > 3 * 16 * 128  # learning was needed, not the first rollout's luck
    assert abs(old["steps"] - new["steps"]) <= 16 * 128


def test_vector_lagrangian_reward_under_sb3_vec_env_is_dummy_vec_env_of_single_wrappers():
    """sb3_vec_env(VectorLagrangianReward(native)) against DummyVecEnv over LagrangianReward(single env):
    the same penalised rewards, episode ends and multiplier path, step by step."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.vec_env import DummyVecEnv

    from mechsim.envs.sb3_vector import sb3_vec_env
    from mechsim.envs.vector_lagrangian import VectorLagrangianReward

    kwargs = {"n_candidates": 4, "max_steps": 6, "constraints": ("like",)}
    n = 5
    lm_a = LagrangeMultipliers([5.0], ki=0.5, batch_episodes=2)
    lm_b = LagrangeMultipliers([5.0], ki=0.5, batch_episodes=2)
    ours = sb3_vec_env(VectorLagrangianReward(
        gymnasium.make_vec("mechsim/Recommender-v0", num_envs=n, vectorization_mode="vector_entry_point", **kwargs),
        lm_a, subtract_offsets=True))
    ref = DummyVecEnv([lambda: LagrangianReward(gymnasium.make("mechsim/Recommender-v0", **kwargs), lm_b,
                                                subtract_offsets=True) for _ in range(n)])
    ours.seed(7)
    ref.seed(7)
    ours.reset()
    ref.reset()
    rng = np.random.default_rng(0)
    for _ in range(80):
        actions = rng.integers(4, size=n)
        ours.step_async(actions)
        ref.step_async(actions)
        _, r1, d1, i1 = ours.step_wait()
        _, r2, d2, i2 = ref.step_wait()
        np.testing.assert_array_equal(d1, d2)
        np.testing.assert_allclose(r1, r2, rtol=1e-9, atol=1e-9)
        for a, b in zip(i1, i2):
            np.testing.assert_allclose(a["lambdas"], b["lambdas"], rtol=1e-9)
            assert ("episode_costs" in a) == ("episode_costs" in b)
    assert len(lm_a.history) == len(lm_b.history) >= 20
    np.testing.assert_allclose(lm_a.history, lm_b.history, rtol=1e-9)


def test_rllib_ppo_trains_on_the_native_vector_env():
    """RLlib's env runner builds the native vector env through gym_env_vectorize_mode="vector_entry_point"
    (a registered creator), samples and trains on it, as on the sync path; and the batched auction's
    SuperSuit-layout view trains one shared policy the same way, as RLlib's multi-agent path does."""
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.rllib")
    example = _example("rllib_vector_envs")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        out = example.compare(1, 8, seed=0, env_kwargs=REC_KWARGS, batch=640)
        auction = example.compare_auction(1, 4, seed=0, batch=600)
    finally:
        ray.shutdown()
    assert auction["slots"]["env"] == "AgentSlotVectorEnv"
    assert auction["multi_agent"]["env"] == "SyncVectorMultiAgentEnv"
    for key in ("slots", "multi_agent"):
        assert auction[key]["agent_steps_per_cpu_s"] > 0 and np.isfinite(auction[key]["return_per_bidder"])
    assert out["native"]["env"] == "RecommenderVectorEnv" and out["sync"]["env"] == "SyncVectorEnv"
    for key in ("native", "sync"):
        assert out[key]["steps_per_cpu_s"] > 0 and np.isfinite(out[key]["return"])
    print(f"\nRLlib sampling throughput native / sync at 8 sub-envs: {out['sampling_ratio']:.2f}x")
