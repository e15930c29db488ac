"""Agent-steps per second of the batched multi-agent envs against ``N`` single parallel envs stepped in a loop.

For ``N`` in 1, 16 and 256 copies, ``HiringVectorEnv`` and ``AuctionVectorEnv`` (2 agents each, ``max_cycles=100``)
are stepped for ``--seconds`` seconds with pre-sampled actions; the baseline, measured in the same run, steps
``N`` ``HiringParallelEnv`` / ``AuctionParallelEnv`` in a Python loop with the same next-step autoreset (a copy
whose episode ended is reset at its next step).  An agent-step is one agent's step in one copy (a step of ``N``
copies of 2 agents is ``2 N``).  Ratios are on CPU time of this process (robust to other load) and wall-clock.

With ``--view`` (and SuperSuit installed) it also times the SuperSuit-compatible view ``as_vector_env`` against
SuperSuit's ``concat_vec_envs_v1(pettingzoo_env_to_vec_env_v1(env), N)`` over the single env.

Target (issue #15: "environments fast enough to train RL agents on a laptop"): the batched env well above the
loop at N = 256, and far above the >= 50k steps/s a native parallel env should sustain.

Usage: ``python benchmarks/bench_ma_vector.py [--seconds 2] [--sizes 1 16 256] [--view]``
"""

from __future__ import annotations

import argparse
import os
import time

from gymnasium.vector.utils import batch_space

from mechsim.envs.auction import AuctionParallelEnv
from mechsim.envs.auction_vector import AuctionVectorEnv
from mechsim.envs.hiring import HiringParallelEnv
from mechsim.envs.hiring_vector import HiringVectorEnv
from mechsim.envs.ma_vector import as_vector_env

KWARGS = {"max_cycles": 100}
#: name -> (single parallel env factory, batched env factory taking num_envs)
CASES = {
    "Hiring-v0": (lambda: HiringParallelEnv(**KWARGS), lambda n: HiringVectorEnv(n, **KWARGS)),
    "Auction-v0": (lambda: AuctionParallelEnv(**KWARGS), lambda n: AuctionVectorEnv(n, **KWARGS)),
}


def _timed(step, n_calls_per_round: int, agent_steps_per_call: int, seconds: float) -> tuple[float, float]:
    step(0)  # warm-up
    n = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for k in range(n_calls_per_round):
            step(k)
        n += n_calls_per_round * agent_steps_per_call
    return n / (time.perf_counter() - start), n / max(time.process_time() - cpu_start, 1e-9)


def batched_rate(env, seconds: float, seed: int = 0) -> tuple[float, float]:
    for a in env.possible_agents:
        env.action_space(a).seed(seed)
    actions = [{a: env.action_space(a).sample() for a in env.possible_agents} for _ in range(64)]
    env.reset(seed=seed)
    return _timed(lambda k: env.step(actions[k]), len(actions), env.num_envs * env.num_agents, seconds)


def loop_rate(make_single, n: int, seconds: float, seed: int = 0) -> tuple[float, float]:
    envs = [make_single() for _ in range(n)]
    for c, e in enumerate(envs):
        e.reset(seed=seed + c)
    agents = envs[0].possible_agents
    for a in agents:
        envs[0].action_space(a).seed(seed)
    actions = [{a: envs[0].action_space(a).sample() for a in agents} for _ in range(64)]

    def step(k):
        act = actions[k]
        for e in envs:
            if e.agents:
                e.step(act)
            else:           # next-step autoreset, as the batched env does
                e.reset()

    return _timed(step, len(actions), n * len(agents), seconds)


def view_rates(name: str, n: int, seconds: float, seed: int = 0):
    import supersuit as ss

    single, native = CASES[name]
    rates = []
    for vec in (ss.concat_vec_envs_v1(ss.pettingzoo_env_to_vec_env_v1(single()), n, num_cpus=0,
                                      base_class="gymnasium"), as_vector_env(native(n))):
        # SuperSuit's action_space is the single agent's; the view's is batched (Gymnasium's convention).
        space = getattr(vec, "single_action_space", None) or vec.action_space
        batched = batch_space(space, vec.num_envs)
        batched.seed(seed)
        actions = [batched.sample() for _ in range(64)]
        vec.reset(seed=seed)
        rates.append(_timed(lambda k, v=vec, acts=actions: v.step(acts[k]), len(actions), vec.num_envs, seconds))
    return rates


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 256])
    parser.add_argument("--view", action="store_true", help="also time the view against SuperSuit's conversion")
    args = parser.parse_args(argv)
    rows = []
    for name, (single, native) in CASES.items():
        for n in args.sizes:
            base_wall, base_cpu = loop_rate(single, n, args.seconds)
            wall, cpu = batched_rate(native(n), args.seconds)
            rows.append({"what": f"{name} batched", "num_envs": n, "base_per_s": base_wall, "base_per_cpu_s": base_cpu,
                         "per_s": wall, "per_cpu_s": cpu, "ratio_cpu": cpu / base_cpu, "ratio_wall": wall / base_wall})
            if args.view:
                (b_wall, b_cpu), (v_wall, v_cpu) = view_rates(name, n, args.seconds)
                rows.append({"what": f"{name} view/SuperSuit", "num_envs": n, "base_per_s": b_wall,
                             "base_per_cpu_s": b_cpu, "per_s": v_wall, "per_cpu_s": v_cpu,
                             "ratio_cpu": v_cpu / b_cpu, "ratio_wall": v_wall / b_wall})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"batched multi-agent envs vs a loop of N single parallel envs ({args.seconds:g} s per case; 1-min load "
          f"average {load:.2f}; agent-steps)")
    print(f"{'case':26s} {'N':>4s} {'base/s':>10s} {'base/CPU s':>11s} {'ours/s':>11s} {'ours/CPU s':>11s} "
          f"{'x (CPU)':>8s} {'x (wall)':>9s}")
    for r in rows:
        print(f"{r['what']:26s} {r['num_envs']:4d} {r['base_per_s']:10.0f} {r['base_per_cpu_s']:11.0f} "
              f"{r['per_s']:11.0f} {r['per_cpu_s']:11.0f} {r['ratio_cpu']:8.1f} {r['ratio_wall']:9.1f}")
    best = {name: max(r["per_cpu_s"] for r in rows if r["what"] == f"{name} batched") for name in CASES}
    print("best batched agent-steps per CPU second: " + ", ".join(f"{k} {v:,.0f}" for k, v in best.items()))
    return rows


if __name__ == "__main__":
    main()
