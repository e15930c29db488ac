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


@pytest.fixture(autouse=True)
def _one_thread():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)


def _recommender_vec(n_envs, seed, multipliers=None):
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    def factory(i):
        def make():
            env = Monitor(gymnasium.make("mechsim/Recommender-v0", **REC_KWARGS))
            if multipliers is not None:
                env = LagrangianReward(env, multipliers)
            env.reset(seed=seed + i)
            return env
        return make

    return VecNormalize(DummyVecEnv([factory(i) for i in range(n_envs)]), norm_obs=True, norm_reward=True)


def _sessions(choose, n=60, seed=20_000):
    """Per-session watch time and likes of ``choose(env, obs, rng)`` on ``n`` held-out sessions."""
    env = gymnasium.make("mechsim/Recommender-v0", **REC_KWARGS)
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
    lm = LagrangeMultipliers([-1.5], ki=25.0, batch_episodes=16, max_value=2000.0, names=["like"])
    learned = _ppo(_recommender_vec(8, 1, lm), 40_000, seed=1)
    _, likes = _sessions(learned)
    _, likes_rand = _sessions(_random)
    assert lm.lambdas[0] > 0 and len(lm.history) > 20
    # the unconstrained objective does not ask for likes; only the multiplier makes the learner seek them
    assert likes.mean() > 2.0 * likes_rand.mean()


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
    model.learn(30_000)
    env = DebateVsOpponent(opponent="random")
    rng = np.random.default_rng(0)
    learned, rand, best = [], [], []
    for k in range(300):
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
    assert learned > rand + 0.2
    assert learned <= best + 0.15   # nobody beats the exact best response beyond sampling noise


def test_rllib_independent_ppo_finds_the_audited_deviation():
    """Under a non-IC mechanism the learners play the deviation the exact audit reports."""
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
    from mechsim.hiring import audit_incentives

    instance = example.default_instance()
    mech = example.mechanisms(instance)["swap"]
    audit = audit_incentives(instance, mech)
    assert not audit.is_ic and audit.agent == 0
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        algo = example.build_algo(instance, mech, seed=0)
        for _ in range(12):
            algo.train()
        pol = example.learned_policy(algo, instance, mech)
        algo.stop()
    finally:
        ray.shutdown()
    b = audit.recommended_effort
    effort = int(pol["effort"][0][b])
    assert effort == audit.deviation_effort
    np.testing.assert_array_equal(pol["report_map"][0][b][effort], audit.reporting_map)
    assert pol["p_effort"][0][b, effort] > 0.8
    assert int(pol["effort"][1][0]) == 0                     # agent 1 is unpaid: it obeys (no effort)
    truthful = [[np.arange(2)] * 2] * 2
    obey = example.expected_utility(instance, mech, 0, np.arange(2), truthful)
    learned = example.expected_utility(instance, mech, 0, pol["effort"][0], pol["report_map"][0])
    assert learned == pytest.approx(obey + audit.max_gain, abs=1e-9)
