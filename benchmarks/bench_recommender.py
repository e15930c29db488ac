"""Steps per second of the recommender environments, against baselines measured in the same run.

Baselines: a minimal Gymnasium env (a Box observation and a Discrete action, returning a fixed array: the
cost of the Python/Gymnasium step loop itself) and Gymnasium's CartPole-v1.  Every env is stepped with
pre-sampled actions for ``--seconds`` seconds, resetting when an episode ends; the raw env
(``env.unwrapped``) and the ``gymnasium.make`` version (with the passive checker and order enforcing) are
both measured.  Target: >= 20k steps/s for the raw discrete env on an idle machine.  The rows marked
"mechsim.rollout" play the same actions through :func:`mechsim.rollout.rollout` (the episode loop of the
sample-based learners and the scenarios): their ratio to the hand-written loop on the same env is the loop's
overhead (target: within noise of 1).

Usage: ``python benchmarks/bench_recommender.py [--seconds 2]``
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import gymnasium
import numpy as np

import mechsim  # noqa: F401  (registers the environments)
from mechsim.envs.recommender import RecommenderContinuousEnv, RecommenderEnv
from mechsim.rollout import rollout


class MinimalEnv(gymnasium.Env):
    """The cheapest possible env with the same spaces shape: measures the loop, not the simulator."""

    def __init__(self, obs_dim: int = 126, n_actions: int = 10, horizon: int = 100):
        self.observation_space = gymnasium.spaces.Box(-1.0, 1.0, (obs_dim,), np.float32)
        self.action_space = gymnasium.spaces.Discrete(n_actions)
        self._obs = np.zeros(obs_dim, dtype=np.float32)
        self._horizon = horizon

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        return self._obs.copy(), {}

    def step(self, action):
        self._t += 1
        return self._obs.copy(), 1.0, False, self._t >= self._horizon, {"cost": 0.0}


def steps_per_second(env, seconds: float, seed: int = 0) -> tuple[float, float]:
    """(steps per wall-clock second, steps per CPU second of this process)."""
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(1024)]
    env.reset(seed=seed)
    n = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    deadline = start + seconds
    while True:
        for _ in range(256):
            _, _, terminated, truncated, _ = env.step(actions[n & 1023])
            n += 1
            if terminated or truncated:
                env.reset()
        if time.perf_counter() >= deadline:
            break
    return n / (time.perf_counter() - start), n / max(time.process_time() - cpu_start, 1e-9)


def rollout_steps_per_second(env, seconds: float, seed: int = 0) -> tuple[float, float]:
    """As :func:`steps_per_second`, with the episodes played by :func:`mechsim.rollout.rollout`."""
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(1024)]
    counter = itertools.count()

    def choose(env, obs):
        return actions[next(counter) & 1023]

    n = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        n += rollout(env, choose, 4, seeds=None if n else seed).n_steps
    return n / (time.perf_counter() - start), n / max(time.process_time() - cpu_start, 1e-9)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    cases = [
        ("baseline: minimal env", MinimalEnv()),
        ("baseline: CartPole-v1 (raw)", gymnasium.make("CartPole-v1").unwrapped),
        ("Recommender-v0 (raw)", RecommenderEnv()),
        ("Recommender-v0 (gymnasium.make)", gymnasium.make("mechsim/Recommender-v0")),
        ("RecommenderContinuous-v0 (raw)", RecommenderContinuousEnv()),
        ("RecommenderContinuous-v0 (gymnasium.make)", gymnasium.make("mechsim/RecommenderContinuous-v0")),
    ]
    rows = []
    for name, env in cases:
        wall, cpu = steps_per_second(env, args.seconds)
        rows.append({"env": name, "steps_per_s": wall, "steps_per_cpu_s": cpu})
    for name, env in (("baseline: minimal env, mechsim.rollout", MinimalEnv()),
                      ("Recommender-v0 (raw), mechsim.rollout", RecommenderEnv())):
        wall, cpu = rollout_steps_per_second(env, args.seconds)
        rows.append({"env": name, "steps_per_s": wall, "steps_per_cpu_s": cpu})
    minimal = rows[0]["steps_per_s"]
    cartpole = rows[1]["steps_per_s"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"recommender env throughput ({args.seconds:g} s per env; 1-min load average {load:.2f})")
    print("(steps per CPU second of this process are less sensitive to other load than wall-clock rates)")
    print(f"{'env':44s} {'steps/s':>10s} {'steps/CPU s':>12s} {'/ minimal':>10s} {'/ CartPole':>11s}")
    for r in rows:
        print(f"{r['env']:44s} {r['steps_per_s']:10.0f} {r['steps_per_cpu_s']:12.0f} "
              f"{r['steps_per_s'] / minimal:10.3f} {r['steps_per_s'] / cartpole:11.3f}")
    return rows


if __name__ == "__main__":
    main()
