"""Benchmark: online rounds per second of the hiring mechanism learner.

``simulate_online`` simulates each stationary batch of rounds as one multinomial draw of (reports, state)
counts, which has exactly the law of the rounds played one by one.  The baseline measured in the same run
plays rounds one at a time (draw the state and signals, apply the agents' reporting maps, count), which is
what a naive simulation of the same phases would do.  Printed: rounds per second of both and their ratio.

Run: ``python benchmarks/bench_hiring_online.py``
"""

from __future__ import annotations

import time

import numpy as np

from mechsim.hiring import simulate_online
from mechsim.hiring.online_sim import best_uncorrelated_response
from mechsim.learners.hiring_online import learnable_instances
from mechsim.solvers.hiring_lp import inducing_scoring_rules, optimal_mechanism


def _instance():
    _, inst = learnable_instances(1)[0]
    return inst, inducing_scoring_rules(inst), optimal_mechanism(inst).value


def per_round_reference(inst, rules, n_rounds: int, seed: int = 0) -> float:
    """Rounds per second when every round of the estimation phase is simulated on its own."""
    rng = np.random.default_rng(seed)
    profiles = list(np.ndindex(*inst.n_efforts))
    per_profile = n_rounds // len(profiles)
    start = time.perf_counter()
    for b in profiles:
        posted = rules.scoring_rules(b)
        maps = [best_uncorrelated_response(inst.own_marginal(i) * inst.prior, inst.costs[i], posted[i],
                                           b[i])[1] for i in range(inst.n_agents)]
        law = inst.joint[b]
        flat = law.ravel() / law.sum()
        cdf = np.cumsum(flat)
        counts = np.zeros(law.shape, dtype=np.int64)
        for _ in range(per_profile):
            k = int(np.searchsorted(cdf, rng.random(), side="right"))
            s0, s1, th = np.unravel_index(min(k, flat.size - 1), law.shape)
            counts[maps[0][s0], maps[1][s1], th] += 1
    return per_profile * len(profiles) / (time.perf_counter() - start)


def main() -> None:
    inst, rules, opt = _instance()
    rows = []
    ref = per_round_reference(inst, rules, 200_000)
    rows.append(("per-round reference (estimation phase)", 200_000, ref))
    for variant in ("default", "faithful"):
        for T in (10**6, 10**9, 10**12):
            start = time.perf_counter()
            reps = 3
            for s in range(reps):
                simulate_online(inst, T, seed=s, variant=variant, inducing_rules=rules, optimal_value=opt)
            elapsed = (time.perf_counter() - start) / reps
            rows.append((f"simulate_online {variant}", T, T / elapsed))
    print(f"{'method':42s} {'horizon':>10s} {'rounds/s':>12s} {'x reference':>12s}")
    for name, T, rate in rows:
        print(f"{name:42s} {T:10.0e} {rate:12.3g} {rate / ref:12.3g}")


if __name__ == "__main__":
    main()
