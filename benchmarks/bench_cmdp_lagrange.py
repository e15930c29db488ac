"""Benchmark of the Lagrangian CMDP method against the occupancy LP (HiGHS), measured in the same run.

Models: :func:`mechsim.cmdp.generators.banded_cmdp` (5 successors within 12 states: a local, slowly mixing
chain) and :func:`mechsim.cmdp.generators.random_cmdp` (5 successors spread over all states: well mixing),
``A = 10`` actions, ``gamma = 0.95``, costs correlated with the reward and limits at the uniform policy's
costs, so that the constraints bind.  Sections:

1. ``LP vs lagrange``: wall time of ``solve_cmdp(m)`` with the LP (``method="simplex"`` below
   ``IPM_MIN_VARIABLES`` variables, ``"ipm"`` above, HiGHS's faster choice) and with
   ``method="lagrange"``, each including its verification; ``ratio = LP / lagrange`` (target >= 5 at
   ``10^4 x 10``); ``dvalue`` the relative difference of the values (target <= 1e-6) and ``dlambda`` the
   largest relative difference of the multipliers; ``evals`` the dual evaluations of the Lagrangian method.
   The rows at ``300 .. 3000`` states, and the ``dense`` rows (dense ``(S, A, S)`` random transitions, every
   probability non-zero), locate the crossover used by ``method="auto"`` (``LAGRANGE_MIN_NONZEROS``
   non-zero transition probabilities).
2. ``linear solves``: one exact evaluation ``(I - gamma P_pi) V = r_pi`` of a deterministic policy by
   BiCGSTAB (the method's path), by a sparse LU (``splu``) and by ``spsolve``, to justify the Krylov choice
   (the LU of a well-mixing chain fills in: it is run on random chains only up to 3000 states).
3. ``policy iteration``: the method's specialised policy iteration against
   :func:`mechsim.tabular_mdp.policy_iteration`, both warm-started from the previous optimum along a sequence
   of multipliers (the way the search uses them); the policies must be identical.
4. ``large``: the Lagrangian method alone at ``10^5 x 10`` with ``K = 2`` (target < 60 s), each case in a
   fresh process so that the peak resident memory (``VmHWM``) is its own.

5. ``LP with a time limit``: the occupancy LP (interior point, set up as ``solve_cmdp(method="ipm")`` does)
   at ``10^5 x 10`` with ``K = 2`` under a HiGHS time limit (``--lp-time-limit``, 60 s by default; 0 skips
   it), reporting whether it finished and its time, beside the Lagrangian method on the same model (in
   fresh processes), so that "only the Lagrangian method solves it in a minute" is measured in one run.

Measured (2 cores, one other job; 2026-12-03): banded ``10^4 x 10``, ``K = 2``: ratio 6.3 in the default run
(7.3-7.9 with the LP timed once beside both versions), 31 evaluations, against 4.4-4.7 and 35 before the
matrix-free BiCGSTAB and the smoothed Kelley steps; ``K = 3`` 5.5 (42 evaluations, was 45).  Section 5: the
LP had not finished after 60 s (HiGHS "Time limit reached"), the Lagrangian method took 20 s, 33 evaluations.

``--only MODEL [--states N ...] [--ks K ...]`` runs section 1 alone for one model family (e.g. ``--only
banded --states 10000 --ks 2``, the issue #15 case).  ``--lp-only`` runs section 5 alone.

``--large`` runs only ``10^6 x 10`` with ``K = 1`` (target < 10 minutes), in a fresh process.

Run: ``python benchmarks/bench_cmdp_lagrange.py [--max-states N] [--large] [--lp-time-limit T]``.  Set
``OPENBLAS_NUM_THREADS=1`` on a shared machine: the dense LU of small models otherwise slows down by 7x when
the cores are busy.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from mechsim import tabular_mdp
from mechsim.cmdp import FiniteCMDP, evaluate_policy
from mechsim.cmdp.generators import banded_cmdp, random_cmdp
from mechsim.solvers import cmdp_lagrange, cmdp_lp
from mechsim.solvers.cmdp_lp import IPM_MIN_VARIABLES, solve_cmdp


def dense_cmdp(S: int, A: int, K: int, seed: int = 0) -> FiniteCMDP:
    """Dense random transitions (every probability non-zero), costs correlated with the reward as in the
    generators, limits at the uniform policy's costs."""
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(S), size=(S, A))
    reward = rng.random((S, A))
    costs = 0.5 * reward[None] + 0.5 * rng.random((K, S, A))
    probe = FiniteCMDP(P, reward, costs, np.zeros(K), np.full(S, 1.0 / S), 0.95)
    return probe.with_limits(evaluate_policy(probe, np.full((S, A), 1.0 / A)).cost_values)


GENERATORS = {"banded": banded_cmdp, "random": random_cmdp, "dense": dense_cmdp}


def _peak_gb() -> float:
    """Peak resident memory of this process: ``VmHWM`` of /proc/self/status (the high-water mark of this
    program's memory; ``ru_maxrss`` of a child started by a big parent can report the parent's), else
    ``resource.getrusage``."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9   # KiB on Linux


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def _environment() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"cores {os.cpu_count()}, load average {load:.2f}, OPENBLAS_NUM_THREADS="
            f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")


def compare(sizes, ks, skip_random_lp_above: int, names=("banded", "random"), header: bool = True) -> None:
    if header:
        print(f"{'model':>8} {'S x A':>12} {'K':>2} {'LP':>6} {'LP s':>8} {'lagrange s':>10} {'ratio':>7} "
              f"{'dvalue':>9} {'dlambda':>9} {'evals':>5} {'gap':>9}")
    for name in names:
        make = GENERATORS[name]
        for S in sizes:
            for K in ks:
                m = make(S, 10, K, seed=0)
                how = "ipm" if S * 10 > IPM_MIN_VARIABLES else "simplex"
                t_lag, lag = _timed(solve_cmdp, m, method="lagrange")
                if name == "random" and S > skip_random_lp_above:
                    print(f"{name:>8} {S:>7} x 10 {K:>2} {how:>6} {'skipped':>8} {t_lag:10.3f}")
                    continue
                t_lp, lp = _timed(solve_cmdp, m, method=how)
                dvalue = abs(lag.value - lp.value) / abs(lp.value)
                dlam = float(np.max(np.abs(lag.multipliers - lp.multipliers) / np.maximum(lp.multipliers, 1e-12)))
                print(f"{name:>8} {S:>7} x 10 {K:>2} {how:>6} {t_lp:8.3f} {t_lag:10.3f} {t_lp / t_lag:7.2f} "
                      f"{dvalue:9.1e} {dlam:9.1e} {lag.iterations:>5} {lag.gap:9.1e}", flush=True)


def linear_solves(sizes) -> None:
    print(f"{'model':>8} {'S':>8} {'bicgstab s':>10} {'splu s':>8} {'spsolve s':>9} {'splu/bicg':>9}")
    for name in ("banded", "random"):
        make = GENERATORS[name]
        for S in sizes:
            m = make(S, 10, 1, seed=0)
            rows = np.arange(S)
            actions = np.argmax(m.reward - m.costs[0], axis=1)
            system = (sp.identity(S, format="csr") - m.discount * m.transition_matrix[rows * 10 + actions]).tocsr()
            b = m.reward[rows, actions]
            t_bi, (x, info) = _timed(spla.bicgstab, system, b, x0=b, rtol=1e-13, atol=0.0)
            assert info == 0 and np.abs(system @ x - b).max() <= 1e-10 * np.abs(b).max()
            if name == "random" and S > 3000:
                print(f"{name:>8} {S:>8} {t_bi:10.4f} {'fill-in':>8} {'fill-in':>9}")
                continue
            t_lu, lu = _timed(spla.splu, system.tocsc())
            t_lu_solve, y = _timed(lu.solve, b)
            t_sp, z = _timed(spla.spsolve, system.tocsc(), b)
            assert np.allclose(y, x, rtol=1e-9, atol=1e-9) and np.allclose(z, x, rtol=1e-9, atol=1e-9)
            lu_total = t_lu + t_lu_solve
            print(f"{name:>8} {S:>8} {t_bi:10.4f} {lu_total:8.4f} {t_sp:9.4f} {lu_total / t_bi:9.2f}", flush=True)


def policy_iterations(S: int) -> None:
    print(f"{'model':>8} {'S':>8} {'core s':>8} {'specialised s':>13} {'ratio':>6} {'same':>5}")
    lams = (0.0, 0.9, 0.95, 0.99, 0.995)
    for name in ("banded", "random"):
        make = GENERATORS[name]
        m = make(S, 10, 1, seed=0)
        problem = cmdp_lagrange._problem(m.transition_matrix, m.reward, m.costs, m.limits, m.initial, m.discount)
        signals = [problem.reward - lam * problem.costs[0] for lam in lams]
        start, warm, core = time.perf_counter(), None, []
        for x in signals:
            warm = tabular_mdp.policy_iteration(m.transition_matrix, x / np.abs(x).max(), m.discount,
                                                initial_policy=warm, atol=1e-10, rtol=1e-10, validate=False).policy
            core.append(warm)
        t_core = time.perf_counter() - start
        chains = cmdp_lagrange._Chains(problem, cmdp_lagrange._Counters())
        start = time.perf_counter()
        mine = [chains.best_response(x) for x in signals]
        t_mine = time.perf_counter() - start
        same = all(np.array_equal(a, b) for a, b in zip(core, mine))
        print(f"{name:>8} {S:>8} {t_core:8.3f} {t_mine:13.3f} {t_core / t_mine:6.2f} {str(same):>5}", flush=True)


def _case(name: str, S: int, K: int) -> None:
    t_build, m = _timed(GENERATORS[name], S, 10, K, seed=0)
    t_lag, lag = _timed(solve_cmdp, m, method="lagrange")
    print(f"{name:>8} {S:>9} x 10 {K:>2} {t_build:8.1f} {t_lag:10.1f} {lag.solve_time:8.1f} {lag.iterations:>5} "
          f"{lag.value:12.6f} {lag.gap:9.1e} {_peak_gb():8.2f}", flush=True)


def _lp_case(name: str, S: int, K: int, time_limit: float) -> None:
    """The occupancy LP of one model by HiGHS's interior point, as ``solve_cmdp(method="ipm")`` sets it up
    (scaled rows, the same tolerances), stopped after ``time_limit`` seconds of HiGHS time."""
    t_build, m = _timed(GENERATORS[name], S, 10, K, seed=0)
    t_assemble, scaled = _timed(cmdp_lp._scaled, m)
    model = cmdp_lp._highs_model(scaled.lp, method="ipm")
    model.set_options({"time_limit": float(time_limit)})
    t_run, res = _timed(model.run)
    verdict = "optimal" if res.optimal else "not finished"
    value = res.value * -scaled.reward_scale if res.optimal else float("nan")
    print(f"{name:>8} {S:>9} x 10 {K:>2} {'LP ipm':>10} {t_assemble:8.1f} {t_run:8.1f} {time_limit:7.0f} "
          f"{verdict:>13} {res.status!s:>22} {value:12.6f} {_peak_gb():8.2f}", flush=True)


def lp_time_limit(S: int, K: int, time_limit: float, name: str = "banded") -> None:
    """Section 5: the LP with a time limit beside the Lagrangian method on the same model, each in a fresh
    process (their peak memories are their own)."""
    print(f"{'model':>8} {'S x A':>14} {'K':>2} {'method':>10} {'build s':>8} {'solve s':>8} {'limit s':>7} "
          f"{'verdict':>13} {'HiGHS status':>22} {'value':>12} {'peak GB':>8}", flush=True)
    subprocess.run([sys.executable, __file__, "--lp-case", name, str(S), str(K), str(time_limit)], check=True)
    large(S, K, names=(name,))


def large(S: int, K: int, names=("banded", "random")) -> None:
    print(f"{'model':>8} {'S x A':>14} {'K':>2} {'build s':>8} {'lagrange s':>10} {'solve s':>8} {'evals':>5} "
          f"{'value':>12} {'gap':>9} {'peak GB':>8}", flush=True)
    for name in names:   # a fresh process each: the peak resident memory is the case's own
        subprocess.run([sys.executable, __file__, "--case", name, str(S), str(K)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-states", type=int, default=10_000)
    parser.add_argument("--large", action="store_true", help="only the 10^6 x 10, K = 1 case")
    parser.add_argument("--lp-only", action="store_true", help="only section 5 (LP with a time limit)")
    parser.add_argument("--only", choices=sorted(GENERATORS), help="section 1 only, for this model family")
    parser.add_argument("--states", type=int, nargs="+", help="with --only: these sizes (default: up to "
                        "--max-states)")
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 2, 3], help="with --only: these K")
    parser.add_argument("--lp-time-limit", type=float, default=60.0,
                        help="HiGHS time limit of the LP at 10^5 x 10, K = 2 (section 5; 0 skips it)")
    parser.add_argument("--lp-case", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--case", nargs=3, metavar=("MODEL", "S", "K"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.lp_case:
        _lp_case(args.lp_case[0], int(args.lp_case[1]), int(args.lp_case[2]), float(args.lp_case[3]))
        return
    if args.case:
        _case(args.case[0], int(args.case[1]), int(args.case[2]))
        return
    print(_environment())
    solve_cmdp(banded_cmdp(20, 3, 1, bandwidth=3, seed=0))     # warm-up: imports, first HiGHS instance
    if args.large:
        large(1_000_000, 1, names=("banded",))
        return
    if args.lp_only:
        lp_time_limit(100_000, 2, args.lp_time_limit or 60.0)
        return
    if args.only:
        sizes = args.states or [s for s in (300, 1000, 3000, 10_000) if s <= args.max_states]
        compare(sizes, args.ks, skip_random_lp_above=10 ** 9, names=(args.only,))
        return
    print("\nLP vs lagrange")
    sizes = [s for s in (300, 1000, 3000, 10_000) if s <= args.max_states]
    compare(sizes, (1, 2, 3), skip_random_lp_above=3000)
    compare([100, 200, 400], (2,), skip_random_lp_above=0, names=("dense",), header=False)
    if args.max_states >= 10_000:
        # One random LP at 10^4 (minutes: the interior point's factorisation fills in on a well-mixing chain).
        compare([10_000], (2,), skip_random_lp_above=10_000, names=("random",), header=False)
    print("\nlinear solves (one exact policy evaluation)")
    linear_solves([s for s in (1000, 10_000, 100_000) if s <= 10 * args.max_states])
    print("\npolicy iteration along multipliers 0, 0.9, 0.95, 0.99, 0.995 (scaled units)")
    policy_iterations(min(args.max_states, 10_000))
    print("\nlarge")
    large(100_000, 2)
    if args.lp_time_limit > 0:
        print(f"\nLP with a time limit ({args.lp_time_limit:g} s of HiGHS) beside lagrange, 10^5 x 10, K = 2")
        lp_time_limit(100_000, 2, args.lp_time_limit)


if __name__ == "__main__":
    main()
