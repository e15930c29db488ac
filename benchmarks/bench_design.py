"""Build, compile and solve times of the cvxpy design programs, against baselines measured in the same run.

1. ``auction_program`` (one sparse matrix constraint per family) against the same LP written the way a first
   cvxpy model is usually written, one scalar constraint per incentive row (loop-built); both are solved by
   HiGHS and must give the same revenue.  Target: 3 bidders x 10 values (1,000 profiles), BIC, compile +
   solve under 2 s; the ratio column shows what vectorising saves.
2. ``hiring_program(...).solve()`` against the direct HiGHS path ``optimal_mechanism`` on the 3.3.3.3 and
   4.3.3.2 instances: total time (build + compile + solve) within 3x of the direct path, same value.

cvxpy's compilation time and the solver's own time are reported separately.

Usage: ``python benchmarks/bench_design.py [--quick]``
"""

from __future__ import annotations

import argparse
import time

import cvxpy as cp
import numpy as np

from mechsim.auctions import FiniteAuction, myerson_revenue
from mechsim.solvers._highs import quiet_highs
from mechsim.solvers.design import auction_program


def loop_built_auction_revenue(auction: FiniteAuction) -> tuple[float, float, float]:
    """The BIC auction LP with one cvxpy constraint per scalar row: (revenue, compile s, solve s)."""
    model = auction.model()
    P, O, n = model.n_profiles, model.n_outcomes, model.n_agents
    q = cp.Variable((P, O))
    p = cp.Variable((P, n))
    f = model.prior.ravel()
    profiles = np.indices(model.n_types).reshape(n, -1).T
    cons = [q >= 0, cp.sum(q, axis=1) == 1]
    for i in range(n):
        K = model.n_types[i]
        u = model.valuations[i]
        marg = model.marginal(i)

        def interim(s, report, i=i, u=u, marg=marg):
            rows = np.flatnonzero(profiles[:, i] == s)
            total = 0
            for r in rows:
                rep = profiles[r].copy()
                rep[i] = report
                j = int(np.ravel_multi_index(tuple(rep), model.n_types))
                w = f[r] / marg[s]
                total = total + w * (q[j] @ u[:, s] - p[j, i])
            return total

        for s in range(K):
            truth = interim(s, s)
            cons.append(truth >= 0)
            for s2 in range(K):
                if s2 != s:
                    cons.append(truth >= interim(s, s2))
    prob = cp.Problem(cp.Maximize(f @ cp.sum(p, axis=1)), cons)
    prob.solve(solver="HIGHS")
    return float(prob.value), float(prob.compilation_time), float(prob.solver_stats.solve_time)


def bench_auctions(quick: bool) -> None:
    print("1. auction programs (BIC revenue): vectorised vs loop-built, HiGHS, same run")
    print(f"{'bidders x values':>17} {'profiles':>8} {'build':>7} {'compile':>8} {'solve':>7} {'total':>7} "
          f"{'loop compile':>12} {'loop solve':>10} {'compile ratio':>13} {'|Δrevenue|':>10}")
    sizes = [(2, 6), (3, 6)] if quick else [(2, 10), (3, 6), (3, 10)]
    rng = np.random.default_rng(0)
    for n, K in sizes:
        auction = FiniteAuction(np.arange(1.0, K + 1), rng.dirichlet(np.ones(K)), n_bidders=n)
        start = time.perf_counter()
        program = auction_program(auction)
        build = time.perf_counter() - start
        res = program.solve()
        total = time.perf_counter() - start
        assert abs(res.value - myerson_revenue(auction)) <= 1e-7 * max(1.0, res.value)
        if n * K <= 20 or not quick:
            loop_value, loop_compile, loop_solve = loop_built_auction_revenue(auction)
        else:
            loop_value, loop_compile, loop_solve = res.value, float("nan"), float("nan")
        print(f"{f'{n} x {K}':>17} {K ** n:>8} {build:7.3f} {res.compile_time:8.3f} {res.solve_time:7.3f} "
              f"{total:7.3f} {loop_compile:12.3f} {loop_solve:10.3f} {loop_compile / res.compile_time:13.1f} "
              f"{abs(loop_value - res.value):10.2g}")


def bench_hiring(quick: bool) -> None:
    try:
        from mechsim.solvers.design import hiring_program
    except (ImportError, AttributeError):
        print("2. hiring_program: not available in this version")
        return
    from mechsim.hiring import HiringInstance
    from mechsim.solvers.hiring_lp import optimal_mechanism

    print("\n2. hiring_program (cvxpy) vs optimal_mechanism (direct HiGHS), same instance, same run")
    print(f"{'agents.efforts.signals.states':>30} {'direct':>8} {'program':>8} {'compile':>8} {'solve':>7} "
          f"{'ratio':>6} {'|Δvalue|':>9}")
    sizes = [(2, 2, 2, 2), (3, 3, 3, 3)] if quick else [(3, 3, 3, 3), (4, 3, 3, 2)]
    for n, b, s, t in sizes:
        inst = HiringInstance.random(n, b, s, t, t, correlation=0.5, seed=1)
        start = time.perf_counter()
        direct = optimal_mechanism(inst)
        t_direct = time.perf_counter() - start
        start = time.perf_counter()
        res = hiring_program(inst).solve()
        t_prog = time.perf_counter() - start
        print(f"{f'{n}.{b}.{s}.{t}':>30} {t_direct:8.3f} {t_prog:8.3f} {res.compile_time:8.3f} {res.solve_time:7.3f} "
              f"{t_prog / t_direct:6.2f} {abs(res.value - direct.value):9.2g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    quiet_highs()
    bench_auctions(args.quick)
    bench_hiring(args.quick)


if __name__ == "__main__":
    main()
