"""Benchmark: the hiring LP with one payment cap per agent against the same LP with one common cap.

Run: ``python benchmarks/bench_hiring_caps.py [--quick]``.

For each size (agents n, efforts B_i, signals S_i, states Theta) the instance ``HiringInstance.random(...,
seed=1).scale_costs(0.25)`` is solved by :func:`mechsim.solvers.hiring_lp.optimal_mechanism` with its common cap
M = 1 (the baseline, measured in the same run) and with caps ``M_i`` spread over ``[0.2, 1]`` (agent 0 gets the
smallest); the table prints both times (best of the repeats), their ratio (target: about 1, the per-agent caps
only change the coefficients of the cap rows and bounds) and both optimal values (the per-agent one is never
larger, every cap being at most the common one).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mechsim.hiring import HiringInstance
from mechsim.solvers.hiring_lp import optimal_mechanism

SIZES = [(2, 3, 3, 3), (3, 3, 3, 3), (4, 3, 3, 2), (3, 4, 4, 3)]
QUICK_SIZES = SIZES[:2]


def _best(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(sizes, repeats: int) -> None:
    print(f"optimal_mechanism: per-agent caps against one common cap (best of {repeats}; seconds)")
    header = (f"{'n':>2} {'B':>2} {'S':>2} {'T':>2} {'common':>8} {'per-agent':>9} {'ratio':>6} {'value M':>8} "
              f"{'value M_i':>9}")
    print(header)
    print("-" * len(header))
    for n, B, S, T in sizes:
        common = HiringInstance.random(n, B, S, T, 2, correlation=0.6, seed=1).scale_costs(0.25)
        caps = np.linspace(0.2, 1.0, n)
        capped = HiringInstance(common.prior, common.costs, common.signal_law, common.utility, caps)
        optimal_mechanism(common)                     # warm-up (imports, HiGHS banner)
        t_common, m_common = _best(lambda inst=common: optimal_mechanism(inst), repeats)
        t_caps, m_caps = _best(lambda inst=capped: optimal_mechanism(inst), repeats)
        print(f"{n:>2} {B:>2} {S:>2} {T:>2} {t_common:>8.4f} {t_caps:>9.4f} {t_caps / t_common:>6.2f} "
              f"{m_common.value:>8.5f} {m_caps.value:>9.5f}")
    print("common: cap 1 for everybody; per-agent: caps linspace(0.2, 1, n); ratio: per-agent / common")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    args = parser.parse_args()
    main(QUICK_SIZES if args.quick else SIZES, repeats=1 if args.quick else 3)
