"""Rounds per second of no-regret dynamics in 2- and 3-player games: play_no_regret against a per-round loop.

The baseline, measured in the same run, plays the same dynamics with a plain Python loop over rounds and
players through the learners' public per-round interfaces: every player's ``act()`` (or, for swap_hedge, the
``probabilities`` of its per-action Hedges, stacked, and ``numpy.linalg.solve`` for the stationary distribution),
the reward vectors looked up in the payoff array by the others' actions, and ``update(...)`` with input
validation every round.  ``play_no_regret`` pre-draws its uniforms, keeps the state of Hedge and swap_hedge
stacked across players (numpy) and calls the sequential learners' update rules directly on Python floats; its
time includes the exact CCE/CE gaps, regrets and welfare at its 30 default checkpoints.  Printed: rounds per
second of both, their ratio, and the wall-clock and CPU seconds play_no_regret needs for the whole run
(target: seconds for 10^5 rounds; the CPU column is the meaningful one on a shared machine).

Usage: ``python benchmarks/bench_dynamics.py [--rounds 100000] [--loop-rounds 3000] [--actions 5] [--quick]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mechsim.equilibria import random_game
from mechsim.learners import DYNAMICS_LEARNERS, Exp3, Hedge, RegretMatching, play_no_regret


def baseline(u: np.ndarray, learner: str, rounds: int, seed: int) -> float:
    """Seconds for ``rounds`` rounds of the dynamics through the per-round interfaces."""
    n, shape = u.shape[0], u.shape[1:]
    u01 = (u - u.min()) / (u.max() - u.min())
    rng = np.random.default_rng(seed)
    if learner == "hedge":
        players = [Hedge(k, seed=seed + i) for i, k in enumerate(shape)]
    elif learner == "exp3":
        players = [Exp3(k, seed=seed + i) for i, k in enumerate(shape)]
    elif learner == "swap_hedge":
        players = [[Hedge(k) for _ in range(k)] for k in shape]
    else:
        players = [RegretMatching(k, plus=learner == "regret_matching_plus", seed=seed + i)
                   for i, k in enumerate(shape)]
    start = time.perf_counter()
    for _ in range(rounds):
        if learner == "swap_hedge":
            stationary = []
            for subs in players:
                q = np.array([h.probabilities for h in subs])
                k = q.shape[0]
                system = q.T - np.eye(k)
                system[-1] = 1.0
                p = np.linalg.solve(system, np.eye(k)[-1])
                stationary.append(np.maximum(p, 0.0) / np.maximum(p, 0.0).sum())
            a = tuple(int(rng.choice(len(p), p=p)) for p in stationary)
        else:
            a = tuple(p.act() for p in players)
        for i in range(n):
            index = list(a)
            index[i] = slice(None)
            r = u01[i][tuple(index)]
            if learner == "hedge":
                players[i].update(1.0 - r)
            elif learner == "exp3":
                players[i].update(a[i], 1.0 - r[a[i]])
            elif learner == "swap_hedge":
                for c, h in enumerate(players[i]):
                    h.update(stationary[i][c] * (1.0 - r))
            else:
                players[i].update(r)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100_000, help="rounds of play_no_regret")
    parser.add_argument("--loop-rounds", type=int, default=3_000, help="rounds of the per-round baseline")
    parser.add_argument("--actions", type=int, default=5, help="actions per player")
    parser.add_argument("--quick", action="store_true", help="20k rounds, 1k baseline rounds")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.loop_rounds = 20_000, 1_000
    T, n_loop, K = args.rounds, args.loop_rounds, args.actions
    print(f"{K} actions per player; play_no_regret over {T:,} rounds, per-round baseline over {n_loop:,}\n")
    header = (f"{'players':>7s} {'learner':22s} {'baseline r/s':>13s} {'play r/s':>10s} {'ratio':>7s} "
              f"{'wall s':>7s} {'cpu s':>6s} {'final cce':>10s} {'final ce':>9s}")
    print(header)
    print("-" * len(header))
    for n in (2, 3):
        u = random_game((K,) * n, seed=0)
        for learner in DYNAMICS_LEARNERS:
            base = n_loop / baseline(u, learner, n_loop, seed=1)
            start, cpu = time.perf_counter(), time.process_time()
            run = play_no_regret(u, learner, rounds=T, seed=1)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            fast = T / wall
            print(f"{n:7d} {learner:22s} {base:13,.0f} {fast:10,.0f} {fast / base:7.1f} {wall:7.2f} {cpu:6.2f} "
                  f"{run.cce_gap[-1]:10.2e} {run.ce_gap[-1]:9.2e}")


if __name__ == "__main__":
    main()
