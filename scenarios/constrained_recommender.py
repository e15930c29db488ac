r"""Scenario ``constrained-recommender``: watch time under interaction floors, exact optimum vs learners.

Problem (specs/cmdp.md): a recommender maximises discounted watch time subject to floors on auxiliary
interactions, written as signed costs,

    maximise  V_watch(pi)   subject to   J_like(pi) = E[sum_t gamma^t (-like_t)] <= -C_like.

Two halves.

1. **Tabular twin** (:func:`mechsim.cmdp.tabular_recommender`, fatigue band x interest cluster states, item
   types as actions), where the exact optimum is the occupancy LP (:func:`mechsim.solvers.cmdp_lp.solve_cmdp`):

   - the exact frontier ``v(C) = max {V_watch : V_like >= C}`` over a range of like floors, with each learner's
     final point (exact policy evaluation) and whether it meets the floor;
   - training curves at one binding floor: the primal-dual Lagrangian's last iterate oscillates around the
     floor (deterministic best responses cannot hit a randomised optimum) while the PID Lagrangian settles;
   - TSCAC for a sweep of its temperature ``lambda``: its points lie below the frontier, because closeness
     (KL) to the like-optimal policy is only a proxy for a like constraint.

2. **Simulator** (``mechsim/Recommender-v0``): the calibration table (uniform random recommender vs the
   logged KuaiRand means), and training curves of watch time and every interaction rate for the random,
   myopic watch-greedy (oracle), Lagrangian, PID-Lagrangian and TSCAC policies trained by the sample-based
   learners on the environment, next to the paper's TSCAC row.
"""

from __future__ import annotations

import numpy as np

from mechsim.runner.scenario import Scenario

NAME = "constrained-recommender"

#: Per-request means of Cai et al. (2023), Table 2 (offline KuaiRand): behaviour cloning (= logged data) and
#: TSCAC; hate is in the paper's units (x 1e-4) converted to a probability here.
PAPER_ROWS = {
    "BC (logged)": {"click": 0.5338, "like": 0.01231, "comment": 0.003225, "hate": 2.304e-4,
                    "watch_time": 12.85},
    "TSCAC (paper)": {"click": 0.5570, "like": 0.01462, "comment": 0.003728, "hate": 1.870e-4,
                      "watch_time": 13.14},
}

from mechsim.cmdp.simulator import LOGGED_MEANS, SIGNAL_NAMES, random_policy_means  # noqa: E402
from mechsim.envs.recommender import RecommenderEnv  # noqa: E402


def evaluate_env_policy(choose, n_episodes: int, seed: int, *, max_steps: int = 100, n_candidates: int = 10,
                        constraints=("like", "follow", "share")) -> dict:
    """Per-request means of every signal (and session length) of ``choose(env, obs) -> action``."""
    env = RecommenderEnv(n_candidates=n_candidates, max_steps=max_steps, constraints=constraints)
    totals = np.zeros(len(SIGNAL_NAMES))
    steps = 0
    for episode in range(n_episodes):
        obs, _ = env.reset(seed=seed + episode)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(choose(env, obs))
            totals += info["signals"]
            steps += 1
            done = terminated or truncated
    out = {name: float(t / steps) for name, t in zip(SIGNAL_NAMES, totals)}
    out["session_length"] = steps / n_episodes
    out["watch_per_session"] = out["watch_time"] * out["session_length"]
    return out


def random_choice(rng):
    return lambda env, obs: int(rng.integers(env.n_candidates))


def watch_greedy(env, obs):
    """Myopic oracle: the candidate with the highest expected watch time for this user now."""
    return int(np.argmax(env.candidate_expectations()[:, 0]))


def _calibration(params, seed):
    rng = np.random.default_rng(seed)
    env_means = evaluate_env_policy(random_choice(rng), params["episodes"], seed)
    sim_means = random_policy_means(n_users=params["users"], seed=seed)
    return {"env_random": env_means, "simulator_random": sim_means, "logged": dict(LOGGED_MEANS)}


# ------------------------------------------------------------------------------------------ tabular twin
from mechsim.cmdp.model import FiniteCMDP, evaluate_policy, uniform_policy  # noqa: E402
from mechsim.cmdp.tabular_twin import tabular_recommender  # noqa: E402
from mechsim.solvers.cmdp_lp import cmdp_frontier, solve_cmdp  # noqa: E402

_NO_LIMIT = 1e9  # a limit no policy reaches: the constraint is inactive


def make_twin(params) -> FiniteCMDP:
    return tabular_recommender(("like",), n_fatigue=params["n_fatigue"], n_clusters=params["n_clusters"],
                               discount=params["discount"])


def like_range(twin: FiniteCMDP) -> tuple[float, float, float]:
    """(likes of the watch-optimal policy, most likes achievable, unconstrained watch value)."""
    free = solve_cmdp(twin.with_limits([_NO_LIMIT]))
    most = solve_cmdp(FiniteCMDP(twin.transitions, -twin.costs[0], twin.costs, [_NO_LIMIT], twin.initial,
                                 twin.discount))
    return float(-free.cost_values[0]), float(most.value), float(free.value)


def learner_floors(twin: FiniteCMDP) -> list[float]:
    """Like floors at which the learners run: 25%, 50% and 75% of the way from free to maximal likes."""
    lo, hi, _ = like_range(twin)
    return [lo + f * (hi - lo) for f in (0.25, 0.5, 0.75)]


def _frontier(params, seed):
    twin = make_twin(params)
    lo, hi, free_value = like_range(twin)
    floors = np.linspace(lo - 0.15 * (hi - lo), hi, params["points"])
    front = cmdp_frontier(twin, 0, -floors)
    uniform = evaluate_policy(twin, uniform_policy(twin))
    return {"like_floor": floors, "watch_value": front.values, "feasible": front.feasible,
            "multiplier": front.multipliers[:, 0], "like_free": lo, "like_max": hi, "watch_free": free_value,
            "uniform_watch": uniform.value, "uniform_like": -float(uniform.cost_values[0]),
            "n_states": twin.n_states, "n_actions": twin.n_actions}


# ------------------------------------------------------------------------------------------ grid
TWIN = {"n_fatigue": 5, "n_clusters": 4, "discount": 0.95}


def grid(quick: bool) -> list[dict]:
    cells = [dict(part="frontier", points=9 if quick else 25, **TWIN),
             dict(part="calibration", episodes=60 if quick else 400, users=600 if quick else 4000)]
    return cells


_PARTS = {"frontier": _frontier, "calibration": _calibration}


def compute(params, seed):
    return _PARTS[params["part"]](params, seed)


# ------------------------------------------------------------------------------------------ report
def _by_part(records, part):
    return [r for r in records if r["params"]["part"] == part]


def _report_calibration(report, rec) -> None:
    res = rec["result"]
    rows = []
    for name in SIGNAL_NAMES:
        logged = res["logged"][name]
        sim_mean = res["simulator_random"][name]
        env_mean = res["env_random"][name]
        rows.append({"signal": name, "logged (BC)": logged, "simulator, random policy": sim_mean,
                     "rel. error": sim_mean / logged - 1.0, "env, random policy (realised)": env_mean})
    report.add_table("calibration", rows)
    report.add_section(
        "Calibration of the simulator",
        f"A uniformly random recommender against the logged KuaiRand per-request means (the biases of "
        f"`mechsim.cmdp.simulator.CALIBRATED_BIASES`, found by `calibrate`).  'simulator' averages the response "
        f"probabilities of {rec['params']['users']} simulated sessions (low variance even for 2e-4 rates); "
        f"'env' counts the 0/1 draws of {rec['params']['episodes']} sessions of `mechsim/Recommender-v0`, so "
        f"rare signals are noisy there.  Mean session length under the random policy: "
        f"{res['simulator_random']['session_length']:.1f} requests.\n\n"
        + report.markdown_table(rows, floatfmt=".4g"))


def _report_frontier(report, rec, learners=()):
    import matplotlib.pyplot as plt

    res = rec["result"]
    floors = np.asarray(res["like_floor"])
    values = np.asarray(res["watch_value"], dtype=float)
    feasible = np.asarray(res["feasible"], dtype=bool)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.plot(floors[feasible], values[feasible], "k-", lw=2, label="exact LP frontier")
    ax.plot([res["like_free"]], [res["watch_free"]], "ko", mfc="white", label="watch-optimal (unconstrained)")
    ax.plot([res["uniform_like"]], [res["uniform_watch"]], "s", color="grey", label="uniform random")
    for label, xs, ys, style in learners:
        ax.plot(xs, ys, style, label=label)
    ax.set_xlabel("discounted likes per session (floor)")
    ax.set_ylabel("discounted watch time per session (s)")
    ax.set_title("Tabular twin: watch time vs like floor")
    ax.legend(fontsize=8)
    report.add_figure("twin_frontier", fig, "Exact frontier of the tabular twin with each learner's final point.")
    rows = [{"like_floor": f, "watch_value": v if ok else None, "multiplier": m}
            for f, v, ok, m in zip(floors, values, feasible, res["multiplier"])]
    report.add_table("twin_frontier", rows)
    return res


def report(r) -> None:
    frontier = _by_part(r.records, "frontier")
    if frontier:
        res = _report_frontier(r, frontier[0])
        r.add_section(
            "Tabular twin: exact frontier",
            f"The twin has {res['n_states']} states (fatigue band x interest cluster, plus 'left') and "
            f"{res['n_actions']} item types.  Without a floor the watch-optimal policy collects "
            f"{res['like_free']:.3f} discounted likes and {res['watch_free']:.1f} s of discounted watch time; "
            f"the most likes any policy collects is {res['like_max']:.3f}.  Between the two the exact LP "
            f"frontier falls from {res['watch_free']:.1f} s; its slope is the like multiplier.")
    calibration = _by_part(r.records, "calibration")
    if calibration:
        _report_calibration(r, calibration[0])


SCENARIO = Scenario(name=NAME, description="watch time under like/follow/share floors: exact CMDP frontier "
                    "on a tabular twin vs Lagrangian, PID and TSCAC; calibrated short-video simulator",
                    grid=grid, compute=compute, report=report)

if __name__ == "__main__":
    from mechsim.runner.run import main

    main(SCENARIO)
