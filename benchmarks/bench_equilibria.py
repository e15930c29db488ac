"""Build, compile and solve times of ``equilibrium_program`` against scipy's ``linprog`` on the same LP, same run.

For random games of about 10^3, 10^4 and 10^5 profiles (3, 4 and 5 players with 10 actions each) and both
equilibrium notions, the welfare-maximising equilibrium is computed twice:

1. ``equilibrium_program(u, kind).solve()`` (cvxpy + HiGHS through mechsim's adapter): build time, cvxpy's
   compilation time and HiGHS's own time are printed separately;
2. the same LP assembled here independently (one COO matrix from index arithmetic on flat profile indices,
   no cvxpy) and solved by ``scipy.optimize.linprog(method="highs")``.

The ratio column is (program build + compile + solve) / (linprog build + solve); both must reach the same
welfare.  Target: 10^5 profiles in seconds.  Timings share the machine with whatever else runs: compare
ratios, not absolute seconds, across runs.

Usage: ``python benchmarks/bench_equilibria.py [--quick]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from mechsim.equilibria import cce_gap, ce_gap, random_game
from mechsim.solvers._highs import quiet_highs
from mechsim.solvers.design import equilibrium_program


def linprog_rows(u: np.ndarray, kind: str) -> sp.csr_array:
    """The incentive rows from flat-index arithmetic: profile p with a_i = a deviates to p + (a' - a) stride_i."""
    n, shape = u.shape[0], u.shape[1:]
    P = int(np.prod(shape))
    flat = np.arange(P)
    blocks = []
    for i in range(n):
        A = shape[i]
        if A == 1:
            continue
        stride = int(np.prod(shape[i + 1:]))
        own = (flat // stride) % A                                    # a_i of every profile
        ui = u[i].reshape(-1)
        shift = np.arange(1, A)                                       # a' = (a + shift) mod A
        dev_action = (own[:, None] + shift[None, :]) % A              # (P, A - 1)
        deviated = flat[:, None] + (dev_action - own[:, None]) * stride
        gain = ui[deviated] - ui[:, None]
        cols = np.broadcast_to(flat[:, None], gain.shape)
        if kind == "correlated":
            rows = own[:, None] * A + dev_action                      # row (a, a') as a * A + a' (a' != a)
            n_rows = A * A
        else:
            rows = dev_action
            n_rows = A
        block = sp.coo_array((gain.ravel(), (rows.ravel(), cols.ravel())), shape=(n_rows, P)).tocsr()
        blocks.append(block)
    return sp.vstack(blocks, format="csr")


def solve_with_linprog(u: np.ndarray, kind: str) -> tuple[float, np.ndarray, float, float]:
    """(welfare, distribution, build seconds, solve seconds) through scipy's linprog."""
    start = time.perf_counter()
    rows = linprog_rows(u, kind)
    P = rows.shape[1]
    c = -u.sum(axis=0).reshape(-1)
    build = time.perf_counter() - start
    start = time.perf_counter()
    res = linprog(c, A_ub=rows, b_ub=np.zeros(rows.shape[0]), A_eq=sp.csr_array(np.ones((1, P))), b_eq=[1.0],
                  bounds=(0, None), method="highs")
    solve = time.perf_counter() - start
    assert res.status == 0, res.message
    return float(-res.fun), res.x.reshape(u.shape[1:]), build, solve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^3 and 10^4 profiles only")
    args = parser.parse_args()
    quiet_highs()
    shapes = [(10,) * 3, (10,) * 4] if args.quick else [(10,) * 3, (10,) * 4, (10,) * 5]
    print("equilibrium_program(u, kind).solve() vs scipy linprog(method='highs') on the same LP, same run")
    print(f"{'game':>14} {'profiles':>8} {'kind':>10} {'rows':>5} {'nonzeros':>9} | {'build':>6} {'compile':>7} "
          f"{'HiGHS':>6} {'total':>6} | {'lp build':>8} {'linprog':>7} {'total':>6} | {'ratio':>5} {'|Δwelfare|':>10} "
          f"{'gap':>8}")
    for shape in shapes:
        u = random_game(shape, seed=0)
        for kind in ("correlated", "coarse"):
            start = time.perf_counter()
            program = equilibrium_program(u, kind)
            build = time.perf_counter() - start
            res = program.solve()
            total = time.perf_counter() - start
            matrix = program.constraints["incentives"][0].args[0].args[0].value
            value, _, lp_build, lp_solve = solve_with_linprog(u, kind)
            lp_total = lp_build + lp_solve
            gap = (ce_gap if kind == "correlated" else cce_gap)(u, res.solution.distribution)
            print(f"{'x'.join(map(str, shape)):>14} {int(np.prod(shape)):>8} {kind:>10} {matrix.shape[0]:>5} "
                  f"{matrix.nnz:>9} | {build:6.2f} {res.compile_time:7.2f} {res.solve_time:6.2f} {total:6.2f} | "
                  f"{lp_build:8.2f} {lp_solve:7.2f} {lp_total:6.2f} | {total / lp_total:5.2f} "
                  f"{abs(res.value - value):10.2g} {gap:8.1e}", flush=True)


if __name__ == "__main__":
    main()
