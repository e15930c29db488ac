"""Benchmark of the CMDP occupancy LP: build + solve time against HiGHS's own solve time.

For sparse CMDPs with S states, A = 10 actions, K = 2 constraints and 5 successors per (s, a) drawn near s
(a banded, local chain, as in models with a fatigue/position state), prints

- ``total``: wall time of ``solve_cmdp`` (assembling the sparse LP, passing it to HiGHS, solving,
  extracting policy/multipliers);
- ``highs``: time inside ``Highs.run()`` alone (the baseline measured in the same run; best of three
  repetitions for S <= 1000);
- ``ratio = total / highs`` (target <= 1.5);
- the same ``total`` through ``scipy.optimize.linprog(method="highs")`` for comparison (smaller sizes);
- ``eval``: one exact evaluation of the optimal policy (reward and both costs) by
  :func:`mechsim.cmdp.evaluate_policy`, i.e. the solvers of :mod:`mechsim.tabular_mdp` (dense LU up to
  ``DENSE_SOLVE_MAX_STATES`` states, BiCGSTAB above), against ``spsolve``: the same three systems
  ``(I - gamma P_pi) V = x_pi`` assembled and solved by ``scipy.sparse.linalg.spsolve`` (sparse LU) in the
  same run, with ``eval / spsolve`` as ratio.

Run: ``python benchmarks/bench_cmdp.py [--max-states N]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from mechsim.cmdp import FiniteCMDP, evaluate_policy
from mechsim.solvers.cmdp_lp import IPM_MIN_VARIABLES, solve_cmdp


def local_cmdp(S: int, A: int = 10, K: int = 2, successors: int = 5, seed: int = 0) -> FiniteCMDP:
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(S * A), successors)
    cols = (np.repeat(np.arange(S), A * successors) + rng.integers(-10, 11, size=S * A * successors)) % S
    P = sp.csr_array((rng.random(S * A * successors), (rows, cols)), shape=(S * A, S))
    P = sp.csr_array(P.multiply(1.0 / P.sum(axis=1)[:, None]))
    m = FiniteCMDP(P, rng.random((S, A)), rng.random((K, S, A)), np.zeros(K), np.full(S, 1.0 / S), 0.95)
    uniform = evaluate_policy(m, np.full((S, A), 1.0 / A)).cost_values
    return m.with_limits(0.97 * uniform)


def _best_of(fn, args, repeat: int):
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - start)
    return best, out


def spsolve_values(m: FiniteCMDP, policy: np.ndarray) -> np.ndarray:
    """Baseline: reward and cost values ``(S, 1 + K)`` by one sparse LU of ``I - gamma P_pi`` (scipy only)."""
    S, A = m.n_states, m.n_actions
    selector = sp.csr_array((policy.ravel(), np.arange(S * A), np.arange(0, S * A + 1, A)), shape=(S, S * A))
    system = (sp.identity(S, format="csc") - m.discount * (selector @ m.transition_matrix)).tocsc()
    rhs = np.einsum("ksa,sa->sk", m.signals(), policy)
    return spla.spsolve(system, rhs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-states", type=int, default=10_000)
    args = parser.parse_args()
    sizes = [s for s in (100, 300, 1000, 3000, 10_000, 30_000) if s <= args.max_states]
    solve_cmdp(local_cmdp(10))  # warm-up: imports, first HiGHS instance
    print(f"{'S x A':>12} {'method':>8} {'total s':>9} {'highs s':>9} {'build s':>9} {'ratio':>6} "
          f"{'linprog s':>10} {'eval s':>8} {'spsolve s':>9} {'ratio':>6} {'value':>12}")
    for S in sizes:
        m = local_cmdp(S)
        # Best of three on small models, where a millisecond of scheduler noise would swamp the ratio.
        total, sol = np.inf, None
        for _ in range(3 if S <= 1000 else 1):
            start = time.perf_counter()
            trial = solve_cmdp(m)
            elapsed = time.perf_counter() - start
            if elapsed < total:
                total, sol = elapsed, trial
        linprog = float("nan")
        if S <= 3000:
            start = time.perf_counter()
            other = solve_cmdp(m, backend="linprog")
            linprog = time.perf_counter() - start
            assert abs(other.value - sol.value) <= 1e-6 * max(1.0, abs(sol.value))
        repeat = 3 if S <= 3000 else 1
        evaluation, ev = _best_of(evaluate_policy, (m, sol.policy), repeat)
        assert abs(ev.value - sol.value) <= 1e-6 * max(1.0, abs(sol.value))
        direct, values = _best_of(spsolve_values, (m, sol.policy), repeat)
        assert np.allclose(values[:, 0], ev.state_values, rtol=1e-8, atol=1e-8)
        method = "ipm" if S * 10 > IPM_MIN_VARIABLES else "simplex"
        print(f"{S:>7} x 10 {method:>8} {total:9.3f} {sol.solve_time:9.3f} {sol.build_time:9.3f} "
              f"{total / sol.solve_time:6.2f} {linprog:10.3f} {evaluation:8.4f} {direct:9.4f} "
              f"{evaluation / direct:6.2f} {sol.value:12.6f}")


if __name__ == "__main__":
    main()
