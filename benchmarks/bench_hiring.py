"""Benchmark of the hiring LP and the Hiring-v0 environment.

Run: ``python benchmarks/bench_hiring.py [--quick]``.

1. LP scaling.  For growing (agents n, efforts B_i, signals S_i, states Theta): variables, rows,
   nonzeros, the time to assemble the sparse matrix, HiGHS's own solve time (``Highs.run``), the
   total time of :func:`mechsim.solvers.hiring_lp.optimal_mechanism` (build, hand-over, solve,
   recovery, audit) and the ratio total / HiGHS solve (target <= 1.5 at the largest sizes).
   Baseline measured in the same run: the same LP through ``scipy.optimize.linprog(method="highs")``
   (the same solver behind scipy's interface).
2. Small LPs.  Times of :func:`~mechsim.solvers.hiring_lp.optimal_uncorrelated_mechanism` (one
   single-agent LP per agent and effort), :func:`~mechsim.solvers.hiring_lp.inducing_scoring_rules` and
   :func:`mechsim.solvers.hiring_online_lp.solve_estimated_mechanism_lp` (the online learner's LP, per-signal
   form); baseline in the same run: the estimated LP through ``scipy.optimize.linprog(method="highs")``.
3. Environment throughput.  Steps per second of the native parallel loop (obedient actions, and
   ``action_space.sample()`` actions), against a do-nothing two-agent ParallelEnv measured in the
   same run (the cost of the PettingZoo dict protocol itself); and turns per second of the AEC view
   under ``pettingzoo.test.performance_benchmark`` (target: >= 50k native steps/s, >= 10k AEC
   turns/s).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import re
import time

import numpy as np
import scipy.sparse as sp
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.test import performance_benchmark
from pettingzoo.utils import parallel_to_aec
from pettingzoo.utils.wrappers import OrderEnforcingWrapper
from scipy.optimize import linprog

from mechsim.envs import hiring as hiring_env
from mechsim.hiring import HiringInstance
from mechsim.solvers.hiring_lp import (
    build_hiring_lp,
    inducing_scoring_rules,
    optimal_mechanism,
    optimal_uncorrelated_mechanism,
)
from mechsim.solvers.hiring_online_lp import solve_estimated_mechanism_lp

LP_SIZES = [  # (n, B_i, S_i, Theta): the reference sizes first, then larger
    (2, 3, 3, 3),
    (3, 3, 3, 3),
    (4, 3, 3, 2),
    (2, 5, 5, 5),
    (3, 4, 4, 3),
    (4, 3, 3, 3),
    (5, 2, 3, 2),
    (4, 3, 4, 2),
]
QUICK_SIZES = LP_SIZES[:3]
#: Sizes of the small LPs: the uncorrelated mechanism, the inducing rules and the online learner's LP.
SMALL_SIZES = [(2, 2, 3, 2), (3, 3, 3, 3), (2, 4, 4, 3)]
#: Reference times for a well-built formulation of these sizes on a 2-core machine (the targets the LP
#: was built against).
REFERENCE_SECONDS = {(2, 3, 3, 3): 0.02, (3, 3, 3, 3): 0.14, (4, 3, 3, 2): 1.2}
LINPROG_MAX_VARIABLES = 60_000  # the scipy baseline is skipped above this size (it takes minutes)


def linprog_baseline(lp) -> tuple[float, float]:
    """Seconds and optimum of an assembled hiring LP through ``scipy.optimize.linprog(method="highs")``."""
    finite_up = np.isfinite(lp.row_upper)
    finite_lo = np.isfinite(lp.row_lower) & (lp.row_lower != lp.row_upper)
    eq = lp.row_lower == lp.row_upper
    A = lp.matrix
    A_ub = sp.vstack([A[finite_up & ~eq], -A[finite_lo]]).tocsr()
    b_ub = np.concatenate([lp.row_upper[finite_up & ~eq], -lp.row_lower[finite_lo]])
    t0 = time.perf_counter()
    res = linprog(lp.cost, A_ub=A_ub, b_ub=b_ub, A_eq=A[eq], b_eq=lp.row_lower[eq],
                  bounds=np.stack([lp.col_lower, lp.col_upper], axis=1), method="highs")
    elapsed = time.perf_counter() - t0
    assert res.status == 0, res.message
    return elapsed, -res.fun


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_small_lps(sizes, repeats: int) -> None:
    print("Small LPs (best of %d; times in seconds; costs x0.25, correlation 0.6)" % repeats)
    header = (f"{'n':>2} {'B':>2} {'S':>2} {'T':>2} {'uncorr':>7} {'induce':>7} {'est LP':>7} {'linprog':>8} "
              f"{'lp/est':>6}")
    print(header)
    print("-" * len(header))
    for n, B, S, T in sizes:
        inst = HiringInstance.random(n, B, S, T, 2, correlation=0.6, seed=1).scale_costs(0.25)
        C = [inst.cost_differences(i) for i in range(n)]
        tau = [np.zeros((b, s)) for b, s in zip(inst.n_efforts, inst.n_signals)]
        unc = _best(functools.partial(optimal_uncorrelated_mechanism, inst), repeats)
        ind = _best(functools.partial(inducing_scoring_rules, inst), repeats)
        est = _best(functools.partial(solve_estimated_mechanism_lp, inst.joint, C, inst.utility, inst.payment_cap,
                                      truthful_margins=tau), repeats)
        lp = build_hiring_lp(inst.joint, C, inst.utility, inst.payment_cap, truthful_margins=tau)
        base = min(linprog_baseline(lp)[0] for _ in range(repeats))
        print(f"{n:>2} {B:>2} {S:>2} {T:>2} {unc:>7.4f} {ind:>7.4f} {est:>7.4f} {base:>8.4f} {base / est:>6.2f}")
    print("uncorr: optimal_uncorrelated_mechanism; induce: inducing_scoring_rules; est LP: "
          "solve_estimated_mechanism_lp (per-signal form);\nlinprog: the same estimated LP through "
          "scipy.optimize.linprog; lp/est: their ratio")
    print()


def bench_lp(sizes, repeats: int) -> None:
    print("LP scaling (best of %d; times in seconds)" % repeats)
    header = (
        f"{'n':>2} {'B':>2} {'S':>2} {'T':>2} {'vars':>8} {'rows':>8} {'nnz':>9} {'build':>7} "
        f"{'highs':>7} {'total':>7} {'tot/hi':>6} {'linprog':>8} {'lp/tot':>6} {'ref':>5}"
    )
    print(header)
    print("-" * len(header))
    for n, B, S, T in sizes:
        inst = HiringInstance.random(n, B, S, T, 3, correlation=0.5, seed=1)
        best = None
        for _ in range(repeats):
            t0 = time.perf_counter()
            _, info = optimal_mechanism(inst, return_info=True)
            total = time.perf_counter() - t0
            if best is None or total < best[0]:
                best = (total, info)
        total, info = best
        baseline = float("nan")
        if info.n_variables <= LINPROG_MAX_VARIABLES:
            lp = build_hiring_lp(
                inst.joint,
                [inst.cost_differences(i) for i in range(n)],
                inst.utility,
                inst.payment_cap,
            )
            baseline, value = linprog_baseline(lp)
            assert abs(value - info.value) < 1e-7, (value, info.value)
        print(
            f"{n:>2} {B:>2} {S:>2} {T:>2} {info.n_variables:>8,} {info.n_constraints:>8,} "
            f"{info.n_nonzeros:>9,} {info.build_time:>7.3f} {info.solve_time:>7.3f} {total:>7.3f} "
            f"{total / info.solve_time:>6.2f} {baseline:>8.3f} {baseline / total:>6.2f} "
            f"{REFERENCE_SECONDS.get((n, B, S, T), float('nan')):>5.2f}"
        )
    print(
        "tot/hi: total time of optimal_mechanism / HiGHS's own solve time; lp/tot: the same LP "
        "through scipy.optimize.linprog / our total;\nref: the reference time"
    )
    print()


class NullParallelEnv(ParallelEnv):
    """Two agents, Discrete(2) actions, constant observations: the floor cost of a step."""

    metadata = {"name": "null_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, max_cycles=10**9):
        self.render_mode = None
        self.possible_agents = ["agent_0", "agent_1"]
        self._obs = np.zeros(1, dtype=np.int64)
        self._space = spaces.Discrete(2)
        self.max_cycles = max_cycles

    def observation_space(self, agent):
        return self._space

    def action_space(self, agent):
        return self._space

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self._t = 0
        return {a: self._obs for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        self._t += 1
        done = self._t >= self.max_cycles
        obs = {a: self._obs for a in self.agents}
        out = (
            obs,
            dict.fromkeys(self.agents, 0.0),
            dict.fromkeys(self.agents, False),
            dict.fromkeys(self.agents, done),
            {a: {} for a in self.agents},
        )
        if done:
            self.agents = []
        return out


def steps_per_second(env, actions_fn, duration: float) -> float:
    env.reset(seed=0)
    steps, t0 = 0, time.perf_counter()
    while True:
        for _ in range(1000):
            env.step(actions_fn(env))
        steps += 1000
        elapsed = time.perf_counter() - t0
        if elapsed > duration:
            return steps / elapsed


def bench_env(duration: float) -> None:
    print(f"Environment throughput ({duration:g} s per measurement)")
    fixed = {"agent_0": np.array([1, 0]), "agent_1": np.array([1, 0])}
    hiring = hiring_env.parallel_env(max_cycles=10**9)
    null = NullParallelEnv()
    null_fixed = {"agent_0": 0, "agent_1": 0}
    rows = [
        ("null ParallelEnv, fixed actions", steps_per_second(null, lambda e: null_fixed, duration)),
        ("Hiring-v0 parallel, fixed actions", steps_per_second(hiring, lambda e: fixed, duration)),
        (
            "null ParallelEnv, sampled actions",
            steps_per_second(
                null, lambda e: {a: e.action_space(a).sample() for a in e.agents}, duration
            ),
        ),
        (
            "Hiring-v0 parallel, sampled actions",
            steps_per_second(
                hiring, lambda e: {a: e.action_space(a).sample() for a in e.agents}, duration
            ),
        ),
    ]
    for name, rate in rows:
        print(f"  {name:<38} {rate:>10,.0f} steps/s")
    print(f"  ratio Hiring-v0 / null (fixed actions):   {rows[1][1] / rows[0][1]:.2f}")
    print(f"  ratio Hiring-v0 / null (sampled actions): {rows[3][1] / rows[2][1]:.2f}")
    aec = {
        "null ParallelEnv via parallel_to_aec": OrderEnforcingWrapper(
            parallel_to_aec(NullParallelEnv(200))
        ),
        "Hiring-v0 AEC view (mechsim.envs.hiring.env)": hiring_env.env(max_cycles=200),
    }
    turns = {}
    for name, env in aec.items():
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            performance_benchmark(env)
        turns[name] = float(re.search(r"([\d.]+) turns per second", buffer.getvalue()).group(1))
        print(f"  {name:<46} {turns[name]:>8,.0f} turns/s (performance_benchmark, 5 s)")
    first, second = turns.values()
    print(f"  ratio Hiring-v0 / null (AEC view):        {second / first:.2f}")
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short measurements")
    args = parser.parse_args()
    optimal_mechanism(
        HiringInstance.random(2, 2, 2, 2, 2, seed=0)
    )  # warm up HiGHS (banner, imports)
    bench_lp(QUICK_SIZES if args.quick else LP_SIZES, repeats=1 if args.quick else 2)
    bench_small_lps(SMALL_SIZES[:1] if args.quick else SMALL_SIZES, repeats=2 if args.quick else 5)
    bench_env(0.5 if args.quick else 2.0)


if __name__ == "__main__":
    main()
