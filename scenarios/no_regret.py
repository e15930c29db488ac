"""Scenario ``no-regret``: how fast do no-regret learners' regrets grow, against their theoretical bounds?

Runs, side by side:

- full information: Hedge (horizon-tuned, bound ``sqrt(T ln K / 2)``) and regret matching (bound
  ``sqrt(K T)``) on the alternating sequence that defeats follow-the-leader, and Hedge on i.i.d. Bernoulli
  losses (K = 10, best mean 0.4 vs 0.5); expected exponent 1/2;
- bandit feedback: EXP3 (horizon-tuned, bound ``sqrt(2 T K ln K)``) on the alternating sequence and on a
  5-armed Bernoulli bandit with gap 0.2 (best mean reward 0.5); expected exponent 1/2;
- explore-then-commit on the same bandit (aggregate simulation, horizons up to 10^8), whose exploration
  ``m = ceil((T/K)^(2/3) (ln T)^(1/3))`` pulls per arm makes the regret grow as ``T^(2/3) (ln T)^(1/3)``:
  expected exponent 2/3, plus ``1/(3 ln T)`` (about 0.02) from the log factor;
- regret matching and regret matching+ in self-play on zero-sum games: exploitability of the average
  strategies (duality gap) against the number of rounds; expected to vanish at least like ``T^(-1/2)``.

Every regret cell is one independent run (learner, environment, horizon, replicate) tuned to its horizon;
the exponent is the OLS slope of log regret on log horizon over all runs, with a 95% t interval
(:func:`mechsim.regret.fit_regret_exponent`).
"""

from __future__ import annotations

import numpy as np

from mechsim.learners import regret_matching_self_play, simulate_explore_then_commit
from mechsim.regret import (
    LEARNERS,
    AlternatingLosses,
    BernoulliLosses,
    GapBandit,
    RegretMeasurement,
    fit_regret_exponent,
    plot_regret,
    run_learner,
)
from mechsim.runner.scenario import Scenario

#: name -> environment
ENVIRONMENTS = {
    "alternating": AlternatingLosses(2),
    "bernoulli-10": BernoulliLosses(np.array([0.4] + [0.5] * 9)),
    "gap-bandit-5": GapBandit.make(5, gap=0.2, best_reward=0.5),
}

#: (learner, environment, expected exponent, panel)
EXPERIMENTS = [
    ("hedge", "alternating", 0.5, "full information"),
    ("hedge", "bernoulli-10", 0.5, "full information"),
    ("regret-matching", "alternating", 0.5, "full information"),
    ("exp3", "alternating", 0.5, "bandit"),
    ("exp3", "gap-bandit-5", 0.5, "bandit"),
    ("explore-then-commit", "gap-bandit-5", 2.0 / 3.0, "explore-then-commit"),
]

#: name -> (payoff matrix of the row player, initial strategies or None)
GAMES = {
    "rock-paper-scissors": (np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]),
                            ([0.6, 0.3, 0.1], [0.2, 0.2, 0.6])),
    "biased-matching-pennies": (np.array([[3.0, -1.0], [-1.0, 1.0]]), None),
    "random-zero-sum-4x6": (np.random.default_rng(2024).uniform(-1.0, 1.0, size=(4, 6)), None),
}


def _horizons(learner: str, quick: bool) -> list[int]:
    if learner == "explore-then-commit":  # aggregate simulation: cost independent of T
        return [int(round(10 ** e)) for e in np.arange(4.0, 8.01, 1.0 if quick else 0.5)]
    return [500 * 4 ** i for i in range(4)] if quick else [1000 * 4 ** i for i in range(6)]


def grid(quick: bool) -> list[dict]:
    cells = []
    for learner, env, _, _ in EXPERIMENTS:
        if learner == "explore-then-commit":
            replicates = 5 if quick else 20
        elif env == "alternating" and learner != "exp3":
            replicates = 1  # deterministic learner on a deterministic sequence: replicates would be copies
        else:
            replicates = 3 if quick else 5
        for horizon in _horizons(learner, quick):
            for rep in range(replicates):
                cells.append({"kind": "regret", "learner": learner, "environment": env, "horizon": horizon,
                              "replicate": rep})
    for game in GAMES:
        for plus in (False, True):
            cells.append({"kind": "self-play", "game": game, "plus": plus,
                          "rounds": 5_000 if quick else 100_000})
    # largest cells first, so that the process pool is never left waiting on one long cell at the end
    cells.sort(key=lambda c: -(c.get("horizon", 0) if c.get("learner") != "explore-then-commit" else 0)
               - c.get("rounds", 0) * 3)
    return cells


def compute(params, seed: int) -> dict:
    if params["kind"] == "self-play":
        payoff, init = GAMES[params["game"]]
        res = regret_matching_self_play(payoff, rounds=params["rounds"], plus=params["plus"],
                                        initial_strategies=init)
        return {"exploitability": res.exploitability, "value": res.value,
                "average_a": res.average_a, "average_b": res.average_b,
                "checkpoints": res.checkpoints, "exploitability_curve": res.exploitability_curve}
    env = ENVIRONMENTS[params["environment"]]
    horizon = int(params["horizon"])
    spec = LEARNERS[params["learner"]]
    if params["learner"] == "explore-then-commit":
        sim = simulate_explore_then_commit(1.0 - env.mean_losses, horizon, seed=seed)
        regret = sim.pseudo_regret
        extra = {"exploration": sim.exploration, "committed_arm": sim.committed_arm}
    else:
        regret = float(run_learner(spec, env, horizon, np.random.SeedSequence(seed)).regret[0])
        extra = {}
    bound = float(spec.bound(horizon, env.n_actions))
    return {"regret": regret, "bound": bound, "ratio_to_bound": regret / bound, **extra}


def _measurements(records) -> list[tuple[RegretMeasurement, float, str]]:
    out = []
    for learner, env_name, expected, panel in EXPERIMENTS:
        recs = [r for r in records if r["params"].get("learner") == learner
                and r["params"].get("environment") == env_name]
        if not recs:
            continue
        horizons = sorted({r["params"]["horizon"] for r in recs})
        reps = sorted({r["params"]["replicate"] for r in recs})
        table = np.full((len(reps), len(horizons)), np.nan)
        bounds = np.zeros(len(horizons))
        for r in recs:
            i, j = reps.index(r["params"]["replicate"]), horizons.index(r["params"]["horizon"])
            table[i, j] = r["result"]["regret"]
            bounds[j] = r["result"]["bound"]
        m = RegretMeasurement(learner, env_name, ENVIRONMENTS[env_name].n_actions, np.array(horizons),
                              tuple(reps), table, bounds)
        out.append((m, expected, panel))
    return out


def report(r) -> None:
    import matplotlib.pyplot as plt

    measured = _measurements(r.records)
    rows = []
    for m, expected, _panel in measured:
        positive = bool(np.all(m.regrets > 0))
        fit = m.fit() if positive else None
        bound_fit = fit_regret_exponent(m.horizons, m.bounds)
        ratio = m.regrets / m.bounds
        mean_ratio = m.mean / m.bounds
        rows.append({
            "learner": m.learner, "environment": m.environment, "K": m.n_actions,
            "horizons": f"{m.horizons.min():.0e}..{m.horizons.max():.0e}", "runs": m.regrets.size,
            "slope": fit.slope if fit else float("nan"),
            "ci95": f"[{fit.ci_low:.3f}, {fit.ci_high:.3f}]" if fit else "n/a (zero regret)",
            "expected": round(expected, 3), "bound_slope": bound_fit.slope,
            "mean_regret_at_T_max": float(m.mean[-1]), "bound_at_T_max": float(m.bounds[-1]),
            "mean/bound": float(mean_ratio.max()), "max_run/bound": float(ratio.max()),
            "within_bound": bool(np.all(mean_ratio <= 1.0)),
        })
    r.add_table("exponents", rows)

    panels = {}
    for m, _, panel in measured:
        panels.setdefault(panel, []).append(m)
    for panel, ms in panels.items():
        fig = plot_regret(ms, title=f"{panel}: regret vs horizon (log-log)",
                          references=("T^(2/3)", "sqrt(T log K)") if panel == "explore-then-commit"
                          else ("sqrt(T log K)", "T^(2/3)"))
        r.add_figure(f"regret_{panel.replace(' ', '_').replace('-', '_')}", fig,
                     caption=f"{panel}: mean regret over runs (band: min-max), dotted: theoretical bound, "
                             "grey: reference shapes anchored at the first point")

    sp = [rec for rec in r.records if rec["params"].get("kind") == "self-play"]
    sp_rows = []
    if sp:
        fig, ax = plt.subplots(figsize=(6.4, 4.6))
        for rec in sp:
            res, p = rec["result"], rec["params"]
            cp, curve = np.asarray(res["checkpoints"]), np.asarray(res["exploitability_curve"])
            keep = (curve > 0) & (cp >= 10)
            fit = fit_regret_exponent(cp[keep], curve[keep]) if keep.sum() >= 3 else None
            name = f"{p['game']} ({'RM+' if p['plus'] else 'RM'})"
            ax.plot(cp, np.maximum(curve, 1e-16), "o-", ms=3, label=name)
            payoff = GAMES[p["game"]][0]
            x, y = np.asarray(res["average_a"]), np.asarray(res["average_b"])
            sp_rows.append({
                "game": p["game"], "learner": "regret-matching+" if p["plus"] else "regret-matching",
                "rounds": p["rounds"], "exploitability": res["exploitability"],
                "slope": fit.slope if fit else float("nan"),
                "ci95": f"[{fit.ci_low:.3f}, {fit.ci_high:.3f}]" if fit else "n/a",
                "value_low": float((x @ payoff).min()), "value_high": float((payoff @ y).max()),
            })
        ref = np.geomspace(10, max(rec["params"]["rounds"] for rec in sp), 20)
        ax.plot(ref, ref ** -0.5, "--", color="gray", label="T^(-1/2) (shape)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rounds T")
        ax.set_ylabel("exploitability of average strategies")
        ax.set_title("regret matching self-play in zero-sum games")
        ax.legend(fontsize=7)
        ax.grid(True, which="both", alpha=0.3)
        r.add_table("self_play", sp_rows)
        r.add_figure("self_play_exploitability", fig,
                     caption="duality gap of the average strategy profile against rounds")

    text = [
        "Cumulative regret of each learner at several horizons (one independent run per horizon and "
        "replicate, tuned to that horizon), fitted as `regret ~ c T^slope` by OLS on log-log scale over all "
        "runs, with a 95% t confidence interval. *expected* is the theoretical exponent, *bound_slope* the "
        "log-log slope of the learner's bound over the same horizons. *mean/bound* is the largest, over "
        "horizons, ratio of the mean regret over runs to the bound (*within_bound* = at most 1 at every "
        "horizon); *max_run/bound* the largest ratio of a single run. Regret is the expected-play regret "
        "against the adversarial (alternating) sequence and the pseudo-regret in stochastic environments. "
        "Hedge's and regret matching's bounds hold for every run on any fixed sequence; EXP3's bound and all "
        "pseudo-regret bounds hold in expectation (explore-then-commit's with high probability), so a "
        "single stochastic run may exceed them, the mean may not.",
        "",
        r.markdown_table(rows, ["learner", "environment", "K", "horizons", "runs", "slope", "ci95", "expected",
                                "bound_slope", "mean_regret_at_T_max", "bound_at_T_max", "mean/bound",
                                "max_run/bound", "within_bound"], floatfmt=".3g"),
        "",
    ]
    findings = []
    for row in rows:
        findings.append(
            f"- {row['learner']} on {row['environment']}: slope {row['slope']:.3f} {row['ci95']} "
            f"(theory {row['expected']:.3f}); mean regret within the bound at every horizon: "
            f"{'yes' if row['within_bound'] else 'NO'} (largest mean/bound {row['mean/bound']:.2f}, largest "
            f"single run/bound {row['max_run/bound']:.2f}).")
    text += findings
    text += ["",
             "Explore-then-commit explores `m = ceil((T/K)^(2/3) (ln T)^(1/3))` pulls per arm, so its regret is "
             "`~ (K-1) gap m`: the local log-log slope is `2/3 + 1/(3 ln T)`, about 0.69 on these horizons, "
             "which is why its interval sits slightly above 2/3 (the bound's own slope, *bound_slope*, shows "
             "the same shift)."]
    r.add_section("Regret exponents", "\n".join(text))
    if sp_rows:
        r.add_section("Regret matching self-play", "\n".join([
            "Both players run regret matching (or RM+) against each other's mixed strategy; the table gives "
            "the exploitability (duality gap `max_i (A y)_i - min_j (x^T A)_j`) of the average strategies "
            "after the last round, its log-log slope over the checkpoints, and the bracket "
            "`[min_j (x^T A)_j, max_i (A y)_i]` that must contain the value of the game.",
            "",
            r.markdown_table(sp_rows, ["game", "learner", "rounds", "exploitability", "slope", "ci95",
                                       "value_low", "value_high"], floatfmt=".4g"),
        ]))


SCENARIO = Scenario(
    name="no-regret",
    description="Regret growth of Hedge, regret matching, EXP3 and explore-then-commit vs their bounds "
                "(fitted exponents), and regret-matching self-play",
    grid=grid,
    compute=compute,
    report=report,
)

if __name__ == "__main__":
    from mechsim.runner.cli import scenario_main

    scenario_main(SCENARIO)
