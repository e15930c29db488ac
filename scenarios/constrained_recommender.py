r"""Scenario ``constrained-recommender``: watch time under a like floor, exact optimum vs learners.

Problem (Cai et al., *Two-Stage Constrained Actor-Critic for Short Video Recommendation*, WWW 2023): a
recommender maximises discounted watch time subject to a floor on discounted likes, ``E[sum_t gamma^t like_t] >= C``,
written as a limit on a non-negative cost (Safety-Gymnasium's convention, costs <= limits): the missed likes
``1 - like_t``, also charged for every request slot after the user has left (:mod:`mechsim.envs.recommender`),

    maximise  V_watch(pi)   subject to   J_like(pi) = E[sum_t gamma^t (1 - like_t)] <= N - C,

with ``N = sum_t gamma^t`` the discounted number of request slots (``1 / (1 - gamma)`` on the tabular twin,
``session_slots(100, gamma)`` on the simulator).  Since ``J_like = N - V_like`` for every policy, this is the floor
itself in other variables: the same optimal policies, values and multipliers.

Two halves.

1. **Tabular twin** (:func:`mechsim.cmdp.tabular_recommender`: fatigue band x interest cluster states, item
   types as actions), where the exact optimum is the occupancy LP (:mod:`mechsim.solvers.cmdp_lp`):

   - the exact frontier ``v(C) = max {V_watch : V_like >= C}`` with each learner's final point and whether it
     meets its floor (floors at 25, 50 and 75 % of the way from the watch-optimal policy's likes to the most
     likes any policy gets);
   - training curves at the middle floor: the primal-dual Lagrangian's last iterate oscillates (with exact
     best responses, and also with natural-gradient steps) while the PID Lagrangian settles on the LP saddle
     point;
   - TSCAC for a sweep of its weight ``lambda``: every point lies below the frontier.

   The learners run on the twin with rewards in units of the unconstrained optimum and likes in units of the
   like range (so that one set of step sizes fits); results are reported in the original units.

   **Large instance** (issue #15): the fine-grained twin (``F = 25 000`` fatigue bands, ``4 F + 1 = 10^5``
   states, 8.3 million non-zero transition probabilities; ``10^4`` states with ``--quick``, ``10^6`` with
   ``--full``) at the middle like floor, solved by ``solve_cmdp(method="auto")``, which picks the Lagrangian
   method (:mod:`mechsim.solvers.cmdp_lagrange`); recorded: build and solve seconds, peak memory, value, dual
   bound and gap, and an exact evaluation of the returned policy against the limit.  Cross-checks: the optimum
   on coarser twins (``F = 5 .. 2500``, the same floor) against the finest, and the occupancy LP on the
   coarsest levels against the Lagrangian method (to ``1e-6`` relative), with the LP's times.

2. **Simulator** (``mechsim/Recommender-v0``, 10 candidates per request, sessions of at most 100 requests): the
   calibration table (uniform random recommender vs the logged KuaiRand means); training curves of watch time
   and every interaction rate for the Lagrangian, PID-Lagrangian and TSCAC sample-based learners, against the
   random and myopic watch-greedy (oracle) recommenders; the final per-request means beside the paper's TSCAC
   row.  The learners choose among the ranking rules of :class:`mechsim.envs.recommender.RankingRules` with
   a linear-softmax policy; like costs are the env's ``cost_mode="expected"`` conditional probabilities;
   watch time and likes are scaled by their logged means; the like floor is the random recommender's
   discounted likes ("at least as many likes as the logged policy").

The scenario only composes: the learners of :mod:`mechsim.learners.lagrangian` and :mod:`mechsim.learners.tscac`,
the occupancy LP of :mod:`mechsim.solvers.cmdp_lp`, the wrappers and baseline policies of
:mod:`mechsim.envs.signal_wrappers` and :mod:`mechsim.envs.recommender_wrappers`, and episodes played by
:func:`mechsim.rollout.rollout`, whose per-step callbacks here say what is measured.
"""

from __future__ import annotations

import time

import numpy as np

from mechsim.cmdp.model import FiniteCMDP, evaluate_policy, uniform_policy
from mechsim.cmdp.simulator import LOGGED_MEANS, SIGNAL_NAMES, random_policy_means
from mechsim.cmdp.tabular_twin import tabular_recommender
from mechsim.envs.recommender import RankingRules, RecommenderEnv, leaving_charge, session_slots
from mechsim.envs.recommender_wrappers import (
    ExpectedSignals,
    random_candidate_chooser,
    ranking_rule_chooser,
    watch_greedy_chooser,
)
from mechsim.envs.signal_wrappers import EpisodeRecorder, ScaleRewardAndCosts
from mechsim.learners.lagrangian import (
    lagrangian_sample,
    lagrangian_tabular,
    pid_lagrangian_sample,
    pid_lagrangian_tabular,
)
from mechsim.learners.tscac import tscac_sample, tscac_tabular
from mechsim.rollout import rollout
from mechsim.runner.scenario import Scenario
from mechsim.solvers.cmdp_lp import FEASIBILITY_RTOL, cmdp_frontier, solve_cmdp

NAME = "constrained-recommender"

#: Per-request means of Cai et al. (2023), Table 2 (offline KuaiRand): behaviour cloning (= logged data) and
#: TSCAC; hate converted from the paper's x1e-4 units to a probability.
PAPER_ROWS = {
    "BC (logged), paper": {"click": 0.5338, "like": 0.01231, "comment": 0.003225, "hate": 2.304e-4,
                           "watch_time": 12.85},
    "TSCAC, paper": {"click": 0.5570, "like": 0.01462, "comment": 0.003728, "hate": 1.870e-4,
                     "watch_time": 13.14},
}

TWIN = {"n_fatigue": 5, "n_clusters": 4, "discount": 0.95}
#: Tabular learner settings (normalised twin): NPG step 1.0 for both primal-dual methods.
TWIN_LAGRANGIAN = {"multiplier_lr": 0.5, "policy_lr": 1.0}
TWIN_PID = {"kp": 2.0, "ki": 0.2, "kd": 0.1, "policy_lr": 1.0}
TWIN_TSCAC_TEMPERATURE = 0.01
FLOOR_FRACTIONS = (0.25, 0.5, 0.75)

#: The large-instance part: fatigue bands of the levels (the finest ``4 F + 1`` states is the large instance,
#: 10^5 states by default) and the levels also solved by the occupancy LP, with HiGHS's method.
_LARGE_COMMON = {"part": "large-twin", "n_clusters": TWIN["n_clusters"], "discount": TWIN["discount"],
                 "floor_fraction": 0.5}
LARGE_TWIN = {**_LARGE_COMMON, "fatigue": [5, 25, 100, 250, 2500, 25_000],
              "lp": [[5, "simplex"], [25, "simplex"], [100, "ipm"]]}
LARGE_TWIN_QUICK = {**_LARGE_COMMON, "fatigue": [5, 25, 250, 2500], "lp": [[5, "simplex"], [25, "simplex"]]}
LARGE_TWIN_FULL = {**_LARGE_COMMON, "fatigue": [5, 25, 100, 250, 500, 2500, 25_000, 250_000],
                   "lp": [[5, "simplex"], [25, "simplex"], [100, "ipm"], [250, "ipm"], [500, "ipm"]]}

SIM = {"n_candidates": 10, "max_steps": 100, "discount": 0.9}  # the calibration horizon
SIM_POLICIES = ("random", "watch-greedy", "lagrangian", "pid-lagrangian", "tscac")
SIM_TSCAC_WEIGHT = 0.1
#: PID gains on the simulator (scaled signals); the default gains (0.1, 0.01, 0.01) react too slowly here.
SIM_PID = {"kp": 1.0, "ki": 0.1, "kd": 0.01}
SIM_MULTIPLIER_LR = 0.05
_NO_LIMIT = 1e9  # a limit no policy reaches: the constraint is inactive


# ------------------------------------------------------------------------------------------ tabular twin
def make_twin(params) -> FiniteCMDP:
    return tabular_recommender(("like",), n_fatigue=params["n_fatigue"], n_clusters=params["n_clusters"],
                               discount=params["discount"])


def slots(twin: FiniteCMDP) -> float:
    """``1 / (1 - gamma)``: the twin's like cost is ``slots - likes``, a like floor ``C`` the limit ``slots - C``."""
    return 1.0 / (1.0 - twin.discount)


def like_range(twin: FiniteCMDP) -> tuple[float, float, float]:
    """(likes of the watch-optimal policy, most likes achievable, unconstrained watch value)."""
    free = solve_cmdp(twin.with_limits([_NO_LIMIT]))
    most = solve_cmdp(FiniteCMDP(twin.transitions, 1.0 - twin.costs[0], twin.costs, [_NO_LIMIT], twin.initial,
                                 twin.discount))
    return float(slots(twin) - free.cost_values[0]), float(most.value), float(free.value)


def _frontier(params, seed):
    twin = make_twin(params)
    lo, hi, free_value = like_range(twin)
    floors = np.linspace(lo - 0.15 * (hi - lo), hi, params["points"])
    front = cmdp_frontier(twin, 0, slots(twin) - floors)
    uniform = evaluate_policy(twin, uniform_policy(twin))
    return {"like_floor": floors, "watch_value": front.value, "feasible": front.feasible,
            "multiplier": front.multipliers[:, 0], "like_free": lo, "like_max": hi, "watch_free": free_value,
            "uniform_watch": uniform.value, "uniform_like": slots(twin) - float(uniform.cost_values[0]),
            "n_states": twin.n_states, "n_actions": twin.n_actions}


def _twin_learners(params, seed):
    """Every tabular learner on the normalised twin; points and curves in original units."""
    twin = make_twin(params)
    lo, hi, watch_scale = like_range(twin)
    like_scale = hi - lo
    T = params["iterations"]

    full = slots(twin)

    def normalised(floor):
        return FiniteCMDP(twin.transitions, twin.reward / watch_scale, twin.costs / like_scale,
                          [(full - floor) / like_scale], twin.initial, twin.discount, ("like",))

    runs = {
        "Lagrangian (best response)": lambda m: lagrangian_tabular(m, iterations=T, policy_update="best_response",
                                                                   multiplier_lr=TWIN_LAGRANGIAN["multiplier_lr"]),
        "Lagrangian (NPG)": lambda m: lagrangian_tabular(m, iterations=T, **TWIN_LAGRANGIAN),
        "PID Lagrangian (NPG)": lambda m: pid_lagrangian_tabular(m, iterations=T, **TWIN_PID),
        "PID Lagrangian (NPG, default gains)": lambda m: pid_lagrangian_tabular(m, iterations=T, policy_lr=1.0),
    }
    points, curves = [], {}
    for fraction in FLOOR_FRACTIONS:
        floor = lo + fraction * like_scale
        m = normalised(floor)
        lp = solve_cmdp(m)
        for name, run in runs.items():
            res = run(m)
            for which, value, cost in (("last iterate", res.value, res.cost_values[0]),
                                       ("average", res.average_value, res.average_cost_values[0])):
                likes = full - cost * like_scale
                points.append({"learner": name, "policy": which, "floor_fraction": fraction, "like_floor": floor,
                               "likes": likes, "watch": value * watch_scale, "lp_watch": lp.value * watch_scale,
                               "meets_floor": bool(likes >= floor - 1e-6 * like_scale),
                               "violating_iterates": res.violation_fraction(m.limits, atol=1e-3)})
            if fraction == 0.5:
                curves[name] = {"watch": res.training_values * watch_scale,
                                "likes": full - res.training_costs[:, 0] * like_scale,
                                "multiplier": res.training_multipliers[:, 0] * watch_scale / like_scale}
        if fraction == 0.5:
            middle = {"like_floor": floor, "lp_watch": lp.value * watch_scale,
                      "lp_multiplier": float(lp.multipliers[0]) * watch_scale / like_scale}
    # TSCAC sweep: its weight, not a floor, sets the trade-off; compare each point with the frontier.
    free = normalised(lo)
    weights = np.geomspace(1e-3, 0.3, params["tscac_points"])
    tscac = []
    for w in weights:
        res = tscac_tabular(free, w, temperature=TWIN_TSCAC_TEMPERATURE)
        tscac.append({"weight": w, "likes": full - res.cost_values[0] * like_scale, "watch": res.value * watch_scale,
                      "converged": res.converged})
    front = cmdp_frontier(free, 0, [(full - p["likes"]) / like_scale for p in tscac])
    for p, v in zip(tscac, front.value):
        p["frontier_watch"] = v * watch_scale
        p["gap"] = p["frontier_watch"] - p["watch"]
    return {"points": points, "curves": curves, "middle": middle, "tscac": tscac,
            "units": {"watch_scale": watch_scale, "like_scale": like_scale}}


# ------------------------------------------------------------------------------------------ large twin
def _peak_rss_gb(reset: bool = False) -> float:
    """Peak resident memory of this worker in GB: ``VmHWM`` of /proc/self/status, else ``ru_maxrss``.

    Workers run several cells, so ``reset=True`` first clears the high-water mark (``5`` into
    /proc/self/clear_refs, Linux >= 4.0) to make the next reading this cell's own; returns NaN where that
    is impossible, rather than a peak that may belong to an earlier cell.
    """
    try:
        if reset:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    if reset:
        return float("nan")
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def _fine_twin(params, n_fatigue: int, limit: float) -> FiniteCMDP:
    # Sparse at every level, so the coarse levels hold exactly the numbers the LP reads, without the
    # (S, A, S) array a dense twin of 1000 states would allocate (0.2 GB, most of its build time).
    return tabular_recommender(("like",), [limit], n_fatigue=n_fatigue, n_clusters=params["n_clusters"],
                               discount=params["discount"], sparse=True)


def _large_twin(params, seed):
    """The fine-grained twin solved by ``solve_cmdp(method="auto")``, with grid-convergence and LP cross-checks.

    The like floor is the learners' middle one (``floor_fraction`` of the like range of the scenario's twin),
    the same number at every level, so the levels are discretisations of one problem.  Every level is solved
    by the Lagrangian method (the finest through ``method="auto"``, recording what it chose); the levels in
    ``params["lp"]`` are also solved by the occupancy LP with the given HiGHS method.
    """
    base = make_twin({**params, "n_fatigue": TWIN["n_fatigue"]})
    lo, hi, _ = like_range(base)
    floor = lo + params["floor_fraction"] * (hi - lo)
    limit = slots(base) - floor
    lp_methods = {int(f): how for f, how in params["lp"]}
    levels = sorted(int(f) for f in params["fatigue"])
    finest = levels[-1]
    rows, lp_rows, large = [], [], {}
    for F in levels:
        if F == finest:
            large["peak_before_reset_gb"] = _peak_rss_gb()  # the worker's peak over earlier cells
            _peak_rss_gb(reset=True)
        start = time.perf_counter()
        twin = _fine_twin(params, F, limit)
        build = time.perf_counter() - start
        start = time.perf_counter()
        sol = solve_cmdp(twin, method="auto" if F == finest else "lagrange")
        seconds = time.perf_counter() - start
        # An evaluation of our own, apart from the one the solver certified with.
        ev = evaluate_policy(twin, sol.policy)
        scale = max(abs(limit), float(np.abs(twin.costs[0]).max()) * slots(twin))
        row = {"n_fatigue": F, "n_states": twin.n_states, "n_actions": twin.n_actions,
               "nonzeros": int(twin.transition_matrix.nnz), "build_s": build, "solve_s": seconds,
               "method": sol.method, "value": sol.value, "dual_bound": sol.dual_bound, "gap": sol.gap,
               "rel_gap": sol.gap / abs(sol.dual_bound), "multiplier": float(sol.multipliers[0]),
               "evaluated_value": float(ev.value), "likes": slots(twin) - float(ev.cost_values[0]),
               "like_floor": floor, "limit_slack": limit - float(ev.cost_values[0]),
               "meets_limit": bool(ev.cost_values[0] <= limit + FEASIBILITY_RTOL * scale),
               # Discounted share of request slots after the user has left ("left" is the last state).
               "left_share": (1.0 - twin.discount) * float(sol.occupancy[-1].sum()),
               "dual_evaluations": sol.iterations}
        if F == finest:
            large["peak_rss_gb"] = _peak_rss_gb()
        rows.append(row)
        if F in lp_methods:
            start = time.perf_counter()
            lp = solve_cmdp(twin, method=lp_methods[F])
            lp_seconds = time.perf_counter() - start
            lp_rows.append({"n_fatigue": F, "n_states": twin.n_states, "variables": twin.n_states * twin.n_actions,
                            "nonzeros": row["nonzeros"], "lp_method": lp.method, "lp_s": lp_seconds,
                            "lp_value": lp.value, "lp_gap": lp.gap, "lagrange_s": seconds,
                            "lagrange_value": sol.value,
                            "rel_diff": abs(lp.value - sol.value) / abs(lp.value),
                            "lp_limit_slack": limit - float(lp.cost_values[0]),
                            "lp_multiplier": float(lp.multipliers[0])})
        del twin, sol, ev
    for row in rows:
        row["rel_diff_to_finest"] = abs(row["value"] - rows[-1]["value"]) / abs(rows[-1]["value"])
    large.update(rows[-1])
    return {"levels": rows, "lp": lp_rows, "large": large, "like_floor": floor, "limit": limit,
            "like_free": lo, "like_max": hi}


# ------------------------------------------------------------------------------------------ simulator
def _base_env() -> RecommenderEnv:
    # The leaving charge is discounted as the learners discount costs, so that the like cost is exactly
    # session_slots - discounted likes.
    return RecommenderEnv(n_candidates=SIM["n_candidates"], max_steps=SIM["max_steps"], constraints=("like",),
                          cost_mode="expected", cost_discount=SIM["discount"])


def like_slots() -> float:
    """Discounted request slots of a session in units of the logged like rate: the like cost of a session is
    ``like_slots() - discounted likes`` (both scaled), so a floor ``C`` is the limit ``like_slots() - C``."""
    return session_slots(SIM["max_steps"], SIM["discount"]) / LOGGED_MEANS["like"]


def evaluate_on_simulator(choose, n_episodes: int, seed: int) -> dict:
    """Per-request means of every signal of ``choose(env, obs) -> candidate``.

    Uses the simulator's conditional expectations of the shown item's signals (exact given the state), so
    rare rates are measured precisely; sessions still follow the sampled responses.  Also returns
    ``"discounted_likes"``: the mean discounted like count in units of the logged like rate (the learners'
    constrained quantity).
    """
    totals = np.zeros(len(SIGNAL_NAMES))
    like = SIGNAL_NAMES.index("like")
    acc = {"likes": 0.0, "discount": 1.0}

    def measure(t, obs, action, reward, info):
        expected = info["expected_signals"]
        if t == 0:
            acc["discount"] = 1.0
        np.add(totals, expected, out=totals)
        acc["likes"] += acc["discount"] * expected[like] / LOGGED_MEANS["like"]
        acc["discount"] *= SIM["discount"]

    base = _base_env()
    # ``choose`` sees the recommender itself (oracles read its hidden state); the wrapper only measures.
    steps = rollout(ExpectedSignals(base), lambda env, obs: choose(base, obs), n_episodes, seeds=seed,
                    on_step=measure).n_steps
    out = {name: float(t / steps) for name, t in zip(SIGNAL_NAMES, totals)}
    out["session_length"] = steps / n_episodes
    out["discounted_likes"] = acc["likes"] / n_episodes
    return out


def like_floor(n_episodes: int, seed: int = 20230201) -> float:
    """Discounted likes of the uniformly random recommender in units of the logged like rate, measured as
    ``like_slots()`` minus its mean discounted like cost (fixed seed: the same floor in every cell)."""
    gamma, scale = SIM["discount"], 1.0 / LOGGED_MEANS["like"]
    totals, discount = [], [1.0]

    def measure(t, obs, action, reward, info):
        if t == 0:
            totals.append(0.0)
            discount[0] = 1.0
        totals[-1] += discount[0] * info["costs"][0] * scale
        discount[0] *= gamma

    rollout(_base_env(), random_candidate_chooser(np.random.default_rng(seed)), n_episodes, seeds=seed,
            on_step=measure)
    return float(like_slots() - np.mean(totals))


def _expected_like_rates(recorder: EpisodeRecorder, episodes_per_batch: int) -> np.ndarray:
    """Per-request expected like probability of each batch, from the recorded like costs: a session of ``L``
    requests has cost total ``L - sum_t P(like_t) + leaving_charge(H - L)`` (undiscounted sum of the steps)."""
    totals = recorder.episode_totals()[:, recorder.columns["costs"]][:, 0]
    lengths = recorder.lengths
    charges = np.array([leaving_charge(SIM["max_steps"] - n, SIM["discount"]) for n in lengths])
    likes = lengths + charges - totals
    T = len(lengths) // episodes_per_batch
    shape = (T, episodes_per_batch)
    return likes[:T * episodes_per_batch].reshape(shape).sum(axis=1) / \
        lengths[:T * episodes_per_batch].reshape(shape).sum(axis=1)


def _simulator_policy(params, seed):
    name = params["policy"]
    rng = np.random.default_rng(seed)
    out = {"policy": name}
    if name == "random":
        choose = random_candidate_chooser(rng)
    elif name == "watch-greedy":
        choose = watch_greedy_chooser()
    else:
        floor = like_floor(params["floor_episodes"])
        limit = like_slots() - floor
        # Learner units: watch time and likes divided by their logged means; the recorder keeps raw totals.
        recorder = EpisodeRecorder(RankingRules(_base_env()), keys=("signals", "costs"))
        env = ScaleRewardAndCosts(recorder, reward_scale=1.0 / LOGGED_MEANS["watch_time"],
                                  cost_scale=1.0 / LOGGED_MEANS["like"])
        T, E = params["iterations"], params["episodes"]
        common = {"episodes_per_iteration": E, "lr": 0.1, "seed": seed}
        if name == "lagrangian":
            res = lagrangian_sample(env, [limit], iterations=T, discount=SIM["discount"],
                                    multiplier_lr=SIM_MULTIPLIER_LR, **common)
        elif name == "pid-lagrangian":
            res = pid_lagrangian_sample(env, [limit], iterations=T, discount=SIM["discount"], **SIM_PID,
                                        **common)
        else:
            res = tscac_sample(env, SIM_TSCAC_WEIGHT, discounts=SIM["discount"], stage_one_iterations=T // 2,
                               iterations=T, **common)
        means = recorder.batch_means(E)
        rates = means[:, recorder.columns["signals"]]
        like_expected = _expected_like_rates(recorder, E)  # expected like probability per request
        stage_one = len(rates) - T  # TSCAC trains its auxiliary actor first
        out.update({"floor": floor, "limit": limit, "training_values": res.training_values,
                    "training_likes": like_slots() - res.training_costs[:, 0], "rates": rates[stage_one:],
                    "expected_like_rate": like_expected[stage_one:], "stage_one_rates": rates[:stage_one],
                    "multipliers": getattr(res, "training_multipliers", np.zeros((T, 1)))[:, 0],
                    "episodes": res.episodes})
        choose = ranking_rule_chooser(res.policy, rng)
    out["final"] = evaluate_on_simulator(choose, params["eval_episodes"], seed=10_000)
    return out


def _calibration(params, seed):
    totals = np.zeros(len(SIGNAL_NAMES))

    def measure(t, obs, action, reward, info):
        np.add(totals, info["signals"], out=totals)

    steps = rollout(RecommenderEnv(), random_candidate_chooser(np.random.default_rng(seed)), params["episodes"],
                    seeds=seed, on_step=measure).n_steps
    env_means = {name: float(t / steps) for name, t in zip(SIGNAL_NAMES, totals)}
    sim_means = random_policy_means(n_users=params["users"], seed=seed)
    return {"env_random": env_means, "simulator_random": sim_means, "logged": dict(LOGGED_MEANS)}


# ------------------------------------------------------------------------------------------ grid
def grid(quick: bool) -> list[dict]:
    cells = [{"part": "frontier", "points": 9 if quick else 25, **TWIN},
             {"part": "twin-learners", "iterations": 100 if quick else 600,
              "tscac_points": 4 if quick else 12, **TWIN},
             {"part": "calibration", "episodes": 30 if quick else 400, "users": 500 if quick else 4000}]
    cells.append(LARGE_TWIN_QUICK if quick else LARGE_TWIN)
    for policy in SIM_POLICIES:
        cells.append({"part": "simulator", "policy": policy, "iterations": 4 if quick else 70,
                      "episodes": 3 if quick else 16, "eval_episodes": 6 if quick else 200,
                      "floor_episodes": 10 if quick else 300})
    return cells


def full_grid() -> list[dict]:
    """The default grid with the large-twin cell at ``10^6`` states (and the LP up to 2001 states)."""
    return [LARGE_TWIN_FULL if c["part"] == "large-twin" else c for c in grid(False)]


_PARTS = {"frontier": _frontier, "twin-learners": _twin_learners, "large-twin": _large_twin,
          "calibration": _calibration, "simulator": _simulator_policy}


def compute(params, seed):
    return _PARTS[params["part"]](params, seed)


# ------------------------------------------------------------------------------------------ report
def _by_part(records, part):
    return [r for r in records if r["params"]["part"] == part]


_STYLES = {"Lagrangian (best response)": ("tab:red", "v"), "Lagrangian (NPG)": ("tab:orange", "^"),
           "PID Lagrangian (NPG)": ("tab:blue", "o"), "PID Lagrangian (NPG, default gains)": ("tab:cyan", "s")}


def _report_twin(r, frontier, learners) -> None:
    import matplotlib.pyplot as plt

    f = frontier["result"]
    floors = np.asarray(f["like_floor"])
    values = np.asarray(f["watch_value"], dtype=float)
    feasible = np.asarray(f["feasible"], dtype=bool)
    r.add_table("twin_frontier", [{"like_floor": x, "watch_value": v if ok else None, "multiplier": m}
                                  for x, v, ok, m in zip(floors, values, feasible, f["multiplier"])])
    fig, ax = plt.subplots(figsize=(7.0, 4.8))
    ax.plot(floors[feasible], values[feasible], "k-", lw=2, label="exact LP frontier")
    ax.plot([f["like_free"]], [f["watch_free"]], "ko", mfc="white", label="watch-optimal (no floor)")
    ax.plot([f["uniform_like"]], [f["uniform_watch"]], "s", color="grey", label="uniform random")
    if learners is not None:
        res = learners["result"]
        for name, (color, marker) in _STYLES.items():
            pts = [p for p in res["points"] if p["learner"] == name and p["policy"] == "last iterate"]
            ax.plot([p["likes"] for p in pts], [p["watch"] for p in pts], marker, color=color, ls="none",
                    label=f"{name}, last iterate")
            avg = [p for p in res["points"] if p["learner"] == name and p["policy"] == "average"]
            ax.plot([p["likes"] for p in avg], [p["watch"] for p in avg], marker, color=color, mfc="none",
                    ls="none", label=f"{name}, average")
        ts = res["tscac"]
        ax.plot([p["likes"] for p in ts], [p["watch"] for p in ts], "D-", color="tab:green", ms=4,
                label="TSCAC (weight sweep)")
        for frac in FLOOR_FRACTIONS:
            x = next(p["like_floor"] for p in res["points"] if p["floor_fraction"] == frac)
            ax.axvline(x, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("discounted likes per session")
    ax.set_ylabel("discounted watch time per session (s)")
    ax.set_title("Tabular twin: exact frontier and learners (dotted: the floors)")
    ax.legend(fontsize=6.5, loc="lower left")
    r.add_figure("twin_frontier", fig, "Exact watch-vs-like frontier of the tabular twin; filled markers are "
                 "last iterates, hollow ones occupancy averages, at floors 25/50/75 % of the like range.")
    text = (f"The twin has {f['n_states']} states (fatigue band x interest cluster, plus 'left') and "
            f"{f['n_actions']} item types (4 topics x 3 durations x 2 qualities), discount {TWIN['discount']}.  "
            f"Without a floor the watch-optimal policy collects {f['like_free']:.3f} discounted likes and "
            f"{f['watch_free']:.1f} s of discounted watch time; the most likes any policy gets is "
            f"{f['like_max']:.3f}; the uniform random recommender gets {f['uniform_like']:.3f} likes and "
            f"{f['uniform_watch']:.1f} s.  The exact LP frontier between these points is concave and decreasing; "
            f"its slope is the like multiplier (at most {max(f['multiplier']):.0f} s of watch time per like).")
    r.add_section("Tabular twin: exact frontier", text)
    if learners is None:
        return
    res = learners["result"]
    rows = [{k: p[k] for k in ("learner", "policy", "floor_fraction", "like_floor", "likes", "watch", "lp_watch",
                               "meets_floor", "violating_iterates")} for p in res["points"]]
    for row in rows:
        row["gap_to_lp"] = row["lp_watch"] - row["watch"]
    r.add_table("twin_learner_points", rows)
    mid = res["middle"]
    curves = res["curves"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    for name, c in curves.items():
        color = _STYLES[name][0]
        axes[0].plot(c["likes"], color=color, lw=1, label=name)
        axes[1].plot(c["multiplier"], color=color, lw=1, label=name)
    axes[0].axhline(mid["like_floor"], color="k", ls="--", lw=1, label="floor")
    axes[1].axhline(mid["lp_multiplier"], color="k", ls="--", lw=1, label="LP multiplier")
    axes[0].set_xlabel("iteration")
    axes[0].set_ylabel("discounted likes of the iterate")
    axes[1].set_xlabel("iteration")
    axes[1].set_ylabel("multiplier (s of watch per like)")
    axes[0].legend(fontsize=7)
    axes[1].set_ylim(0, 3 * mid["lp_multiplier"])
    r.add_figure("twin_training_curves", fig, "Middle floor: like value of each iterate (left) and multiplier "
                 "(right).  The Lagrangian's last iterate keeps swinging across the floor; PID settles.")
    mid_rows = [p for p in rows if p["floor_fraction"] == 0.5]

    def last(name, which="last iterate"):
        return next(p for p in mid_rows if p["learner"] == name and p["policy"] == which)

    def tail_range(name):
        likes = np.asarray(curves[name]["likes"])[-len(curves[name]["likes"]) // 5:]
        return likes.min(), likes.max()

    br_lo, br_hi = tail_range("Lagrangian (best response)")
    npg_lo, npg_hi = tail_range("Lagrangian (NPG)")
    pid_lo, pid_hi = tail_range("PID Lagrangian (NPG)")
    pid = last("PID Lagrangian (NPG)")
    br_avg = last("Lagrangian (best response)", "average")
    default = last("PID Lagrangian (NPG, default gains)")
    r.add_section("Tabular twin: Lagrangian oscillation vs PID convergence", (
        f"At the middle floor ({mid['like_floor']:.3f} likes) the LP optimum is {mid['lp_watch']:.1f} s with "
        f"multiplier {mid['lp_multiplier']:.1f} s per like.  Over the last fifth of training the iterates' likes "
        f"range over [{br_lo:.3f}, {br_hi:.3f}] for the Lagrangian with exact best responses (a deterministic "
        f"best response cannot sit on a randomised optimum), [{npg_lo:.3f}, {npg_hi:.3f}] for the Lagrangian "
        f"with natural-gradient steps, and [{pid_lo:.3f}, {pid_hi:.3f}] for the PID Lagrangian "
        f"(K_P {TWIN_PID['kp']}, K_I {TWIN_PID['ki']}, K_D {TWIN_PID['kd']} in normalised units), whose last "
        f"iterate ends at {pid['watch']:.1f} s and {pid['likes']:.3f} likes (LP {pid['lp_watch']:.1f} s).  "
        f"Only the average of the best-response iterates converges ({br_avg['watch']:.1f} s, "
        f"{br_avg['likes']:.3f} likes).  With the default gains (0.1, 0.01, 0.01) PID is far slower at "
        f"this scale: after {len(curves['PID Lagrangian (NPG)']['likes'])} iterations it stands at "
        f"{default['likes']:.3f} likes and {default['watch']:.1f} s.  Constraint satisfaction of every final "
        f"point is in `twin_learner_points.csv` (column `meets_floor`; `violating_iterates` is the fraction of "
        f"training iterates more than 1e-3 below the floor in normalised units).\n\n"
        + r.markdown_table(mid_rows, ["learner", "policy", "likes", "watch", "lp_watch", "gap_to_lp",
                                      "meets_floor", "violating_iterates"], floatfmt=".4g")))
    ts = res["tscac"]
    r.add_table("twin_tscac", ts)
    gaps = np.array([p["gap"] for p in ts])
    rel = gaps / np.array([p["frontier_watch"] for p in ts])
    worst = int(np.argmax(gaps))
    free_likes = frontier["result"]["like_free"] if frontier else None
    idle = [p for p in ts if free_likes is not None and p["likes"] <= free_likes * (1 + 1e-3) and p["gap"] > 1.0]
    wasted = (f"  At lambda {idle[-1]['weight']:.3g} TSCAC gives up {idle[-1]['gap']:.1f} s of watch time without "
              f"gaining a single like over the watch-optimal policy ({idle[-1]['likes']:.3f} likes)."
              if idle else "")
    r.add_section("Tabular twin: TSCAC stays below the frontier", (
        f"Tabular TSCAC (exact stage one with entropy temperature {TWIN_TSCAC_TEMPERATURE} in normalised units, "
        f"stage two iterated to its fixed point) for {len(ts)} weights lambda from {ts[0]['weight']:.3g} to "
        f"{ts[-1]['weight']:.3g}: small lambda approaches the watch-optimal policy, large lambda the "
        f"like-seeking auxiliary policy.  At the same number of likes every TSCAC policy has less watch time "
        f"than the LP optimum: the gap is {gaps.min():.1f} to {gaps.max():.1f} s "
        f"({100 * rel.min():.1f} to {100 * rel.max():.1f} % of the frontier value; largest at lambda "
        f"{ts[worst]['weight']:.3g}).{wasted}  Why: stage two maximises the main advantage subject to a KL "
        f"penalty towards the auxiliary (like-seeking) policy in every state alike, whatever that state "
        f"contributes to the like value; closeness to a like-seeking *policy* is only a proxy for a like *value* "
        f"constraint.  The LP instead spends the like budget where watch time buys the most likes (its optimum "
        f"randomises in at most one state, one per constraint).  TSCAC also never looks at the floor: its "
        f"weight must be tuned to meet one.  This gap is the expected finding, not a bug.\n\n"
        + r.markdown_table(ts, ["weight", "likes", "watch", "frontier_watch", "gap"], floatfmt=".4g")))


def _report_large_twin(r, rec) -> None:
    res = rec["result"]
    levels, lps, big = res["levels"], res["lp"], res["large"]
    r.add_table("large_twin_levels", levels)
    r.add_table("large_twin_lp", lps)
    worst_lp = max(p["rel_diff"] for p in lps) if lps else float("nan")
    slowest = max(lps, key=lambda p: p["n_states"]) if lps else None
    smallest = min(lps, key=lambda p: p["n_states"]) if lps else None
    same_level = next((v for v in levels if slowest and v["n_fatigue"] == slowest["n_fatigue"]), None)
    coarse = [v for v in levels if v["n_fatigue"] != big["n_fatigue"]]
    from_second = max((v["rel_diff_to_finest"] for v in coarse[1:]), default=float("nan"))
    rss = (f"peak resident memory {big['peak_rss_gb']:.2f} GB (VmHWM of the worker, reset before the build)"
           if np.isfinite(big["peak_rss_gb"]) else "peak resident memory not measurable here")
    if slowest is not None:
        lp_text = (f"The occupancy LP (HiGHS; `method` as listed) on the levels up to {slowest['n_states']} states "
                   f"agrees with the Lagrangian method to at most {worst_lp:.1e} relative (the target is 1e-6; the "
                   f"LP's vertex may overshoot the limit within the verification tolerance, column "
                   f"`lp_limit_slack`).  It does not reach the large instance: at {slowest['n_states']} states "
                   f"({slowest['variables']} variables) the LP took {slowest['lp_s']:.1f} s against "
                   f"{same_level['solve_s']:.2f} s for the Lagrangian method on the same twin (from "
                   f"{smallest['n_states']} to {slowest['n_states']} states its time grew "
                   f"{slowest['lp_s'] / smallest['lp_s']:.0f}-fold); the {big['n_states']}-state instance has "
                   f"{big['n_states'] * big['n_actions']} variables, and the LP was not run beyond "
                   f"{slowest['n_states']} states.")
        # Only sizes solved by the same HiGHS method share an exponent, and below a few hundred states fixed
        # costs dominate the LP's time; a least-squares fit over every such size, since each time is noisy
        # when the other core is busy.
        same = [p for p in lps if p["lp_method"] == slowest["lp_method"] and p["n_states"] >= 400]
        if len(same) >= 2 and all(p["lp_s"] > 0 for p in same):
            x = np.log([p["n_states"] for p in same])
            p_exp = float(np.polyfit(x, np.log([p["lp_s"] for p in same]), 1)[0])
            if p_exp > 0:
                guess = slowest["lp_s"] * (big["n_states"] / slowest["n_states"]) ** p_exp
                lp_text += (f"  A fit of its "
                            f"{len(same)} {slowest['lp_method']} solves from {same[0]['n_states']} states on "
                            f"(time ~ states^{p_exp:.1f}; an extrapolation, not a measurement) gives about "
                            f"{guess / 3600:.0f} h at {big['n_states']} states.")
    else:
        lp_text = "No level was solved by the LP in this run."
    # Seconds to the millisecond in the summary (the CSV keeps them whole), values to 10 digits.
    shown_levels = [{**v, "build_s": round(v["build_s"], 3), "solve_s": round(v["solve_s"], 3)} for v in levels]
    shown_lps = [{**p, "lp_s": round(p["lp_s"], 3), "lagrange_s": round(p["lagrange_s"], 3)} for p in lps]
    r.add_section("Large instance: the fine-grained twin", (
        f"The fine-grained twin with {big['n_fatigue']} fatigue bands: {big['n_states']} states, "
        f"{big['n_actions']} item types, {big['nonzeros']} non-zero transition probabilities (sparse CSR), "
        f"discount {rec['params']['discount']}, like floor {res['like_floor']:.4f} discounted likes (the middle "
        f"floor of the learners' section, {rec['params']['floor_fraction']:.0%} of the like range of the "
        f"{TWIN['n_fatigue']}-band twin, the same floor at every level).  Built in {big['build_s']:.1f} s; "
        f"`solve_cmdp(twin, method=\"auto\")` chose **{big['method']}** and took {big['solve_s']:.1f} s "
        f"({big['dual_evaluations']} evaluations of the dual function); {rss}.  Value {big['value']:.6f} s of "
        f"discounted watch time, dual bound {big['dual_bound']:.6f}, gap {big['gap']:.2e} "
        f"({big['rel_gap']:.1e} relative), multiplier {big['multiplier']:.3f} s per like.  Our own exact "
        f"evaluation of the returned policy: value {big['evaluated_value']:.6f}, {big['likes']:.6f} likes "
        f"against the floor {big['like_floor']:.6f} (limit slack {big['limit_slack']:.1e}; meets every limit "
        f"within {FEASIBILITY_RTOL:g} of its scale: {big['meets_limit']}).\n\n"
        f"Grid convergence (every level solved by the Lagrangian method, the finest through `auto`): the "
        f"{TWIN['n_fatigue']}-band twin's optimum differs from the finest by {coarse[0]['rel_diff_to_finest']:.1e} "
        f"relative, the finer levels by at most {from_second:.1e}.  The optimum hardly depends on the fatigue "
        f"resolution because the optimal policy shows on-topic items that barely tire the user: the discounted "
        f"share of request slots after leaving (`left_share`) is {coarse[0]['left_share']:.1e} on the coarsest "
        f"twin and {big['left_share']:.1e} on the finest, i.e. users essentially never leave within the "
        f"discounted horizon.  The fine twin is the same problem resolved "
        f"{big['n_fatigue'] // coarse[0]['n_fatigue']} times more finely, and the "
        f"section shows that the exact method scales to it, not that the coarse twin was wrong.\n\n"
        + lp_text + "\n\n"
        + r.markdown_table(shown_levels, ["n_fatigue", "n_states", "nonzeros", "build_s", "solve_s", "method",
                                          "value", "dual_bound", "rel_gap", "likes", "left_share",
                                          "rel_diff_to_finest"], floatfmt=".10g")
        + "\n\n"
        + r.markdown_table(shown_lps, ["n_states", "variables", "lp_method", "lp_s", "lp_value", "lagrange_s",
                                       "lagrange_value", "rel_diff", "lp_limit_slack"], floatfmt=".10g")))


def _report_calibration(r, rec) -> None:
    res = rec["result"]
    rows = []
    for name in SIGNAL_NAMES:
        logged = res["logged"][name]
        sim_mean = res["simulator_random"][name]
        rows.append({"signal": name, "logged (BC)": logged, "simulator, random policy": sim_mean,
                     "rel. error": sim_mean / logged - 1.0,
                     "env, random policy (realised)": res["env_random"][name]})
    r.add_table("calibration", rows)
    r.add_section("Calibration of the simulator", (
        f"A uniformly random recommender against the logged KuaiRand per-request means (the biases of "
        f"`mechsim.cmdp.simulator.CALIBRATED_BIASES`, reproduced by `calibrate`).  'simulator' averages the "
        f"response probabilities over {rec['params']['users']} simulated sessions (low variance even for 2e-4 "
        f"rates); 'env' counts the 0/1 draws of {rec['params']['episodes']} sessions of "
        f"`mechsim/Recommender-v0`, so its rare rates are noisy.  Mean session length under the random "
        f"policy: {res['simulator_random']['session_length']:.1f} requests.\n\n"
        + r.markdown_table(rows, floatfmt=".4g")))


_SIM_COLORS = {"random": "grey", "watch-greedy": "black", "lagrangian": "tab:orange",
               "pid-lagrangian": "tab:blue", "tscac": "tab:green"}


def _smooth(x, width):
    x = np.asarray(x, dtype=float)
    if width <= 1 or x.size < width:
        return x
    return np.convolve(x, np.ones(width) / width, mode="valid")


def _report_simulator(r, records) -> None:
    import matplotlib.pyplot as plt

    by_name = {rec["result"]["policy"]: rec for rec in records}
    shown = ("watch_time", "click", "like", "follow", "comment", "share", "hate")
    fig, axes = plt.subplots(2, 4, figsize=(15, 6.5))
    for ax, signal in zip(axes.ravel(), shown + ("session",)):
        idx = SIGNAL_NAMES.index(signal) if signal != "session" else None
        for name, rec in by_name.items():
            res = rec["result"]
            color = _SIM_COLORS[name]
            final = res["final"]["session_length"] if idx is None else res["final"][signal]
            if "rates" in res and idx is not None:
                # Likes: the expected rate (the constrained signal's cost), far less noisy than the 0/1 draws.
                rates = np.asarray(res["expected_like_rate"] if signal == "like" else np.asarray(res["rates"])[:, idx])
                width = max(1, len(rates) // 10)
                ax.plot(np.arange(len(_smooth(rates, width))) + width - 1, _smooth(rates, width), color=color,
                        lw=1, label=name)
            ax.axhline(final, color=color, lw=0.8, ls="--" if "rates" in res else "-",
                       label=None if "rates" in res else name)
        if idx is not None:
            ax.axhline(LOGGED_MEANS[signal], color="red", lw=0.6, ls=":", label="logged mean")
        ax.set_title("session length (final policies)" if idx is None else f"{signal} per request", fontsize=9)
        if idx is None:
            ax.set_xticks([])
        else:
            ax.set_xlabel("training iteration", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    r.add_figure("simulator_training_curves", fig, "Simulator: per-request rates of the training episodes "
                 "(moving average over a tenth of training; realised 0/1 signals, so rare rates are noisy, "
                 "except likes, shown as expected rates), "
                 "dashed lines the final policies (exact conditional expectations over evaluation sessions), "
                 "solid horizontal lines the fixed baselines, red dotted the logged means.")
    rows = []
    for label, means in PAPER_ROWS.items():
        rows.append({"policy": label, **{s: means.get(s) for s in ("watch_time", "click", "like", "comment",
                                                                  "hate")}})
    for name in SIM_POLICIES:
        if name in by_name:
            final = by_name[name]["result"]["final"]
            keys = ("watch_time", "click", "like", "comment", "hate", "follow", "share", "session_length",
                    "discounted_likes")
            rows.append({"policy": f"{name}, simulator", **{s: final[s] for s in keys}})
    r.add_table("simulator_final", rows)
    base = by_name.get("random", {}).get("result", {}).get("final")
    lines = []
    if base is not None:
        for name in ("watch-greedy", "lagrangian", "pid-lagrangian", "tscac"):
            if name in by_name:
                fin = by_name[name]["result"]["final"]
                res = by_name[name]["result"]
                status = ""
                if "floor" in res:
                    met = fin["discounted_likes"] >= res["floor"]
                    status = (f"; discounted likes {fin['discounted_likes']:.2f} vs floor {res['floor']:.2f} "
                              f"({'met' if met else 'NOT met'})")
                lines.append(f"- **{name}**: watch {100 * (fin['watch_time'] / base['watch_time'] - 1):+.1f} %, "
                             f"like {100 * (fin['like'] / base['like'] - 1):+.1f} %, "
                             f"click {100 * (fin['click'] / base['click'] - 1):+.1f} %, "
                             f"comment {100 * (fin['comment'] / base['comment'] - 1):+.1f} % per request vs "
                             f"random{status}")
    paper = PAPER_ROWS["TSCAC, paper"]
    bc = PAPER_ROWS["BC (logged), paper"]
    learner = next((rec for rec in records if "floor" in rec["result"]), None)
    r.add_section("Simulator: learners against the logged policy and the paper", (
        f"Sessions of at most {SIM['max_steps']} requests, {SIM['n_candidates']} random candidates per request, "
        f"discount {SIM['discount']}.  The learners pick one of the ranking rules of `RankingRules` per request "
        f"with a linear-softmax policy on the user features; "
        + (f"each trains for {learner['params']['iterations']} iterations of {learner['params']['episodes']} "
           f"sessions (TSCAC: plus {learner['params']['iterations'] // 2} stage-one iterations) with the like "
           f"floor at the random recommender's discounted likes ({learner['result']['floor']:.2f} in units of "
           f"the logged like rate); Lagrangian multiplier step {SIM_MULTIPLIER_LR}, PID gains "
           f"K_P {SIM_PID['kp']}, K_I {SIM_PID['ki']}, K_D {SIM_PID['kd']}, TSCAC weight {SIM_TSCAC_WEIGHT}.  "
           f"Whether a final policy meets the floor is judged on its exact expected discounted likes over the "
           f"evaluation sessions; the learners only see 16-session Monte Carlo estimates, so a last iterate "
           f"that hovers around the floor can land on either side.  " if learner else "")
        + "Final per-request means (exact conditional expectations over the evaluation sessions):\n\n"
        + "\n".join(lines) + "\n\n"
        + f"The paper's TSCAC row, relative to its behaviour policy: watch "
        f"{100 * (paper['watch_time'] / bc['watch_time'] - 1):+.1f} %, like "
        f"{100 * (paper['like'] / bc['like'] - 1):+.1f} %, click {100 * (paper['click'] / bc['click'] - 1):+.1f} %, "
        f"comment {100 * (paper['comment'] / bc['comment'] - 1):+.1f} %.  Here the random recommender plays "
        f"the behaviour policy (it reproduces the logged means by calibration); absolute gains are larger than "
        f"the paper's because the simulator's random policy is a much weaker baseline than Kuaishou's "
        f"production ranker, so only the direction and the trade-off between watch time and likes carry over.  "
        f"The myopic watch-greedy oracle shows the trade-off's extreme: most watch time, likes below the "
        f"logged rate.\n\n"
        + f"The floor constrains discounted likes per session (discount {SIM['discount']}), not the "
        f"per-request rate: a policy that keeps users longer can meet it with a lower rate.\n\n"
        + r.markdown_table(rows, ["policy", "watch_time", "click", "like", "comment", "hate", "follow", "share",
                                  "session_length", "discounted_likes"], floatfmt=".4g")))


def report(r) -> None:
    frontier = _by_part(r.records, "frontier")
    learners = _by_part(r.records, "twin-learners")
    if frontier:
        _report_twin(r, frontier[0], learners[0] if learners else None)
    large = _by_part(r.records, "large-twin")
    if large:
        _report_large_twin(r, large[0])
    simulator = _by_part(r.records, "simulator")
    if simulator:
        _report_simulator(r, simulator)
    calibration = _by_part(r.records, "calibration")
    if calibration:
        _report_calibration(r, calibration[0])


SCENARIO = Scenario(name=NAME, description="watch time under a like floor: exact CMDP frontier on a tabular twin "
                    "vs Lagrangian, PID and TSCAC; the same learners on the calibrated short-video simulator",
                    grid=grid, compute=compute, report=report, full_grid=full_grid)

if __name__ == "__main__":
    from mechsim.runner.cli import scenario_main

    scenario_main(SCENARIO)
