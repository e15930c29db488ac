"""Rounds per second of learning bidders in repeated auctions: learn_to_bid against a per-round loop.

The baseline, measured in the same run, plays the same game with a plain Python loop over rounds and bidders
through the public interfaces: one learner object per (bidder, value bin) and its ``act()``, the round resolved
by ``RepeatedAuction.play`` on a one-round batch, the full-information utilities of the round from
``bid_utilities`` on a one-round batch, and ``update(...)`` with input validation.  ``learn_to_bid`` pre-draws its
randomness in chunks, keeps Hedge's state stacked across bidders and bins, calls the sequential learners' update
rules directly, and measures outcomes, regrets and bid counts per chunk; its time includes all of that at its 30
default checkpoints.  Printed: rounds per second of both, their ratio, and the wall-clock and CPU seconds
``learn_to_bid`` needs for the whole run (target: seconds for 10^5 rounds of 3 bidders; the CPU column is the
meaningful one on a shared machine).

Usage: ``python benchmarks/bench_bidding.py [--rounds 100000] [--loop-rounds 3000] [--quick]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mechsim.auctions import RepeatedAuction
from mechsim.learners import BIDDING_LEARNERS, Exp3, Hedge, RegretMatching, bid_utilities, learn_to_bid

BINS = 10


def baseline(auction: RepeatedAuction, learner: str, rounds: int, seed: int) -> float:
    """Seconds for ``rounds`` rounds through the public per-round interfaces."""
    n, k = auction.n_bidders, auction.n_bids
    make = {"hedge": Hedge, "exp3": Exp3, "regret_matching": RegretMatching}[learner]
    players = [[make(k, seed=seed + i * BINS + c) for c in range(BINS)] for i in range(n)]
    rng = np.random.default_rng(seed)
    # the utility range of learn_to_bid for values on [0, v_max]: [-top bid, v_max - reserve]
    lo, hi = -float(auction.bids[-1]), auction.value_range[1] - auction.reserve
    start = time.perf_counter()
    for _ in range(rounds):
        values = auction.sample_values(1, rng)
        ctx = np.minimum((values[0] * BINS).astype(int), BINS - 1)
        bids = np.array([[players[i][ctx[i]].act() for i in range(n)]])
        outcome = auction.play(auction.grid_bids(bids), values, rng)
        if learner == "exp3":
            for i in range(n):
                players[i][ctx[i]].update(int(bids[0, i]), 1.0 - (outcome.utilities[0, i] - lo) / (hi - lo))
        else:
            u = (bid_utilities(auction, bids, values)[0] - lo) / (hi - lo)
            for i in range(n):
                players[i][ctx[i]].update(1.0 - u[i] if learner == "hedge" else u[i])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100_000, help="rounds of learn_to_bid")
    parser.add_argument("--loop-rounds", type=int, default=3_000, help="rounds of the per-round baseline")
    parser.add_argument("--quick", action="store_true", help="20k rounds, 1k baseline rounds")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.loop_rounds = 20_000, 1_000
    T, n_loop = args.rounds, args.loop_rounds
    print(f"values uniform on [0, 1], {BINS} value bins, 21 bids; learn_to_bid over {T:,} rounds, per-round "
          f"baseline over {n_loop:,}\n")
    header = (f"{'format':>8s} {'bidders':>7s} {'learner':16s} {'baseline r/s':>13s} {'learn r/s':>10s} "
              f"{'ratio':>7s} {'wall s':>7s} {'cpu s':>6s} {'distance':>9s}")
    print(header)
    print("-" * len(header))
    for fmt in ("first", "all_pay"):
        for n in (3, 5):
            auction = RepeatedAuction(n, fmt, n_bids=21)
            for learner in BIDDING_LEARNERS:
                base = n_loop / baseline(auction, learner, n_loop, seed=1)
                start, cpu = time.perf_counter(), time.process_time()
                run = learn_to_bid(auction, learner, rounds=T, seed=1, n_value_bins=BINS)
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
                fast = T / wall
                print(f"{fmt:>8s} {n:7d} {learner:16s} {base:13,.0f} {fast:10,.0f} {fast / base:7.1f} {wall:7.2f} "
                      f"{cpu:6.2f} {run.distance_to_equilibrium[-1]:9.4f}")


if __name__ == "__main__":
    main()
