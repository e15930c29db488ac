"""Steps per second of the native vector envs against ``SyncVectorEnv`` over the same env.

For ``N`` in 1, 16 and 256 sub-envs, each vector env is stepped for ``--seconds`` seconds with pre-sampled batched
actions (autoreset on, as in training).  The baseline is Gymnasium's ``SyncVectorEnv`` over the raw single env
(``RecommenderEnv``, ``RecommenderContinuousEnv``, ``JustifiableSepsisEnv`` with its default trained judge,
without ``gymnasium.make``'s checker wrappers: the fastest loop over single envs, so the strictest baseline),
measured in the same run.  (The first sepsis case trains the default judge and builds its debate table, about
15 s, before anything is timed.)  Sub-env steps are counted (one
vector step of ``N`` sub-envs is ``N`` steps).  Ratios are given on CPU time of this process (robust to other
load on the machine) and on wall-clock time.

Two further cases: ``JustifiableSepsis-v0 make_vec`` is the users' call, ``gymnasium.make_vec`` with
``vectorization_mode="vector_entry_point"`` against ``make_vec``'s ``"sync"`` path (``SyncVectorEnv`` over
``gymnasium.make`` with its checker and ``TimeLimit`` wrappers); ``Recommender-v0 Lagrangian`` is
:class:`~mechsim.envs.vector_lagrangian.VectorLagrangianReward` over the native env against ``SyncVectorEnv``
over ``LagrangianReward`` single envs, with the wrapper's overhead against the bare native env (same run).

Targets (issue #15, for the recommender; the sepsis rows are reported against the same bar): native >= 20x
``SyncVectorEnv`` at N = 256, and >= 500k steps/s.

Usage: ``python benchmarks/bench_vector_envs.py [--seconds 2] [--sizes 1 16 256] [--envs NAME ...]``
"""

from __future__ import annotations

import argparse
import os
import time

import gymnasium

import mechsim  # noqa: F401  (registers the environments)
from mechsim.envs.justifiable_sepsis import JustifiableSepsisEnv
from mechsim.envs.lagrangian_reward import LagrangeMultipliers, LagrangianReward
from mechsim.envs.recommender import RecommenderContinuousEnv, RecommenderEnv
from mechsim.envs.recommender_vector import RecommenderContinuousVectorEnv, RecommenderVectorEnv
from mechsim.envs.sepsis_vector import JustifiableSepsisVectorEnv
from mechsim.envs.vector_lagrangian import VectorLagrangianReward

_SEPSIS = "mechsim/JustifiableSepsis-v0"


def _lagrange():
    return LagrangeMultipliers([90.0, 90.0, 5.0], ki=0.01, batch_episodes=16)


def _sync(single):
    return lambda n: gymnasium.vector.SyncVectorEnv([single for _ in range(n)])


#: name -> (baseline vector env factory taking num_envs, native vector env factory taking num_envs, warm-up)
CASES = {
    "Recommender-v0": (_sync(RecommenderEnv), RecommenderVectorEnv, RecommenderEnv),
    "RecommenderContinuous-v0": (_sync(RecommenderContinuousEnv), RecommenderContinuousVectorEnv,
                                 RecommenderContinuousEnv),
    "JustifiableSepsis-v0": (_sync(JustifiableSepsisEnv), JustifiableSepsisVectorEnv, JustifiableSepsisEnv),
    # Users' calls: make_vec's sync path (SyncVectorEnv over gymnasium.make, with its checker and TimeLimit
    # wrappers) against make_vec's vector entry point.
    "JustifiableSepsis-v0 make_vec": (
        lambda n: gymnasium.make_vec(_SEPSIS, num_envs=n, vectorization_mode="sync"),
        lambda n: gymnasium.make_vec(_SEPSIS, num_envs=n, vectorization_mode="vector_entry_point"),
        JustifiableSepsisEnv),
    # The Lagrangian reward: SyncVectorEnv over LagrangianReward(single env) against VectorLagrangianReward
    # over the native env (and, in the overhead lines, against the native env without the wrapper).
    "Recommender-v0 Lagrangian": (
        lambda n: (lm := _lagrange()) and gymnasium.vector.SyncVectorEnv(
            [lambda: LagrangianReward(RecommenderEnv(), lm, subtract_offsets=True) for _ in range(n)]),
        lambda n: VectorLagrangianReward(RecommenderVectorEnv(n), _lagrange(), subtract_offsets=True),
        RecommenderEnv),
}


def steps_per_second(envs, seconds: float, seed: int = 0) -> tuple[float, float]:
    """(sub-env steps per wall-clock second, per CPU second of this process)."""
    envs.action_space.seed(seed)
    actions = [envs.action_space.sample() for _ in range(64)]
    envs.reset(seed=seed)
    envs.step(actions[0])  # warm-up
    n = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for a in actions:
            envs.step(a)
        n += len(actions) * envs.num_envs
    return n / (time.perf_counter() - start), n / max(time.process_time() - cpu_start, 1e-9)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 256])
    parser.add_argument("--envs", nargs="+", choices=list(CASES), default=list(CASES))
    args = parser.parse_args(argv)
    rows = []
    raw = {}
    for name in args.envs:
        baseline, native, warm = CASES[name]
        warm()  # build what is cached per process (the sepsis judge and debate table) before timing
        for n in args.sizes:
            sync = baseline(n)
            base_wall, base_cpu = steps_per_second(sync, args.seconds)
            sync.close()
            wall, cpu = steps_per_second(native(n), args.seconds)
            if name == "Recommender-v0 Lagrangian":  # the wrapper's overhead: the native env alone, same run
                raw[n] = steps_per_second(RecommenderVectorEnv(n), args.seconds)
            rows.append({"env": name, "num_envs": n, "sync_steps_per_s": base_wall, "sync_steps_per_cpu_s": base_cpu,
                         "native_steps_per_s": wall, "native_steps_per_cpu_s": cpu,
                         "ratio_cpu": cpu / base_cpu, "ratio_wall": wall / base_wall})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"native vector envs vs SyncVectorEnv ({args.seconds:g} s per case; 1-min load average {load:.2f}; "
          f"sub-env steps)")
    print(f"{'env':30s} {'N':>4s} {'sync/s':>9s} {'sync/CPU s':>11s} {'native/s':>10s} {'native/CPU s':>13s} "
          f"{'x (CPU)':>8s} {'x (wall)':>9s}")
    for r in rows:
        print(f"{r['env']:30s} {r['num_envs']:4d} {r['sync_steps_per_s']:9.0f} {r['sync_steps_per_cpu_s']:11.0f} "
              f"{r['native_steps_per_s']:10.0f} {r['native_steps_per_cpu_s']:13.0f} {r['ratio_cpu']:8.1f} "
              f"{r['ratio_wall']:9.1f}")
    for r in rows:
        if r["env"] == "Recommender-v0 Lagrangian" and r["num_envs"] in raw:
            wall, cpu = raw[r["num_envs"]]
            print(f"VectorLagrangianReward overhead at N={r['num_envs']}: native env alone {cpu:.0f} steps/CPU s, "
                  f"wrapped {r['native_steps_per_cpu_s']:.0f} ({100 * (cpu / r['native_steps_per_cpu_s'] - 1):.0f}% "
                  f"more CPU per step; {r['ratio_cpu']:.1f}x SyncVectorEnv over LagrangianReward)")
    for r in rows:
        if r["num_envs"] == 256:
            ok = r["ratio_cpu"] >= 20 and r["native_steps_per_cpu_s"] >= 5e5
            print(f"target at N=256 (>= 20x SyncVectorEnv and >= 500k steps per CPU second), {r['env']}: "
                  f"{'met' if ok else 'NOT met'} ({r['ratio_cpu']:.1f}x, {r['native_steps_per_cpu_s']:.0f} "
                  f"steps/CPU s)")
    return rows


if __name__ == "__main__":
    main()
