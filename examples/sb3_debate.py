"""sb3-contrib MaskablePPO debaters on ``mechsim/Debate-v0``, measured against the exact game values.

Run:  python examples/sb3_debate.py [--steps 60000] [--seed 0]     (needs the ``rl`` extra)

The learner plays ``debater_0`` of the demonstration debate (8 standard-normal features, 4 decisions, a
linear judge, L = 4 reveals, random first mover) through :class:`mechsim.envs.debate_opponent.DebateVsOpponent`, which
exposes the legal reveals to ``MaskablePPO`` through ``action_masks()``.  For each fixed opponent the
learned (greedy) debater is evaluated on held-out games and compared with

- a uniformly random debater (the no-learning baseline),
- the exact best response to that opponent, solved on every game's tree (``info["best_response_value"]``;
  against the exact minimax opponent this is the minimax value of the game, checked against
  :func:`mechsim.solvers.debate.solve_debate` in the tests).

Outcomes are in {-1, 0, 1} for the learner; the best response is the most any policy can get.
About 3-4 minutes on an idle 2-core machine at the defaults.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mechsim.envs.debate_opponent import DebateVsOpponent


def train(opponent: str, steps: int, seed: int):
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    def factory(i):
        def make():
            env = Monitor(DebateVsOpponent(opponent=opponent, compute_value=False))
            env.reset(seed=seed * 1000 + i)
            return env
        return make

    vec = DummyVecEnv([factory(i) for i in range(8)])
    model = MaskablePPO("MlpPolicy", vec, n_steps=128, batch_size=256, n_epochs=10, learning_rate=1e-3,
                        gamma=1.0, gae_lambda=0.95, ent_coef=0.01, seed=seed, verbose=0,
                        policy_kwargs={"net_arch": [128, 128]})
    model.learn(steps)
    return model


def evaluate(opponent: str, choose, games: int, seed: int = 50_000) -> tuple[float, float, float]:
    """Mean outcome, its standard error and the mean exact best-response value over ``games`` games."""
    env = DebateVsOpponent(opponent=opponent)
    rng = np.random.default_rng(seed)
    outcomes, values = [], []
    for k in range(games):
        obs, info = env.reset(seed=seed + k)
        values.append(info["best_response_value"])
        done = False
        while not done:
            obs, r, done, _, info = env.step(choose(env, obs, rng))
        outcomes.append(r)
    return float(np.mean(outcomes)), float(np.std(outcomes) / np.sqrt(games)), float(np.mean(values))


def random_choice(env, obs, rng):
    return int(rng.choice(np.flatnonzero(env.action_masks())))


def masked_choice(model):
    def choose(env, obs, rng):
        action, _ = model.predict(obs, action_masks=env.action_masks(), deterministic=True)
        return int(action)
    return choose


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--games", type=int, default=400)
    parser.add_argument("--opponents", nargs="+", default=["random", "minimax"],
                        choices=["random", "greedy", "minimax"])
    args = parser.parse_args(argv)

    import torch
    torch.set_num_threads(1)

    results = {}
    print(f"{'opponent':9s} {'random debater':>15s} {'MaskablePPO':>16s} {'exact best response':>20s} "
          f"{'train s':>8s}")
    for opponent in args.opponents:
        t0 = time.perf_counter()
        model = train(opponent, args.steps, args.seed)
        seconds = time.perf_counter() - t0
        rand, _, value = evaluate(opponent, random_choice, args.games)
        learned, se, _ = evaluate(opponent, masked_choice(model), args.games)
        results[opponent] = {"random": rand, "learned": learned, "learned_se": se, "best_response": value}
        print(f"{opponent:9s} {rand:15.3f} {learned:9.3f} +- {se:4.3f} {value:20.3f} {seconds:8.0f}")
    print(f"({args.games} held-out games; outcome for the learner in [-1, 1]; {args.steps} training steps each)")
    return results


if __name__ == "__main__":
    main()
