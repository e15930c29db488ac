"""Benchmark of mechsim/Auction-v0 and of the batched path it runs on (mechsim.auctions.RepeatedAuction).

Run: ``python benchmarks/bench_auction_env.py [--quick]``.

1. Environment throughput.  Bidder-steps per second (steps x bidders) of the native parallel loop for 2 and 5
   bidders, discrete and box bids, with random actions drawn beforehand (the environment's own cost) and with
   ``action_space(agent).sample()`` in the loop (what a random policy costs through Gymnasium).  Baselines
   measured in the same run: a do-nothing ParallelEnv with the same agents (the cost of the PettingZoo dict
   protocol itself) and the target of 100k bidder-steps/s.  Then turns per second of the AEC view under
   ``pettingzoo.test.performance_benchmark`` (5 s), against the do-nothing env through ``parallel_to_aec``.
2. Batched path.  Auctions per second of ``RepeatedAuction.play`` (and of ``sample_values`` + ``play``) on
   batches of 10^5 rounds, for every format, against a plain Python loop of the same rules on the same bids
   (checked to give the same outcomes) and against the environment's one-round-per-step path.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import re
import time

import numpy as np
from bench_hiring import steps_per_second  # the same loop as Hiring-v0's benchmark
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.test import performance_benchmark
from pettingzoo.utils import parallel_to_aec
from pettingzoo.utils.wrappers import OrderEnforcingWrapper

from mechsim.auctions import FORMATS, RepeatedAuction
from mechsim.envs import auction as auction_env

TARGET = 100_000  # bidder-steps per second


class NullParallelEnv(ParallelEnv):
    """``n`` bidders, the same spaces as Auction-v0, a constant observation: the floor cost of a step."""

    metadata = {"name": "null_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, n: int, action_space, max_cycles: int = 10**9):
        self.render_mode = None
        self.possible_agents = [f"bidder_{i}" for i in range(n)]
        self._obs = np.zeros(1, dtype=np.float32)
        self._obs_space = spaces.Box(0.0, 1.0, (1,), np.float32)
        self._act_space = action_space
        self.max_cycles = max_cycles

    def observation_space(self, agent):
        return self._obs_space

    def action_space(self, agent):
        return self._act_space

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self._t = 0
        return {a: self._obs for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        self._t += 1
        done = self._t >= self.max_cycles
        agents = self.agents
        out = ({a: self._obs for a in agents}, dict.fromkeys(agents, 0.0), dict.fromkeys(agents, False),
               dict.fromkeys(agents, done), {a: {} for a in agents})
        if done:
            self.agents = []
        return out


def _action_pool(env, size: int = 1024):
    """Random actions drawn beforehand, cycled through: the loop then measures the environment alone."""
    for agent in env.possible_agents:
        env.action_space(agent).seed(1)
    pool = [{a: env.action_space(a).sample() for a in env.possible_agents} for _ in range(size)]
    counter = iter(range(10**18))
    return lambda e: pool[next(counter) % size]


def _sampled(e):
    return {a: e.action_space(a).sample() for a in e.agents}


def bench_env(duration: float, aec: bool) -> None:
    print(f"Environment throughput (best of 3 x {duration / 3:.2g} s per measurement; bidder-steps/s = steps/s x "
          "bidders)")
    header = f"  {'bidders':>7} {'bids':>8} {'actions':>8} {'Auction-v0':>12} {'null env':>12} {'ratio':>6} " \
             f"{'/target':>7}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for n in (2, 5):
        for bid_space in ("discrete", "box"):
            env = auction_env.parallel_env(n_bidders=n, bid_space=bid_space, max_cycles=10**9)
            null = NullParallelEnv(n, env.action_space("bidder_0"))
            for label, make_fn in (("drawn", _action_pool), ("sample()", lambda e: _sampled)):
                # Best of three short runs, alternating with the baseline: the machine is shared.
                ours = floor = 0.0
                for _ in range(3):
                    ours = max(ours, n * steps_per_second(env, make_fn(env), duration / 3))
                    floor = max(floor, n * steps_per_second(null, make_fn(null), duration / 3))
                print(f"  {n:>7} {bid_space:>8} {label:>8} {ours:>12,.0f} {floor:>12,.0f} {ours / floor:>6.2f} "
                      f"{ours / TARGET:>7.2f}")
    print("  drawn: random actions drawn beforehand; sample(): action_space(agent).sample() in the loop;\n"
          "  ratio: Auction-v0 / the do-nothing ParallelEnv with the same agents and actions; /target: over "
          f"{TARGET:,} bidder-steps/s")
    if aec:
        turns = {}
        for name, env in (("null ParallelEnv via parallel_to_aec", OrderEnforcingWrapper(parallel_to_aec(
                NullParallelEnv(2, spaces.Discrete(21), 200)))),
                          ("Auction-v0 AEC view (mechsim.envs.auction.env)", auction_env.env(max_cycles=200))):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                performance_benchmark(env)
            turns[name] = float(re.search(r"([\d.]+) turns per second", buffer.getvalue()).group(1))
            print(f"  {name:<48} {turns[name]:>8,.0f} turns/s (performance_benchmark, 5 s, 2 bidders)")
        first, second = turns.values()
        print(f"  ratio Auction-v0 / null (AEC view): {second / first:.2f}")
    print()


def loop_rules(bids: list, values: list, fmt: str, reserve: float, u: list):
    """The rules one auction at a time in plain Python (the baseline, and a check of the batched path)."""
    n = len(bids)
    eligible = [i for i in range(n) if bids[i] >= reserve]
    payments = [0.0] * n
    if not eligible:
        return -1, payments, [0.0] * n
    top = max(bids[i] for i in eligible)
    winner = max((i for i in eligible if bids[i] == top), key=lambda i: u[i])
    if fmt == "first":
        payments[winner] = bids[winner]
    elif fmt == "second":
        payments[winner] = max(max((bids[j] for j in range(n) if j != winner), default=reserve), reserve)
    else:
        for i in eligible:
            payments[i] = bids[i]
    return winner, payments, [values[i] * (i == winner) - payments[i] for i in range(n)]


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _sample_and_play(auction: RepeatedAuction, bids: np.ndarray) -> None:
    gen = np.random.default_rng(2)
    auction.play(bids, auction.sample_values(bids.shape[0], gen), gen)


def bench_batched(batch: int, loop_batch: int, repeats: int, env_rate: dict) -> None:
    n = 3
    print(f"Batched path ({n} bidders, batches of {batch:,} rounds, best of {repeats}; auctions/s)")
    header = f"  {'format':>8} {'play':>12} {'sample+play':>12} {'Python loop':>12} {'play/loop':>9} {'play/env':>9}"
    print(header)
    print("  " + "-" * (len(header) - 2))
    for fmt in FORMATS:
        auction = RepeatedAuction(n_bidders=n, format=fmt, reserve=0.1, n_bids=11)
        rng = np.random.default_rng(0)
        values = auction.sample_values(batch, rng)
        bids = auction.grid_bids(rng.integers(0, auction.n_bids, (batch, n)))
        play = _best(functools.partial(auction.play, bids, values, 1), repeats)
        both = _best(functools.partial(_sample_and_play, auction, bids), repeats)
        out = auction.play(bids[:loop_batch], values[:loop_batch], 1)
        u = np.random.default_rng(1).random((loop_batch, n)).tolist()
        b_list, v_list = bids[:loop_batch].tolist(), values[:loop_batch].tolist()
        t0 = time.perf_counter()
        results = [loop_rules(b_list[k], v_list[k], fmt, 0.1, u[k]) for k in range(loop_batch)]
        loop = (time.perf_counter() - t0) / loop_batch * batch
        assert [r[0] for r in results] == out.winner.tolist()
        assert np.allclose([r[1] for r in results], out.payments) and np.allclose([r[2] for r in results],
                                                                                   out.utilities)
        rate = batch / play
        print(f"  {fmt:>8} {rate:>12,.0f} {batch / both:>12,.0f} {batch / loop:>12,.0f} {loop / play:>9.1f} "
              f"{rate / env_rate[fmt]:>9.0f}")
    print("  play: RepeatedAuction.play on given bids and values; sample+play: with sample_values; Python loop: the "
          "same rules\n  one auction at a time (outcomes checked equal); play/env: over the environment's rounds/s "
          f"({n} bidders, drawn actions)")
    print()


def env_rounds_per_second(duration: float) -> dict:
    rates = {}
    for fmt in FORMATS:
        env = auction_env.parallel_env(n_bidders=3, format=fmt, reserve=0.1, n_bids=11, max_cycles=10**9)
        rates[fmt] = steps_per_second(env, _action_pool(env), duration)
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short measurements, no AEC benchmark")
    args = parser.parse_args()
    duration = 0.5 if args.quick else 2.0
    bench_env(duration, aec=not args.quick)
    bench_batched(10**5, 10**4 if args.quick else 3 * 10**4, 2 if args.quick else 5,
                  env_rounds_per_second(duration / 2))


if __name__ == "__main__":
    main()
