"""Scenario ``hiring``: hiring several agents to acquire information (Cacciamani, Castiglioni, Gatti 2024).

Four parts, each a set of grid cells:

1. **Correlated vs uncorrelated mechanisms.**  On a few hundred random 2-agent instances per setting
   (conditionally independent signals, and signals correlated by a comonotone coupling), the optimal
   correlated mechanism (:func:`mechsim.solvers.hiring_lp.optimal_mechanism`) against the best
   uncorrelated one (:func:`~mechsim.solvers.hiring_lp.optimal_uncorrelated_mechanism`): distribution of
   the value gap, how often the optimal recommendation is genuinely randomised, and the instance with the
   largest gap as a worked example.
2. **LP scaling.**  Variables, constraints, non-zeros, build time and HiGHS solve time of the correlated
   LP for growing numbers of agents, efforts, signals and states.
3. **Online learning.**  Regret of the explore-then-commit mechanism learner
   (:func:`mechsim.learners.hiring_online.simulate_online`) for horizons 10^3..10^9: the default learner
   (data-driven confidence sets, incentive tests, certified margins) and the one with the worst-case widths
   of the paper's analysis, fitted exponents with 95% intervals (:func:`mechsim.regret.fit_regret_exponent`)
   next to 2/3, and the plug-in negative control.
4. **Learning agents.**  Independent EXP3 learners, one per agent and recommended effort, choosing an
   (effort, reporting map) plan in the ``mechsim/Hiring-v0`` environment
   (:func:`mechsim.learners.hiring_agents.independent_exp3_agents`), under the optimal mechanism with a
   strictness margin and under a deliberately non-IC mechanism (:meth:`mechsim.hiring.Mechanism.with_flat_fee`).

Instances.  ``HiringInstance.random`` with its default costs makes hiring nobody optimal on most small
instances (effort costs exceed the value of information), which leaves nothing to compare or learn.  The
online and correlation parts therefore scale every cost by ``COST_FACTOR``
(:meth:`~mechsim.hiring.HiringInstance.scale_costs`) and (online part) keep only instances whose optimal
mechanism recommends some effort (:func:`mechsim.learners.hiring_online.learnable_instances`); this is
stated in the summary.
"""

from __future__ import annotations

import time

import numpy as np

from mechsim.envs.hiring import parallel_env
from mechsim.hiring import HiringInstance, audit_incentives
from mechsim.learners.hiring_agents import independent_exp3_agents
from mechsim.learners.hiring_online import learnable_instances, simulate_online
from mechsim.runner.scenario import Scenario
from mechsim.solvers.hiring_lp import inducing_scoring_rules, optimal_mechanism, optimal_uncorrelated_mechanism

#: Costs of ``HiringInstance.random`` are multiplied by this (see the module docstring).
COST_FACTOR = 0.25
#: Sizes of the correlated-vs-uncorrelated comparison: agents, efforts, signals, states, actions.
COMPARE_SIZE = (2, 2, 3, 2, 2)
CORRELATIONS = (0.0, 0.6)
VARIANTS = ("default", "faithful", "plugin")


def online_instances(count: int, start: int = 0):
    """The online test bed: :func:`~mechsim.learners.hiring_online.learnable_instances` with costs x
    ``COST_FACTOR`` (random 2-agent 2x2x2 instances, correlation 0.3).  Returns ``((seed, instance), ...)``."""
    return learnable_instances(count, start, cost_factor=COST_FACTOR)


def _compare_instance(seed: int, correlation: float) -> HiringInstance:
    return HiringInstance.random(*COMPARE_SIZE, correlation=correlation, seed=seed).scale_costs(COST_FACTOR)


# ----------------------------------------------------------------------------------------------- grid
def _horizons(quick: bool) -> list[int]:
    return [10 ** e for e in range(3, 8)] if quick else [int(round(10 ** e)) for e in np.arange(3, 9.01, 0.5)]


def grid(quick: bool) -> list[dict]:
    cells = []
    per_chunk, chunks = (4, 1) if quick else (50, 6)
    for corr in CORRELATIONS:
        for c in range(chunks):
            cells.append({"part": "compare", "correlation": corr, "first_seed": c * per_chunk,
                          "count": per_chunk})
    sizes = [(2, 2, 2, 2), (2, 3, 3, 3), (3, 2, 2, 2), (3, 3, 3, 3)]
    if not quick:
        sizes += [(2, 5, 5, 5), (4, 2, 2, 2), (4, 3, 3, 2), (4, 3, 3, 3), (5, 2, 2, 2), (5, 3, 2, 2)]
    for n, b, s, t in sizes:
        cells.append({"part": "scaling", "agents": n, "efforts": b, "signals": s, "states": t})
    n_inst, seeds = (2, 2) if quick else (6, 3)
    for k in range(n_inst):
        for variant in VARIANTS:
            for rep in range(seeds if variant != "plugin" else seeds + 1):
                cells.append({"part": "online", "instance": k, "variant": variant, "replicate": rep,
                              "horizons": _horizons(quick)})
    for mech in ("optimal", "non-ic"):
        cells.append({"part": "agents", "mechanism": mech, "episodes": 2_000 if quick else 40_000})
    return cells


# -------------------------------------------------------------------------------------------- compute
def compute(params, seed: int) -> dict:
    part = params["part"]
    if part == "compare":
        return _compare(params)
    if part == "scaling":
        return _scaling(params, seed)
    if part == "online":
        return _online(params, seed)
    return _agents(params, seed)


def _compare(params) -> dict:
    rows = []
    for seed in range(params["first_seed"], params["first_seed"] + params["count"]):
        inst = _compare_instance(seed, params["correlation"])
        corr = optimal_mechanism(inst)
        unc = optimal_uncorrelated_mechanism(inst)
        phi = corr.recommendation
        support = int(np.count_nonzero(phi > 1e-9))
        rows.append({"seed": seed, "correlated": corr.value, "uncorrelated": unc.value,
                     "gap": corr.value - unc.value, "support": support,
                     "max_phi": float(phi.max()), "hires": bool(phi.flat[0] < 1 - 1e-9)})
    return {"instances": rows}


def _scaling(params, seed) -> dict:
    n, b, s, t = params["agents"], params["efforts"], params["signals"], params["states"]
    inst = HiringInstance.random(n, b, s, t, 2, correlation=0.3, seed=seed % (2**31))
    start = time.perf_counter()
    mech, info = optimal_mechanism(inst, return_info=True)
    wall = time.perf_counter() - start
    return {"n_variables": info.n_variables, "n_constraints": info.n_constraints,
            "n_nonzeros": info.n_nonzeros, "build_time": info.build_time, "solve_time": info.solve_time,
            "total_time": info.total_time, "wall_time": wall, "status": info.status,
            "value": mech.value, "iterations": info.iterations}


def _online(params, seed) -> dict:
    inst_seed, inst = online_instances(params["instance"] + 1)[params["instance"]]
    rules = inducing_scoring_rules(inst)
    opt = optimal_mechanism(inst).value
    regrets, ic, mixing, phases = [], [], [], []
    for k, T in enumerate(params["horizons"]):
        res = simulate_online(inst, int(T), seed=np.random.SeedSequence([seed, k]), variant=params["variant"],
                              inducing_rules=rules, optimal_value=opt)
        regrets.append(res.regret)
        ic.append(res.is_ic)
        mixing.append(float(res.mixing.max()))
        phases.append({p: float(v) for p, v in res.phase_regret.items()})
    return {"instance_seed": inst_seed, "optimal_value": opt, "iota": rules.iota,
            "horizons": list(params["horizons"]), "regret": regrets, "is_ic": ic, "mixing": mixing,
            "phase_regret": phases}


def agents_instance() -> HiringInstance:
    """Instance of part 4: the state is two independent fair bits, agent *i* sees a noisy copy of bit *i*
    (accuracy 0.52 at effort 0, 0.95 at effort 1, effort 1 costs 0.08), the principal guesses the state
    (:meth:`mechsim.hiring.HiringInstance.noisy_bits`)."""
    return HiringInstance.noisy_bits(2, accuracy=(0.52, 0.95), costs=(0.0, 0.08))


AGENTS_MARGIN = 0.1


def agents_mechanisms(instance: HiringInstance):
    """``{"optimal": optimal mechanism with margin AGENTS_MARGIN, "non-ic": the same but agent 1 is paid its
    expected payment as a flat fee (so its effort is no longer rewarded)}``."""
    opt = optimal_mechanism(instance, margin=AGENTS_MARGIN)
    return {"optimal": opt, "non-ic": opt.with_flat_fee(instance, 1)}


def _agents(params, seed) -> dict:
    """Independent EXP3 learners, one per (agent, recommended effort), over plans (effort, reporting map)."""
    inst = agents_instance()
    mech = agents_mechanisms(inst)[params["mechanism"]]
    audit = audit_incentives(inst, mech)
    rounds = int(params["episodes"])
    n = inst.n_agents
    env = parallel_env(instance=inst, mechanism=mech, max_cycles=2 * rounds)
    play = independent_exp3_agents(env, inst, rounds, seed)
    obedient = play.obedient_truthful_share()
    dev_agent = audit.agent
    dev_share = play.deviation_share(dev_agent, audit.recommended_effort, audit.deviation_effort)
    final = {f"agent_{i}": {int(b): np.round(p, 3).tolist() for b, p in enumerate(play.final_probabilities[i])}
             for i in range(n)}
    if params["mechanism"] == "optimal":
        text = (f"- Optimal mechanism with margin {AGENTS_MARGIN} (value {mech.value:.3f}, recommendation "
                f"{np.round(mech.recommendation, 3).tolist()}; audit: {audit}). Over the last 20% of "
                f"{rounds} rounds the agents played obedient-and-truthful plans in "
                f"{', '.join(f'{100 * x:.1f}%' for x in obedient)} of rounds.")
    else:
        text = (f"- Non-IC mechanism (agent 1 paid a flat fee; audit: {audit}). Over the last 20% of "
                f"{rounds} "
                f"rounds agent {dev_agent} exerted the predicted deviation effort {audit.deviation_effort} "
                f"(recommended {audit.recommended_effort}) in {100 * dev_share:.1f}% of rounds; obedient-and-"
                f"truthful play: {', '.join(f'{100 * x:.1f}%' for x in obedient)}.")
    return {"rounds": rounds, "audit_is_ic": audit.is_ic, "audit_gain": audit.max_gain,
            "deviating_agent": dev_agent, "obedient_truthful_share": obedient.tolist(),
            **{f"obedient_truthful_agent_{i}": float(obedient[i]) for i in range(n)},
            "predicted_deviation_share": None if audit.is_ic else dev_share,
            "final_plan_probabilities": final, "text": text,
            "plans": [[(int(e), w.tolist()) for e, w in play.plans[i]] for i in range(n)]}


# --------------------------------------------------------------------------------------------- report
def report(r) -> None:
    recs = r.records
    _report_compare(r, [x for x in recs if x["params"]["part"] == "compare"])
    _report_scaling(r, [x for x in recs if x["params"]["part"] == "scaling"])
    _report_online(r, [x for x in recs if x["params"]["part"] == "online"])
    _report_agents(r, [x for x in recs if x["params"]["part"] == "agents"])


def _report_compare(r, recs) -> None:
    import matplotlib.pyplot as plt

    if not recs:
        return
    rows, summary = [], []
    for corr in CORRELATIONS:
        inst_rows = [row for x in recs if x["params"]["correlation"] == corr
                     for row in x["result"]["instances"]]
        for row in inst_rows:
            rows.append({"correlation": corr, **row})
        gaps = np.array([row["gap"] for row in inst_rows])
        summary.append({
            "correlation": corr, "instances": len(inst_rows),
            "hiring optimal (%)": 100 * np.mean([row["hires"] for row in inst_rows]),
            "gap > 1e-6 (%)": 100 * np.mean(gaps > 1e-6),
            "mean gap": gaps.mean(), "median gap": float(np.median(gaps)), "max gap": gaps.max(),
            "randomised phi (%)": 100 * np.mean([row["support"] > 1 for row in inst_rows]),
            "min gap": gaps.min(),
        })
    r.add_table("correlated_vs_uncorrelated", rows)
    r.add_table("correlated_vs_uncorrelated_summary", summary)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for corr in CORRELATIONS:
        g = np.array([row["gap"] for row in rows if row["correlation"] == corr])
        ax.hist(np.maximum(g, 1e-6), bins=np.logspace(-6, 0, 31), alpha=0.6, label=f"correlation {corr}")
    ax.set_xscale("log")
    ax.set_xlabel("value gap: optimal correlated - best uncorrelated (values < 1e-6 shown at 1e-6)")
    ax.set_ylabel("instances")
    ax.legend()
    r.add_figure("value_gap", fig,
                 "Distribution of the value gap between correlated and uncorrelated mechanisms")
    best = max((row for row in rows), key=lambda row: row["gap"])
    example = _worked_example(best["seed"], best["correlation"])
    n, b, s, t, a = COMPARE_SIZE
    r.add_section("1. Correlated vs uncorrelated mechanisms", "\n".join([
        f"Random instances with {n} agents, {b} efforts, {s} signals, {t} states, {a} actions "
        f"(`HiringInstance.random`, costs x{COST_FACTOR}); correlation is the weight of the comonotone "
        "coupling (0 = conditionally independent signals). Gap = value of the optimal correlated mechanism "
        "minus that of the best uncorrelated one (never negative up to solver tolerance; zero whenever "
        "signals are conditionally independent, as the theory says).",
        "",
        r.markdown_table(summary, floatfmt=".4g"),
        "",
        example,
    ]))


def _worked_example(seed: int, corr: float) -> str:
    inst = _compare_instance(seed, corr)
    corr_m = optimal_mechanism(inst)
    unc_m, info = optimal_uncorrelated_mechanism(inst, return_info=True)
    audit = audit_incentives(inst, corr_m)
    phi = np.round(corr_m.recommendation, 4)
    paid = corr_m.expected_payments(inst)
    lines = [
        f"**Worked example** (largest gap; instance seed {seed}, correlation {corr}). Costs per agent: "
        + "; ".join(f"agent {i}: {np.round(c, 4).tolist()}" for i, c in enumerate(inst.costs))
        + ". Value of information V(b) per effort profile: "
        + f"{np.round(inst.value_of_information, 4).tolist()}.",
        "",
        f"- Optimal correlated mechanism: value {corr_m.value:.4f}; recommendation phi = {phi.tolist()} "
        f"({'randomised' if not corr_m.is_deterministic else 'deterministic'}); exact audit: {audit}.",
        "- Expected payment per agent and recommended profile (phi-weighted): "
        f"{np.round(paid * corr_m.recommendation, 4).tolist()}.",
        f"- Best uncorrelated mechanism: value {unc_m.value:.4f}, "
        f"profile {tuple(int(x) for x in info.profile)}.",
        f"- Gap: {corr_m.value - unc_m.value:.4f}.",
    ]
    return "\n".join(lines)


def _report_scaling(r, recs) -> None:
    if not recs:
        return
    rows = []
    for x in sorted(recs, key=lambda x: x["result"]["n_variables"]):
        p, res = x["params"], x["result"]
        rows.append({"agents": p["agents"], "efforts": p["efforts"], "signals": p["signals"],
                     "states": p["states"], "variables": res["n_variables"],
                     "constraints": res["n_constraints"], "nonzeros": res["n_nonzeros"],
                     "build s": res["build_time"], "solve s": res["solve_time"], "total s": res["total_time"],
                     "total/solve": res["total_time"] / max(res["solve_time"], 1e-9)})
    r.add_table("lp_scaling", rows)
    r.add_section("2. LP scaling", "\n".join([
        "The correlated LP (`optimal_mechanism`, sparse matrix, HiGHS) for growing sizes (2 actions, "
        "correlation 0.3, default random costs). Times on this machine, one solve each; the largest size "
        "in the default grid was chosen to solve within about a minute.",
        "",
        r.markdown_table(rows, floatfmt=".4g"),
    ]))


def _online_table(recs):
    """{variant: (horizons, regrets[n_cells, n_T], relative[n_cells, n_T], ic[n_cells, n_T], instances)}"""
    out = {}
    for variant in VARIANTS:
        vr = sorted((x for x in recs if x["params"]["variant"] == variant),
                    key=lambda x: (x["params"]["instance"], x["params"]["replicate"]))
        if not vr:
            continue
        horizons = np.array(vr[0]["result"]["horizons"], dtype=float)
        reg = np.array([x["result"]["regret"] for x in vr], dtype=float)
        opt = np.array([x["result"]["optimal_value"] for x in vr])[:, None]
        ic = np.array([x["result"]["is_ic"] for x in vr])
        inst = [x["params"]["instance"] for x in vr]
        rep = [x["params"]["replicate"] for x in vr]
        out[variant] = (horizons, reg, reg / opt, ic, inst, rep)
    return out


def _fit_rows(horizons, rel, inst, rep, lo, hi):
    """Fit on the per-replicate average (over instances) of regret relative to OPT."""
    from mechsim.regret import fit_regret_exponent

    mask = (horizons >= lo) & (horizons <= hi)
    reps = sorted(set(rep))
    avg = np.array([rel[[j for j, q in enumerate(rep) if q == k]].mean(axis=0) for k in reps])
    fit = fit_regret_exponent(horizons[mask], avg[:, mask])
    return fit, avg


def _report_online(r, recs) -> None:
    import matplotlib.pyplot as plt

    if not recs:
        return
    table = _online_table(recs)
    rows, fits = [], []
    fig, ax = plt.subplots(figsize=(6.6, 4.6))
    for variant, (horizons, reg, rel, ic, inst, rep) in table.items():
        for j, T in enumerate(horizons):
            rows.append({"variant": variant, "horizon": int(T), "mean R/T / OPT": float(rel[:, j].mean() / T),
                         "max R/T / OPT": float(rel[:, j].max() / T), "mean regret": float(reg[:, j].mean()),
                         "IC commitments (%)": 100 * float(ic[:, j].mean())})
        mean = rel.mean(axis=0)
        ax.loglog(horizons, mean, marker="o", ms=3, label=f"{variant}")
        ax.fill_between(horizons, rel.min(axis=0), rel.max(axis=0), alpha=0.15)
        for lo, hi in ((1e5, 1e8), (horizons.min(), horizons.max())):
            if np.count_nonzero((horizons >= lo) & (horizons <= hi)) < 2:
                continue
            fit, avg = _fit_rows(horizons, rel, inst, rep, lo, hi)
            last = horizons[(horizons <= hi)].max()
            fits.append({"variant": variant, "horizons": f"{lo:.0e}..{hi:.0e}", "exponent": fit.slope,
                         "ci95 low": fit.ci_low, "ci95 high": fit.ci_high, "2/3 inside": fit.contains(2 / 3),
                         "last horizon": int(last),
                         "R/T / OPT at last horizon": float(avg[:, horizons == last].mean() / last)})
    ref_t = np.array([table["default"][0].min(), table["default"][0].max()]) if "default" in table else None
    if ref_t is not None:
        base = table["default"][2].mean(axis=0)[0]
        ax.loglog(ref_t, base * (ref_t / ref_t[0]) ** (2 / 3), "k--", lw=1, label="slope 2/3")
        ax.loglog(ref_t, base * (ref_t / ref_t[0]), "k:", lw=1, label="slope 1")
    ax.set_xlabel("horizon T")
    ax.set_ylabel("regret / OPT (mean over instances and seeds; band = min..max)")
    ax.legend()
    r.add_figure("online_regret", fig, "Regret of the online mechanism learner against the horizon")
    r.add_table("online_regret", rows)
    r.add_table("online_regret_fits", fits)
    n_inst = len({q for q in table[next(iter(table))][4]})
    iotas = sorted({round(x["result"]["iota"], 4) for x in recs})
    verdict = ""
    target = [f for f in fits if f["variant"] == "default" and f["horizons"] == "1e+05..1e+08"]
    if target:
        f = target[0]
        ok = f["exponent"] <= 0.75 and f["R/T / OPT at last horizon"] < 0.02
        verdict = ("**Target** (default learner, horizons 1e5..1e8: exponent <= 0.75 and R/T below 2% of "
                   f"OPT at 1e8): exponent {f['exponent']:.3f} [{f['ci95 low']:.3f}, {f['ci95 high']:.3f}], "
                   f"R/T = {100 * f['R/T / OPT at last horizon']:.2f}% of OPT at T = {f['last horizon']:.0e} -> "
                   f"{'met' if ok else 'NOT met'}.")
        if f["exponent"] < 2 / 3:
            verdict += (" A fitted exponent below 2/3 reflects lower-order terms (small horizons lose more to "
                        "conservative fallbacks); the theory's rate is an upper bound.")
    r.add_section("3. Online learning with T^(2/3) regret", "\n".join([verdict, "",
        f"{n_inst} random 2-agent instances (2 efforts, 2 signals, 2 states; correlation 0.3; costs x"
        f"{COST_FACTOR}; only instances where the optimal mechanism hires somebody), several seeds each; "
        "each horizon is a separate run tuned to it (explore-then-commit). "
        f"Inducing-rule margins iota: {iotas}. "
        "Regret is pseudo-regret against the LP optimum; a committed mechanism that fails the exact audit "
        "on the true instance is charged the worst outcome it can produce. `default` = data-driven learner "
        "(misreport margins certified by empirical Bernstein bounds on a held-out half; effort incentives "
        "certified by short incentive tests that scale each agent's payments until it obeys, or by "
        "certified margins when that is cheaper), `faithful` = "
        "the worst-case widths of the paper's analysis and mixing weight 2 eps_IC / (iota + 2 eps_IC), "
        "`plugin` = LP on raw "
        "estimates (negative control). Exponents: OLS of log(mean regret/OPT over instances) on log T, "
        "every seed a point, 95% t interval.",
        "",
        r.markdown_table(fits, floatfmt=".4g"),
        "",
        r.markdown_table([row for row in rows if row["horizon"] in (10**5, 10**6, 10**7, 10**8, 10**9)],
                         floatfmt=".4g"),
    ]))


def _report_agents(r, recs) -> None:
    if not recs:
        return
    rows = [{"mechanism": x["params"]["mechanism"], **{k: v for k, v in x["result"].items()
                                                       if not isinstance(v, (list, dict)) and k != "text"}}
            for x in recs]
    r.add_table("learning_agents", rows)
    r.add_section("4. Learning agents in mechsim/Hiring-v0", "\n".join(
        [x["result"].get("text", "") for x in recs] + ["", r.markdown_table(rows, floatfmt=".4g")]))


SCENARIO = Scenario(
    name="hiring",
    description="Hiring agents to acquire information: correlated vs uncorrelated mechanisms, LP scaling, "
                "online learning with T^(2/3) regret, learning agents in the Hiring-v0 environment",
    grid=grid,
    compute=compute,
    report=report,
)

if __name__ == "__main__":
    from mechsim.runner.cli import scenario_main

    scenario_main(SCENARIO)
