"""Stable-Baselines3 PPO on ``mechsim/Recommender-v0``, unconstrained and with a Lagrangian reward.

Run:  python examples/sb3_recommender.py [--steps 100000] [--seed 0]     (needs the ``rl`` extra)

1. PPO (MlpPolicy, ``VecNormalize`` on observations and rewards: watch time is in seconds, tens per request,
   which the default PPO set-up does not cope with; gamma 0.9) learns which of the K = 10 candidates to show.
   It trains on the native vector env (``gymnasium.make_vec(ENV_ID, num_envs=8)``: 8 sessions stepped as
   arrays, :mod:`mechsim.envs.recommender_vector`) through :func:`mechsim.envs.sb3_vector.sb3_vec_env`, the
   Stable-Baselines3 ``VecEnv`` view of a Gymnasium vector env (SB3 cannot take one directly), with
   ``VecMonitor`` for the episode statistics.  The learned greedy policy is compared on the same held-out
   sessions with the uniformly random recommender and with the *watch-greedy oracle*, which reads the hidden
   user state (``env.unwrapped.candidate_expectations()``) and shows the candidate with the largest expected
   watch time: an upper reference that no policy acting on observations is expected to reach.
2. A constrained learner built on SB3 without changing SB3: :class:`mechsim.envs.rl.LagrangianReward`
   turns the floor "at least ``--like-floor`` likes per session" into a limit on the environment's
   non-negative like cost, the missed likes (``1 - like`` per request, and the unused request slots when a
   user leaves, so that a session's like cost is ``max_steps - likes``): limit ``max_steps - floor``.  The
   reward becomes ``watch - lambda * missed likes`` (``= watch + lambda * likes - lambda * max_steps`` per
   session) with one multiplier shared by 8 in-process copies (``DummyVecEnv``: ``LagrangianReward`` wraps
   single envs) and moved by dual ascent every 16 finished sessions.
   With the calibrated simulator a like happens on ~1% of requests,
   too rare for a short PPO run to learn from (measured: no gain in likes after 40k steps even with lambda
   at its cap), so this part uses a simulator whose like bias is raised by 2 (likes on ~6% of requests;
   ``SimulatorConfig(biases=...)``).  A watch maximiser (the watch-greedy oracle) gets no more likes than
   random there, so the floor binds.
1b. Wall-clock before/after: :func:`wall_clock_before_after` trains the same PPO (same hyperparameters, seed
   and rollout of 2048 steps) until its training return (mean watch time of the last 50 sessions, from
   ``VecMonitor``) reaches ``--target`` (800 watch-s per session; random 614), once on the old path (SB3's
   ``DummyVecEnv`` over ``gymnasium.make`` single envs) and once on the native vector env (``sb3_vec_env``),
   in the same run, and prints the ratio of the wall-clocks, with 8 and with 64 sub-envs.  The native env
   reproduces ``DummyVecEnv`` seed by seed, so both paths see the same sessions and reach the target after
   the same number of steps: the ratio is the environment's share of training time.
3. Context only: the exact LP optimum of the finite tabular twin of the simulator
   (:func:`mechsim.cmdp.tabular_twin.tabular_recommender` + :func:`mechsim.solvers.cmdp_lp.solve_cmdp`).
   The twin is a *different*, discounted model, so its numbers are not comparable one to one.

CPU only; ``torch.set_num_threads(1)``.  About 6 minutes on an idle 2-core machine at the defaults.
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium
import numpy as np

import mechsim  # noqa: F401  (registers the environments)
from mechsim.envs.rl import LagrangeMultipliers, LagrangianReward

ENV_ID = "mechsim/Recommender-v0"
LIKE = 2  # index of "like" in info["signals"]


def env_kwargs(likes_common: bool = False) -> dict:
    """The recommender used here; ``likes_common`` raises the like bias by 2 (see the module docstring)."""
    kwargs = {"n_candidates": 10, "max_steps": 100, "constraints": ("like",)}
    if likes_common:
        from mechsim.cmdp.simulator import CALIBRATED_BIASES, SimulatorConfig

        biases = list(CALIBRATED_BIASES)
        biases[LIKE] += 2.0
        kwargs["config"] = SimulatorConfig(biases=tuple(biases))
    return kwargs


def make_vec_env(n_envs: int, seed: int, multipliers: LagrangeMultipliers | None = None, likes_common=False):
    """``n_envs`` sessions: the native vector env, or with ``multipliers`` ``n_envs`` in-process copies under
    ``LagrangianReward`` (``Monitor`` logs the watch time even under the Lagrangian reward)."""
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, VecNormalize

    from mechsim.envs.sb3_vector import sb3_vec_env

    if multipliers is None:
        native = gymnasium.make_vec(ENV_ID, num_envs=n_envs, vectorization_mode="vector_entry_point",
                                    **env_kwargs(likes_common))
        vec = VecMonitor(sb3_vec_env(native))
        vec.seed(seed)  # sub-env i: seed + i
        return VecNormalize(vec, norm_obs=True, norm_reward=True, gamma=0.9)

    def factory(i):
        def make():
            env = LagrangianReward(Monitor(gymnasium.make(ENV_ID, **env_kwargs(likes_common))), multipliers)
            env.reset(seed=seed + i)
            return env
        return make

    vec = DummyVecEnv([factory(i) for i in range(n_envs)])
    return VecNormalize(vec, norm_obs=True, norm_reward=True, gamma=0.9)


def train_ppo(steps: int, seed: int, multipliers: LagrangeMultipliers | None = None, likes_common=False):
    vec = make_vec_env(8, seed, multipliers, likes_common)
    model = _ppo(vec, seed)
    model.learn(steps)
    vec.training = False
    return model, vec


def _ppo(vec, seed: int, n_steps: int = 256):
    """The PPO of this example (the same hyperparameters for every path)."""
    from stable_baselines3 import PPO

    # gamma 0.9: watch time is mostly earned now; a short horizon learns faster than 0.99 here (measured
    # 894 vs 816 watch-s per session after 100k steps, random 614).
    return PPO("MlpPolicy", vec, n_steps=n_steps, batch_size=256, n_epochs=10, learning_rate=3e-4, gamma=0.9,
               gae_lambda=0.95, ent_coef=0.0, seed=seed, verbose=0,
               policy_kwargs={"net_arch": {"pi": [64, 64], "vf": [64, 64]}})


def old_path_vec_env(n_envs: int, seed: int, **kwargs):
    """The path before native vector envs: SB3's ``DummyVecEnv`` over ``n_envs`` single envs (``make``)."""
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, VecNormalize

    vec = VecMonitor(DummyVecEnv([lambda: gymnasium.make(ENV_ID, **kwargs) for _ in range(n_envs)]))
    vec.seed(seed)  # sub-env i: seed + i, as the native path
    return VecNormalize(vec, norm_obs=True, norm_reward=True, gamma=0.9)


def native_vec_env(n_envs: int, seed: int, **kwargs):
    """The native vector env (``make_vec(..., "vector_entry_point")``) through :func:`sb3_vec_env`."""
    from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

    from mechsim.envs.sb3_vector import sb3_vec_env

    native = gymnasium.make_vec(ENV_ID, num_envs=n_envs, vectorization_mode="vector_entry_point", **kwargs)
    vec = VecMonitor(sb3_vec_env(native))
    vec.seed(seed)
    return VecNormalize(vec, norm_obs=True, norm_reward=True, gamma=0.9)


def time_to_return(make_vec, target: float, budget: int, seed: int = 0, n_envs: int = 8, n_steps: int = 256,
                   window: int = 50, **kwargs) -> dict:
    """Wall-clock (and environment steps) until PPO's training return reaches ``target``.

    The return is the mean watch time of the last ``window`` finished training sessions (``VecMonitor``, the
    original reward, before ``VecNormalize``), checked whenever a session ends; training stops there or after
    ``budget`` environment steps.  The clocks (wall-clock ``seconds`` and this process's ``cpu_seconds``, the
    robust one on a shared machine) run from building the environments to the stop.
    """
    from stable_baselines3.common.callbacks import BaseCallback

    class StopAtReturn(BaseCallback):
        def __init__(self):
            super().__init__()
            self.reached = None

        def _on_step(self) -> bool:
            buf = self.model.ep_info_buffer
            if self.locals["dones"].any() and len(buf) >= window:
                if np.mean([e["r"] for e in list(buf)[-window:]]) >= target:
                    self.reached = self.num_timesteps
                    return False
            return True

    t0, cpu0 = time.perf_counter(), time.process_time()
    vec = make_vec(n_envs, seed, **kwargs)
    model = _ppo(vec, seed, n_steps)
    model._stats_window_size = max(window, 100)
    stop = StopAtReturn()
    model.learn(budget, callback=stop)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    returns = [e["r"] for e in list(model.ep_info_buffer)[-window:]]
    return {"seconds": seconds, "cpu_seconds": cpu,
            "steps": stop.reached if stop.reached is not None else model.num_timesteps,
            "reached": stop.reached is not None, "return": float(np.mean(returns)) if returns else float("nan")}


def wall_clock_before_after(target: float, budget: int, seed: int = 0, n_envs: int = 8, n_steps: int = 256,
                            **kwargs) -> dict:
    """:func:`time_to_return` on the old path and on the native vector env, same PPO and seed, one run.

    Both paths first run a short untimed warm-up (torch's and SB3's first-use costs would otherwise be charged
    to whichever path goes first).
    """
    for make in (old_path_vec_env, native_vec_env):
        time_to_return(make, float("inf"), 2 * n_envs * n_steps, seed, n_envs, n_steps, **kwargs)
    old = time_to_return(old_path_vec_env, target, budget, seed, n_envs, n_steps, **kwargs)
    new = time_to_return(native_vec_env, target, budget, seed, n_envs, n_steps, **kwargs)
    return {"old": old, "native": new, "ratio": old["seconds"] / new["seconds"],
            "cpu_ratio": old["cpu_seconds"] / new["cpu_seconds"], "n_envs": n_envs}


def evaluate(choose, sessions: int, seed: int = 10_000, likes_common: bool = False) -> dict:
    """Mean watch time, likes and length per session of ``choose(env, obs, rng) -> action``."""
    env = gymnasium.make(ENV_ID, **env_kwargs(likes_common))
    rng = np.random.default_rng(seed)
    watch, likes, length = [], [], []
    for k in range(sessions):
        obs, _ = env.reset(seed=seed + k)
        done, w, lk, n = False, 0.0, 0.0, 0
        while not done:
            obs, r, term, trunc, info = env.step(choose(env, obs, rng))
            w, lk, n = w + r, lk + info["signals"][LIKE], n + 1
            done = term or trunc
        watch.append(w)
        likes.append(lk)
        length.append(n)
    return {"watch": float(np.mean(watch)), "watch_se": float(np.std(watch) / np.sqrt(sessions)),
            "likes": float(np.mean(likes)), "length": float(np.mean(length))}


def random_choice(env, obs, rng):
    return int(rng.integers(env.action_space.n))


def watch_greedy(env, obs, rng):
    return int(np.argmax(env.unwrapped.candidate_expectations()[:, 0]))


def like_greedy(env, obs, rng):
    return int(np.argmax(env.unwrapped.candidate_expectations()[:, LIKE]))


def ppo_choice(model, vec):
    def choose(env, obs, rng):
        action, _ = model.predict(vec.normalize_obs(obs[None]), deterministic=True)
        return int(action[0])
    return choose


def twin_context() -> str:
    from mechsim.cmdp.model import evaluate_policy, uniform_policy
    from mechsim.cmdp.tabular_twin import tabular_recommender
    from mechsim.solvers.cmdp_lp import solve_cmdp

    free = tabular_recommender(constraints=("like",), limits=[1e9])
    slots = 1.0 / (1.0 - free.discount)          # the twin's like cost is slots - discounted likes
    rand = evaluate_policy(free, uniform_policy(free))
    best = solve_cmdp(free)
    floor = 1.5 * (slots - float(rand.cost_values[0]))   # 1.5x the random policy's discounted likes
    constrained = solve_cmdp(tabular_recommender(constraints=("like",), limits=[slots - floor]))
    return (f"tabular twin (21 states, 24 item types, discounted gamma=0.95; a different model, context only):\n"
            f"  random {rand.value:.1f} watch-s, {slots - rand.cost_values[0]:.3f} likes | LP optimum "
            f"{best.value:.1f} watch-s, {slots - best.cost_values[0]:.3f} likes | LP optimum with likes >= "
            f"{floor:.3f}: {constrained.value:.1f} watch-s (lambda* = {constrained.multipliers[0]:.1f} s/like)")


def _table(rows: dict) -> None:
    print(f"  {'policy':43s} {'watch s/session':>18s} {'likes/session':>14s} {'requests':>9s}")
    for name, r in rows.items():
        print(f"  {name:43s} {r['watch']:10.1f} +- {r['watch_se']:5.1f} {r['likes']:14.2f} {r['length']:9.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sessions", type=int, default=100, help="held-out evaluation sessions")
    parser.add_argument("--like-floor", type=float, default=8.0)
    parser.add_argument("--target", type=float, default=800.0, help="training return of part 1b (watch-s)")
    args = parser.parse_args(argv)

    import torch
    torch.set_num_threads(1)
    n = args.sessions

    print(f"1. {ENV_ID} {env_kwargs()}: {n} held-out sessions (mean +- standard error)")
    t0 = time.perf_counter()
    model, vec = train_ppo(args.steps, args.seed)
    seconds = time.perf_counter() - t0
    rows = {"random": evaluate(random_choice, n),
            "watch-greedy oracle (hidden state)": evaluate(watch_greedy, n),
            f"PPO, {args.steps} steps ({seconds:.0f} s)": evaluate(ppo_choice(model, vec), n)}
    _table(rows)
    ppo = list(rows.values())[-1]
    print(f"  PPO minus random: {ppo['watch'] - rows['random']['watch']:+.1f} watch-s per session")

    print(f"\n1b. Wall-clock for PPO to reach a training return of {args.target:g} watch-s per session (mean of the "
          f"last 50 sessions): old path (DummyVecEnv over single envs) against the native vector env "
          f"(sb3_vec_env), same PPO, seed and rollout size (2048 steps); 1-min load average "
          f"{os.getloadavg()[0]:.2f}")
    print(f"  {'sub-envs':>8s} {'old s':>7s} {'native s':>9s} {'old CPU s':>10s} {'native CPU s':>13s} "
          f"{'steps old/native':>17s} {'x (wall)':>9s} {'x (CPU)':>8s}")
    for n_envs in (8, 64):
        out = wall_clock_before_after(args.target, 3 * args.steps, args.seed, n_envs, 2048 // n_envs,
                                      **env_kwargs())
        old, new = out["old"], out["native"]
        flag = "" if old["reached"] and new["reached"] else "  (target not reached within the budget)"
        print(f"  {n_envs:8d} {old['seconds']:7.1f} {new['seconds']:9.1f} {old['cpu_seconds']:10.1f} "
              f"{new['cpu_seconds']:13.1f} {old['steps']:8d}/{new['steps']:<8d} {out['ratio']:9.2f} "
              f"{out['cpu_ratio']:8.2f}{flag}")
    print(f"  (1-min load average after: {os.getloadavg()[0]:.2f})")

    print(f"\n2. Lagrangian PPO, likes per session >= {args.like_floor:g}, like bias +2 "
          f"(dual ascent ki=5 every 16 sessions)")
    max_steps = env_kwargs()["max_steps"]
    # Missed likes per session (cost) <= max_steps - floor  <=>  likes per session >= floor.
    lm = LagrangeMultipliers([max_steps - args.like_floor], ki=5.0, batch_episodes=16, max_value=2000.0,
                             names=["like"])
    t0 = time.perf_counter()
    model_c, vec_c = train_ppo(args.steps, args.seed, lm, likes_common=True)
    seconds = time.perf_counter() - t0
    rows_c = {"random": evaluate(random_choice, n, likes_common=True),
              "watch-greedy oracle (hidden state)": evaluate(watch_greedy, n, likes_common=True),
              "like-greedy oracle (hidden state)": evaluate(like_greedy, n, likes_common=True),
              f"Lagrangian PPO, {args.steps} steps ({seconds:.0f} s)":
                  evaluate(ppo_choice(model_c, vec_c), n, likes_common=True)}
    _table(rows_c)
    recent = max_steps - np.mean([c[0] for c in lm.cost_history[-10:]])
    print(f"  multiplier: {lm.lambdas[0]:.1f} watch-s per like after {len(lm.history)} dual steps; likes per "
          f"session in the last 10 training batches {recent:.2f} (floor {args.like_floor:g})")
    print("\n3. " + twin_context())
    return rows, rows_c, lm


if __name__ == "__main__":
    main()
