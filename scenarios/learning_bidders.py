"""Scenario ``learning-bidders``: do no-regret bidders learn the equilibrium bids, and what revenue results?

Two parts.

- **Learning bidders.**  2, 3 and 5 bidders with values i.i.d. uniform on [0, 1] play repeated first-price,
  second-price and all-pay auctions on a grid of 21 bids (step 0.05), and second price with the optimal reserve
  1/2; every bidder runs Hedge, EXP3 or regret matching per value bin (10 equal-width bins,
  :func:`mechsim.learners.learn_to_bid`).  Measured: the distance of the learned mean bid per bin from the
  Bayes--Nash bid at the bin centre (``(n-1)/n v`` in first price, ``v`` in second price, ``(n-1)/n v^n`` in
  all-pay) over the rounds, the learned bid functions, and the realised revenue against the equilibrium revenue
  (``(n-1)/(n+1)`` for every format without reserve: revenue equivalence), against Myerson's optimum for the
  continuous values (second price with reserve 1/2) and against Myerson's optimum for the discretised prior
  (the 10 bin centres, each with probability 1/10) by :func:`mechsim.solvers.design.auction_program`.
- **Equilibrium convergence.**  In three textbook games (chicken, battle of the sexes, Shapley) and three random
  games, every player runs Hedge, regret matching or swap-regret Hedge (:func:`mechsim.learners.play_no_regret`);
  the exact CCE gap (CE gap for swap Hedge) of the empirical distribution of play after ``T`` rounds, over
  several ``T`` with independent runs, fitted as ``gap ~ c T^slope`` with a 95% interval
  (:func:`mechsim.regret.fit_regret_exponent`); and the empirical welfare beside the [min, max] welfare of the
  CCE (CE) set from :func:`mechsim.solvers.design.equilibrium_program`.
"""

from __future__ import annotations

import numpy as np

from mechsim.auctions import FiniteAuction, RepeatedAuction, equilibrium_bid, myerson_revenue, optimal_reserve
from mechsim.equilibria import battle_of_the_sexes, chicken, random_game, shapley_game
from mechsim.learners import BIDDING_LEARNERS, learn_to_bid, play_no_regret
from mechsim.regret import fit_regret_exponent
from mechsim.runner.scenario import Scenario
from mechsim.solvers.design import auction_program, equilibrium_program

FORMATS = ("first", "second", "all_pay")
BIDDERS = (2, 3, 5)
#: (format, reserve) of the auction panels: the three formats without reserve, and second price with the
#: optimal reserve for uniform values.
AUCTIONS = (("first", 0.0), ("second", 0.0), ("all_pay", 0.0), ("second", 0.5))
N_BIDS = 21
VALUE_BINS = 10
#: Largest number of value profiles ``K^n`` for which the auction LP is solved (above it, a coarser grid).
LP_PROFILES = 5000

#: name -> payoffs of the equilibrium-convergence games.  The random games' seeds were picked among 10..19 so that
#: neither the CCE nor the CE set is a single point (a welfare range of zero width says little).
GAMES = {
    "chicken": chicken(),
    "battle-of-the-sexes": battle_of_the_sexes(),
    "shapley": shapley_game(),
    "random-3x3": random_game((3, 3), seed=13),
    "random-4x4": random_game((4, 4), seed=17),
    "random-2x2x2": random_game((2, 2, 2), seed=14),
}
DYNAMICS = ("hedge", "regret_matching", "swap_hedge")


def _bidding_rounds(quick: bool) -> int:
    return 3000 if quick else 100_000


def _horizons(quick: bool) -> list[int]:
    return [200, 800, 3200] if quick else [1000, 4000, 16_000]


def grid(quick: bool) -> list[dict]:
    return _grid(quick, replicates=1 if quick else 2, game_replicates=2 if quick else 3,
                 rounds=_bidding_rounds(quick), horizons=_horizons(quick))


def full_grid() -> list[dict]:
    return _grid(False, replicates=5, game_replicates=5, rounds=_bidding_rounds(False),
                 horizons=[1000, 4000, 16_000, 64_000])


def _grid(quick: bool, *, replicates: int, game_replicates: int, rounds: int, horizons: list[int]) -> list[dict]:
    cells = [{"part": "bidding", "format": fmt, "reserve": reserve, "n_bidders": n, "learner": learner,
              "rounds": rounds, "n_bids": N_BIDS, "n_value_bins": VALUE_BINS, "replicate": rep}
             for fmt, reserve in AUCTIONS for n in BIDDERS for learner in BIDDING_LEARNERS
             for rep in range(replicates)]
    cells += [{"part": "myerson", "n_bidders": n, "n_values": VALUE_BINS} for n in BIDDERS]
    cells += [{"part": "equilibrium-lp", "game": game} for game in GAMES]
    cells += [{"part": "dynamics", "game": game, "learner": learner, "rounds": t, "replicate": rep}
              for game in GAMES for learner in DYNAMICS for t in horizons for rep in range(game_replicates)]

    def cost(c):  # largest cells first, so that the pool is not left waiting on one long cell at the end
        if c["part"] == "bidding":
            return c["rounds"] * (1.0 + 0.3 * c["n_bidders"] * (c["learner"] != "hedge"))
        if c["part"] == "dynamics":
            return c["rounds"] * (2.0 if c["learner"] == "swap_hedge" else 1.0)
        return 1e4 * c.get("n_bidders", 1)

    cells.sort(key=lambda c: -cost(c))
    return cells


# ----------------------------------------------------------------------------------------------------------
# Cells
# ----------------------------------------------------------------------------------------------------------

def _discretised_prior(n_values: int) -> tuple[np.ndarray, np.ndarray]:
    """The uniform [0, 1] prior discretised to the centres of ``n_values`` equal bins, each of probability 1/K."""
    return (np.arange(n_values) + 0.5) / n_values, np.full(n_values, 1.0 / n_values)


def _bidding(params, seed) -> dict:
    auction = RepeatedAuction(params["n_bidders"], params["format"], params["reserve"], n_bids=params["n_bids"])
    rounds = params["rounds"]
    marks = np.unique(np.concatenate([np.geomspace(10, rounds, 25).round(), [min(1000, rounds)]]))
    run = learn_to_bid(auction, params["learner"], rounds, seed, checkpoints=marks,
                       n_value_bins=params["n_value_bins"])
    visits = np.stack([np.bincount(run.contexts[:, i], minlength=run.n_contexts) for i in range(run.n_bidders)])
    regret = run.external_regret[-1]
    return {"checkpoints": run.checkpoints, "distance": run.distance_to_equilibrium,
            "revenue": run.revenue, "revenue_window": run.revenue_window, "welfare_window": run.welfare_window,
            "final_distance": float(run.distance_to_equilibrium[-1]),
            "final_revenue": float(run.revenue_window[-1]), "final_welfare": float(run.welfare_window[-1]),
            "mean_bid": run.mean_bid[-1], "equilibrium_bid": run.equilibrium_bid,
            "context_values": run.context_values,
            "regret_per_round": float(np.mean(regret / np.maximum(visits, 1))),
            "max_regret_per_round": float(np.max(regret / np.maximum(visits, 1)))}


def _myerson(params, seed) -> dict:
    n, k = params["n_bidders"], params["n_values"]
    values, prior = _discretised_prior(k)
    auction = FiniteAuction(values, prior, n_bidders=n)
    k_lp = k
    while k_lp ** n > LP_PROFILES:
        k_lp -= 1
    lp_values, lp_prior = _discretised_prior(k_lp)
    lp_auction = FiniteAuction(lp_values, lp_prior, n_bidders=n)
    lp = auction_program(lp_auction, incentive="bayesian").solve()
    reserve, reserve_revenue = optimal_reserve(lp_auction)     # enumerates profiles: on the LP's grid
    return {"myerson": myerson_revenue(auction), "lp_values": k_lp, "lp": lp.value,
            "lp_formula": myerson_revenue(lp_auction),
            "best_reserve": reserve, "second_price_best_reserve": reserve_revenue, "lp_status": lp.status}


def _equilibrium_lp(params, seed) -> dict:
    u = GAMES[params["game"]]
    out = {}
    for kind in ("coarse", "correlated"):
        for sense in ("min", "max"):
            res = equilibrium_program(u, kind=kind, objective="welfare", sense=sense).solve()
            out[f"{kind}_{sense}"] = float(res.value)
    return out


def _dynamics(params, seed) -> dict:
    t = params["rounds"]
    run = play_no_regret(GAMES[params["game"]], params["learner"], t, seed, checkpoints=[t])
    gap = run.ce_gap[-1] if params["learner"] == "swap_hedge" else run.cce_gap[-1]
    return {"gap": float(gap), "cce_gap": float(run.cce_gap[-1]), "ce_gap": float(run.ce_gap[-1]),
            "welfare": float(run.welfare[-1])}


def compute(params, seed) -> dict:
    part = params["part"]
    if part == "bidding":
        return _bidding(params, seed)
    if part == "myerson":
        return _myerson(params, seed)
    if part == "equilibrium-lp":
        return _equilibrium_lp(params, seed)
    return _dynamics(params, seed)


# ----------------------------------------------------------------------------------------------------------
# Reference numbers (uniform [0, 1] values)
# ----------------------------------------------------------------------------------------------------------

def second_price_revenue_uniform(n: int, reserve: float) -> float:
    """Expected revenue of truthful second price with a reserve: ``int_r^1 (2v - 1) d(v^n)`` (Myerson's lemma)."""
    return 2.0 * n / (n + 1) * (1.0 - reserve ** (n + 1)) - (1.0 - reserve ** n)


def efficient_welfare_uniform(n: int, reserve: float) -> float:
    """``E[max_i v_i ; max_i v_i >= r]`` for i.i.d. uniform values."""
    return n / (n + 1.0) * (1.0 - reserve ** (n + 1))


# ----------------------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------------------

FORMAT_NAMES = {"first": "first price", "second": "second price", "all_pay": "all-pay"}


def _label(fmt: str, reserve: float = 0.0) -> str:
    return FORMAT_NAMES[fmt] + (f" (reserve {reserve:g})" if reserve else "")


def _worst_bin(result, reserve: float) -> float:
    """Largest |bidder-averaged mean bid - BNE bid| over the bins that take part (BNE bid >= reserve)."""
    eq = np.asarray(result["equilibrium_bid"], dtype=float)
    bids = np.nanmean(np.asarray(result["mean_bid"], dtype=float), axis=0)
    return float(np.nanmax(np.abs(bids - eq)[eq >= reserve]))


def _bidding_rows(records, myerson) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for rec in records:
        p = rec["params"]
        groups.setdefault((p["format"], p["reserve"], p["n_bidders"], p["learner"]), []).append(rec["result"])
    rows = []
    for (fmt, reserve, n, learner), results in groups.items():
        dist = np.array([r["final_distance"] for r in results])
        rev = np.array([r["final_revenue"] for r in results])
        worst = np.mean([_worst_bin(r, reserve) for r in results])
        first_k = [r["distance"][r["checkpoints"].index(1000)] for r in results if 1000 in r["checkpoints"]]
        rows.append({
            "format": fmt, "reserve": reserve, "bidders": n, "learner": learner, "runs": len(results),
            "distance@1e3": float(np.mean(first_k)) if first_k else float("nan"),
            "distance": float(dist.mean()), "distance_min": float(dist.min()), "distance_max": float(dist.max()),
            "worst_bin": float(worst),
            "revenue": float(rev.mean()), "revenue_sd": float(rev.std(ddof=1)) if rev.size > 1 else float("nan"),
            "bne_revenue": second_price_revenue_uniform(n, reserve),
            "myerson_continuous": second_price_revenue_uniform(n, 0.5),
            "myerson_discretised": myerson.get(n, {}).get("myerson", float("nan")),
            "welfare": float(np.mean([r["final_welfare"] for r in results])),
            "efficient_welfare": efficient_welfare_uniform(n, reserve),
            "regret_per_round": float(np.mean([r["regret_per_round"] for r in results])),
        })
    order = {a: i for i, a in enumerate(AUCTIONS)}
    rows.sort(key=lambda r: (order[(r["format"], r["reserve"])], r["bidders"], BIDDING_LEARNERS.index(r["learner"])))
    return rows


def _signed_deviation(records) -> tuple[float, float]:
    """Mean of (learned mean bid - BNE bid) over the bins with centre below 1/2, and over those above."""
    low, high = [], []
    for rec in records:
        res = rec["result"]
        dev = np.asarray(res["mean_bid"], dtype=float) - np.asarray(res["equilibrium_bid"], dtype=float)
        below = np.asarray(res["context_values"]) < 0.5
        low.append(np.nanmean(dev[:, below]))
        high.append(np.nanmean(dev[:, ~below]))
    return float(np.mean(low)), float(np.mean(high))


def _cell_results(records, fmt: str, reserve: float, n: int, learner: str) -> list[dict]:
    """The results of one auction setting's replicates."""
    return [rec["result"] for rec in records if (rec["params"]["format"], rec["params"]["reserve"],
                                                 rec["params"]["n_bidders"], rec["params"]["learner"])
            == (fmt, reserve, n, learner)]


def _plot_distance(r, records) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(AUCTIONS), figsize=(4.2 * len(AUCTIONS), 3.6), sharey=True)
    colours = dict(zip(BIDDING_LEARNERS, ("C0", "C1", "C2")))
    styles = dict(zip(BIDDERS, ("-", "--", ":")))
    for ax, (fmt, reserve) in zip(axes, AUCTIONS):
        for n in BIDDERS:
            for learner in BIDDING_LEARNERS:
                res = _cell_results(records, fmt, reserve, n, learner)
                if not res:
                    continue
                cp = np.asarray(res[0]["checkpoints"])
                curve = np.mean([np.asarray(x["distance"], dtype=float) for x in res], axis=0)
                ax.plot(cp, curve, styles[n], color=colours[learner], label=f"{learner}, n={n}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(_label(fmt, reserve))
        ax.set_xlabel("round t")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("distance to BNE bid")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.03), ncol=len(BIDDERS), fontsize=7)
    r.add_figure("distance_to_bne", fig, caption="probability-weighted mean |learned mean bid - BNE bid| over "
                                                 "the value bins (window: the later half of the rounds so far), "
                                                 "mean over replicates")


def _plot_bid_functions(r, records) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(AUCTIONS), len(BIDDERS), figsize=(3.4 * len(BIDDERS), 2.8 * len(AUCTIONS)),
                             sharex=True)
    v = np.linspace(0.0, 1.0, 201)
    markers = dict(zip(BIDDING_LEARNERS, ("o", "s", "^")))
    for row, (fmt, reserve) in enumerate(AUCTIONS):
        for col, n in enumerate(BIDDERS):
            ax = axes[row, col]
            ax.plot(v, equilibrium_bid(v, n, fmt, reserve=reserve), "k-", lw=2, alpha=0.35, label="BNE bid")
            for learner in BIDDING_LEARNERS:
                res = _cell_results(records, fmt, reserve, n, learner)
                if not res:
                    continue
                bids = np.nanmean([np.asarray(x["mean_bid"], dtype=float) for x in res], axis=(0, 1))
                ax.plot(res[0]["context_values"], bids, markers[learner], ms=4, label=learner)
            ax.set_title(f"{_label(fmt, reserve)}, n={n}", fontsize=8)
            if col == 0:
                ax.set_ylabel("bid")
            if row == len(AUCTIONS) - 1:
                ax.set_xlabel("value (bin centre)")
    axes[0, 0].legend(fontsize=6)
    r.add_figure("bid_functions", fig, caption="learned mean bid per value bin over the final window (mean over "
                                               "bidders and replicates) against the BNE bid function")


def _plot_revenue(r, rows) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(AUCTIONS), figsize=(4.2 * len(AUCTIONS), 3.4), sharey=True)
    width = 0.25
    for ax, (fmt, reserve) in zip(axes, AUCTIONS):
        sub = [row for row in rows if row["format"] == fmt and row["reserve"] == reserve]
        for j, learner in enumerate(BIDDING_LEARNERS):
            pts = [row for row in sub if row["learner"] == learner]
            xs = np.array([BIDDERS.index(row["bidders"]) for row in pts]) + (j - 1) * width
            ax.bar(xs, [row["revenue"] for row in pts], width, yerr=np.nan_to_num([row["revenue_sd"] for row in pts]),
                   label=learner, alpha=0.8)
        ns = np.arange(len(BIDDERS))
        ax.plot(ns, [second_price_revenue_uniform(n, reserve) for n in BIDDERS], "k_", ms=30, mew=2,
                label="BNE revenue")
        ax.plot(ns, [second_price_revenue_uniform(n, 0.5) for n in BIDDERS], "r_", ms=30, mew=2,
                label="Myerson (continuous)")
        disc = [next((row["myerson_discretised"] for row in sub if row["bidders"] == n), np.nan) for n in BIDDERS]
        ax.plot(ns, disc, "m_", ms=30, mew=1, label="Myerson (10-point prior)")
        ax.set_xticks(ns, [f"n={n}" for n in BIDDERS])
        ax.set_title(_label(fmt, reserve))
    axes[0].set_ylabel("revenue per round (final window)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.03), ncol=6, fontsize=7)
    r.add_figure("revenue", fig, caption="realised revenue of the learners (mean over replicates, bar: sd) against "
                                         "the equilibrium revenue and Myerson's optimum")


def _gap_rows(records, lp) -> list[dict]:
    rows = []
    for game in GAMES:
        for learner in DYNAMICS:
            recs = [rec for rec in records if rec["params"]["game"] == game and rec["params"]["learner"] == learner]
            if not recs:
                continue
            horizons = np.array([rec["params"]["rounds"] for rec in recs], dtype=float)
            gaps = np.array([rec["result"]["gap"] for rec in recs])
            positive = gaps > 0
            fit = None
            if positive.sum() >= 3 and np.unique(horizons[positive]).size >= 2:
                fit = fit_regret_exponent(horizons[positive], gaps[positive])
            t_max = horizons.max()
            at_max = [rec["result"] for rec in recs if rec["params"]["rounds"] == t_max]
            kind = "correlated" if learner == "swap_hedge" else "coarse"
            lo = lp.get(game, {}).get(f"{kind}_min", float("nan"))
            hi = lp.get(game, {}).get(f"{kind}_max", float("nan"))
            welfare = float(np.mean([x["welfare"] for x in at_max]))
            rows.append({
                "game": game, "learner": learner, "gap": "CE" if kind == "correlated" else "CCE",
                "runs": len(recs), "zero_gaps": int((~positive).sum()), "T_max": int(t_max),
                "gap_at_T_max": float(np.mean([x["gap"] for x in at_max])),
                "slope": fit.slope if fit else float("nan"),
                "ci95": f"[{fit.ci_low:.3f}, {fit.ci_high:.3f}]" if fit else "n/a",
                "ci_low": fit.ci_low if fit else float("nan"), "ci_high": fit.ci_high if fit else float("nan"),
                "welfare": welfare, "lp_welfare_min": lo, "lp_welfare_max": hi,
                "outside_range": float(max(lo - welfare, welfare - hi, 0.0)),
            })
    return rows


def _plot_gaps(r, records, rows) -> None:
    import matplotlib.pyplot as plt

    games = [g for g in GAMES if any(row["game"] == g for row in rows)]
    fig, axes = plt.subplots(1, len(games), figsize=(3.3 * len(games), 3.2), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, game in zip(axes, games):
        for j, learner in enumerate(DYNAMICS):
            recs = [rec for rec in records if rec["params"]["game"] == game and rec["params"]["learner"] == learner]
            if not recs:
                continue
            ts = sorted({rec["params"]["rounds"] for rec in recs})
            mean = [np.mean([rec["result"]["gap"] for rec in recs if rec["params"]["rounds"] == t]) for t in ts]
            ax.plot(ts, np.maximum(mean, 1e-6), "o-", color=f"C{j}", ms=3,
                    label=f"{learner} ({'CE' if learner == 'swap_hedge' else 'CCE'} gap)")
            ax.plot([rec["params"]["rounds"] for rec in recs],
                    [max(rec["result"]["gap"], 1e-6) for rec in recs], ".", color=f"C{j}", alpha=0.4)
        ts = np.array(sorted({rec["params"]["rounds"] for rec in records}), dtype=float)
        ax.plot(ts, ts ** -0.5, "--", color="gray", label="T^(-1/2) (shape)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(game, fontsize=9)
        ax.set_xlabel("rounds T")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("gap of the empirical distribution")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.03), ncol=4, fontsize=7)
    r.add_figure("equilibrium_gaps", fig, caption="exact CCE gap (Hedge, regret matching) and CE gap (swap Hedge) "
                                                  "of the empirical distribution after T rounds; dots: single runs "
                                                  "(zero gaps drawn at 1e-6)")


def _plot_welfare(r, rows) -> None:
    import matplotlib.pyplot as plt

    games = list(dict.fromkeys(row["game"] for row in rows))
    fig, ax = plt.subplots(figsize=(1.6 * len(games) + 2, 3.4))
    for g, game in enumerate(games):
        for j, learner in enumerate(DYNAMICS):
            row = next((x for x in rows if x["game"] == game and x["learner"] == learner), None)
            if row is None:
                continue
            x = g + (j - 1) * 0.22
            ax.plot([x, x], [row["lp_welfare_min"], row["lp_welfare_max"]], "-", color=f"C{j}", lw=6, alpha=0.3)
            ax.plot(x, row["welfare"], "o", color=f"C{j}", label=learner if g == 0 else None)
    ax.set_xticks(range(len(games)), games, rotation=20, fontsize=8)
    ax.set_ylabel("welfare (sum of payoffs)")
    ax.legend(fontsize=7)
    r.add_figure("equilibrium_welfare", fig, caption="empirical welfare at the largest T (dot, mean over runs) in "
                                                     "the [min, max] welfare of the CCE set (Hedge, regret matching) "
                                                     "or the CE set (swap Hedge), from equilibrium_program")


def report(r) -> None:
    bidding = [rec for rec in r.records if rec["params"]["part"] == "bidding"]
    myerson = {rec["params"]["n_bidders"]: rec["result"] for rec in r.records if rec["params"]["part"] == "myerson"}
    lp = {rec["params"]["game"]: rec["result"] for rec in r.records if rec["params"]["part"] == "equilibrium-lp"}
    dynamics = [rec for rec in r.records if rec["params"]["part"] == "dynamics"]

    rows = _bidding_rows(bidding, myerson)
    r.add_table("bidding", rows)
    myerson_rows = [{"bidders": n, "values": VALUE_BINS, **{k: v for k, v in res.items() if k != "lp_status"}}
                    for n, res in sorted(myerson.items())]
    r.add_table("myerson", myerson_rows)
    if rows:
        rounds = bidding[0]["params"]["rounds"]
        _bidding_text(r, rows, myerson_rows, rounds, bidding)
        _plot_distance(r, bidding)
        _plot_bid_functions(r, bidding)
        _plot_revenue(r, rows)

    gap_rows = _gap_rows(dynamics, lp)
    r.add_table("equilibrium_gaps", gap_rows)
    r.add_table("equilibrium_welfare_lp", [{"game": g, **v} for g, v in lp.items()])
    if gap_rows:
        _gaps_text(r, gap_rows, dynamics)
        _plot_gaps(r, dynamics, gap_rows)
        _plot_welfare(r, gap_rows)


def _bidding_text(r, rows, myerson_rows, rounds, bidding) -> None:
    def pick(fmt, reserve, learner):
        return [row for row in rows if row["format"] == fmt and row["reserve"] == reserve
                and row["learner"] == learner]

    replicates = max(row["runs"] for row in rows)
    text = [
        "**Setup.** Values i.i.d. uniform on [0, 1]; bids on the grid {0, 0.05, ..., 1} (21 bids); every bidder "
        f"runs one learner per value bin (10 equal-width bins; a learner conditions on the bin, its utilities use "
        f"the exact value) for {rounds:,} rounds (`learn_to_bid`), {replicates} independent runs per cell. Hedge "
        "and regret matching learn from the utility every grid bid would have earned against the others' realised "
        "bids (in expectation over the uniform tie-break); EXP3 from the realised utility of its own bid.",
        "",
        "**What is measured.** *distance*: the probability-weighted mean over bins of |mean realised bid in the "
        "bin - BNE bid at the bin centre|, averaged over bidders, over the final window (the later half of the "
        "rounds: rounds T/2+1..T), mean over runs (*distance_min/max*: its range over runs; *distance@1e3*: the "
        "same at round 1000, window 501..1000); *worst_bin*: the largest per-bin deviation of the bidder-averaged "
        "mean bid. *revenue*: average revenue per round over the final window (*revenue_sd*: sd over runs); "
        "*bne_revenue*: the expected revenue in the Bayes-Nash equilibrium, `(n-1)/(n+1)` without reserve for "
        "every format (revenue equivalence) and `2n/(n+1) (1 - r^(n+1)) - (1 - r^n)` with reserve r; "
        "*myerson_continuous*: Myerson's optimal revenue for continuous uniform values (second price with reserve "
        "1/2, `(n-1)/(n+1) + 2^-n/(n+1)`); *myerson_discretised*: Myerson's optimum when the prior is discretised "
        "to the 10 bin centres 0.05, 0.15, ..., 0.95 with probability 1/10 each (below). *welfare*: average value "
        "of the winner over the final window, against *efficient_welfare* `E[max v; max v >= r]`. "
        "*regret_per_round*: a bidder's context learner's external regret against its best fixed grid bid over "
        "the whole run, divided by the rounds it played, mean over bidders, bins and runs.",
        "",
        r.markdown_table(rows, ["format", "reserve", "bidders", "learner", "distance@1e3", "distance", "worst_bin",
                                "revenue", "revenue_sd", "bne_revenue", "myerson_continuous", "myerson_discretised",
                                "welfare", "efficient_welfare", "regret_per_round"], floatfmt=".3g"),
        "",
    ]
    findings = []
    for learner in BIDDING_LEARNERS:
        sel = [row for row in rows if row["learner"] == learner]
        findings.append(f"- {learner}: final distance to the BNE bid {min(x['distance'] for x in sel):.3f} to "
                        f"{max(x['distance'] for x in sel):.3f} over the {len(sel)} auction settings "
                        f"(grid step 0.05); mean regret per round {np.mean([x['regret_per_round'] for x in sel]):.4f}.")
    full_info = [row for row in rows if row["learner"] != "exp3" and row["reserve"] == 0]
    if full_info:
        far = max(full_info, key=lambda x: abs(x["revenue"] - x["bne_revenue"]))
        findings.append(f"- Revenue equivalence, full-information learners without reserve: the realised revenue is "
                        f"within {abs(far['revenue'] - far['bne_revenue']):.3f} of `(n-1)/(n+1)` in every format and "
                        f"bidder count (farthest: {far['learner']}, {_label(far['format'])}, "
                        f"{far['bidders']} bidders, "
                        f"{far['revenue']:.3f} against {far['bne_revenue']:.3f}); welfare is within "
                        f"{max(x['efficient_welfare'] - x['welfare'] for x in full_info):.3f} of the efficient "
                        "`n/(n+1)`.")
        worse = [x for x in full_info if np.isfinite(x["distance@1e3"]) and x["distance"] > x["distance@1e3"]]
        if worse:
            findings.append("- Not monotone: the distance at the end exceeds that at round 1000 for "
                            + ", ".join(f"{x['learner']} in {_label(x['format'])} with {x['bidders']} bidders "
                                        f"({x['distance@1e3']:.3f} -> {x['distance']:.3f}, regret per round "
                                        f"{x['regret_per_round']:.2g}, revenue {x['revenue']:.3f})" for x in worse)
                            + ": the learners' regret is small, so low regret alone does not force play to the BNE.")
    exp3 = [row for row in rows if row["learner"] == "exp3" and row["reserve"] == 0]
    if exp3 and full_info:
        low, high = _signed_deviation([rec for rec in bidding if rec["params"]["learner"] == "exp3"
                                       and rec["params"]["reserve"] == 0])
        worst = max(exp3, key=lambda x: x["revenue"] - x["bne_revenue"])
        d_exp3, d_full = np.mean([x["distance"] for x in exp3]), np.mean([x["distance"] for x in full_info])
        findings.append(
            f"- EXP3 (bandit feedback): distance {d_exp3:.3f} on average after {rounds:,} rounds, against {d_full:.3f} "
            f"for the full-information learners (each bin's learner plays about {rounds // VALUE_BINS:,} rounds over "
            f"{N_BIDS} arms and sees one utility per round). Its mean bid minus the BNE bid averages {low:+.3f} over "
            f"the bins below 1/2 and {high:+.3f} over those above (all formats and bidder counts)"
            + (", a flattened bid function" if low > 0 > high else "")
            + f". Its revenue is farthest above the BNE revenue in {_label(worst['format'])}"
            + (" (where every bid is paid)" if worst["format"] == "all_pay" else "")
            + f" with {worst['bidders']} bidders ({worst['revenue']:.3f} against {worst['bne_revenue']:.3f}); its "
            f"welfare is {np.mean([x['welfare'] / x['efficient_welfare'] for x in exp3]):.1%} of the efficient "
            f"welfare on average, against {np.mean([x['welfare'] / x['efficient_welfare'] for x in full_info]):.1%} "
            "for the full-information learners.")
    reserve_rows = [row for row in rows if row["reserve"] == 0.5 and row["learner"] != "exp3"]
    if reserve_rows:
        findings.append("- Second price with reserve 1/2: full-information learners' revenue "
                        + ", ".join(f"{row['revenue']:.3f} ({row['learner']}, n={row['bidders']})"
                                    for row in reserve_rows)
                        + " against Myerson's continuous optimum "
                        + ", ".join(f"{second_price_revenue_uniform(n, 0.5):.3f} (n={n})" for n in BIDDERS) + ".")
    text += findings
    r.add_section("Learning bidders", "\n".join(text))
    if myerson_rows:
        r.add_section("Myerson's optimum on the discretised prior", "\n".join([
            "The uniform prior discretised to the bin centres `(k + 1/2)/K`, `k = 0..K-1`, each with probability "
            "`1/K`. *myerson*: Myerson's optimal revenue with ironed virtual values (`myerson_revenue`, exact) on "
            f"the K = {VALUE_BINS} grid; *lp*: the optimal Bayesian IC, interim IR auction LP (`auction_program`, "
            f"HiGHS) on the grid of *lp_values* points (the {VALUE_BINS}-point grid where it has at most "
            f"{LP_PROFILES} value profiles, a coarser one otherwise), against *lp_formula*, `myerson_revenue` on "
            "the same grid; *best_reserve* and *second_price_best_reserve*: second price with its best reserve on "
            "the LP's grid. The discretised optimum lies above the continuous one (`(n-1)/(n+1) + 2^-n/(n+1)`): with "
            "finitely many types the seller charges each winner the lowest grid type that still wins, so the "
            "bidders keep less information rent; it converges to the continuous optimum as the grid is refined.",
            "",
            r.markdown_table(myerson_rows, ["bidders", "values", "myerson", "lp_values", "lp", "lp_formula",
                                            "best_reserve", "second_price_best_reserve"], floatfmt=".5g"),
        ]))


def _gaps_text(r, rows, dynamics) -> None:
    horizons = sorted({rec["params"]["rounds"] for rec in dynamics})
    runs = max(row["runs"] for row in rows) // max(len(horizons), 1)
    text = [
        "Every player runs its own copy of the learner (`play_no_regret`, anytime rates, payoffs rescaled to "
        "[0, 1] for the learners); *gap* is the exact CCE gap (Hedge, regret matching) or CE gap (swap Hedge, the "
        "Blum-Mansour reduction) of the empirical distribution of the sampled profiles after T rounds, i.e. the "
        "largest average external (swap) regret of any player in payoff units. One independent run per (T, "
        f"replicate), T in {horizons}, {runs} replicates; *slope* is the OLS slope of log gap on log T over all "
        "runs with a positive gap, with a 95% t interval (`fit_regret_exponent`); no-regret theory gives gaps "
        "`O(T^-1/2)`, i.e. slope at most -1/2 in the worst case (faster where play settles, e.g. on a pure "
        "equilibrium, where the gap can reach 0: *zero_gaps*). *welfare*: the sum of payoffs under the empirical "
        "distribution at the largest T, mean over runs, beside the [min, max] welfare over the CCE set (Hedge, "
        "regret matching) or the CE set (swap Hedge) from `equilibrium_program(payoffs, kind, objective="
        "'welfare', sense)`; *outside_range*: how far the empirical welfare falls outside it (the empirical "
        "distribution is only an approximate equilibrium, so a small excess of the order of the gap is expected).",
        "",
        r.markdown_table(rows, ["game", "learner", "gap", "runs", "zero_gaps", "gap_at_T_max", "slope", "ci95",
                                "welfare", "lp_welfare_min", "lp_welfare_max", "outside_range"], floatfmt=".3g"),
        "",
    ]
    fitted = [row for row in rows if np.isfinite(row["slope"])]
    if fitted:
        reach = [row for row in fitted if row["ci_low"] <= -0.5]
        steep = [row for row in fitted if row["ci_high"] < -0.5]
        slow = [row for row in fitted if row["ci_low"] > -0.5]
        text.append(f"- Fitted slopes range from {min(row['slope'] for row in fitted):.2f} to "
                    f"{max(row['slope'] for row in fitted):.2f}; the 95% interval reaches -1/2 or below for "
                    f"{len(reach)} of {len(fitted)} (game, learner) pairs, and lies entirely below -1/2 for "
                    f"{len(steep)} (a regret that stops growing gives gaps falling like 1/T)"
                    + (": " + ", ".join(f"{row['game']}/{row['learner']}" for row in steep) if steep else "") + ".")
        if slow:
            text.append("- Slower than T^(-1/2) within the interval: "
                        + ", ".join(f"{row['game']}/{row['learner']} ({row['slope']:.2f} {row['ci95']})"
                                    for row in slow)
                        + ". This does not contradict the guarantee, which bounds the gap's size (a constant "
                          "times T^(-1/2)), not its local slope over a finite range of T.")
    zero = [row for row in rows if row["zero_gaps"]]
    if zero:
        text.append("- Runs with an exact zero gap (every player's regret at most zero), "
                    "left out of the fits: " + ", ".join(f"{row['game']}/{row['learner']} ({row['zero_gaps']} of "
                                                         f"{row['runs']})" for row in zero) + ".")
    worst = max(rows, key=lambda x: x["outside_range"])
    if worst["outside_range"] > 0:
        text.append(f"- Empirical welfare outside the LP's equilibrium welfare range by at most "
                    f"{worst['outside_range']:.3g} ({worst['game']}, {worst['learner']}, whose gap at T = "
                    f"{worst['T_max']:,} is {worst['gap_at_T_max']:.3g}); inside it for "
                    f"{sum(row['outside_range'] == 0 for row in rows)} of {len(rows)} pairs.")
    else:
        text.append(f"- The empirical welfare lies inside the LP's equilibrium welfare range for all {len(rows)} "
                    "(game, learner) pairs.")
    r.add_section("Equilibrium convergence", "\n".join(text))


SCENARIO = Scenario(
    name="learning-bidders",
    description="Hedge/EXP3/regret-matching bidders in first-price, second-price and all-pay auctions vs the BNE "
                "bids and Myerson's revenue; CCE/CE gaps of no-regret dynamics vs T and the LP's welfare range",
    grid=grid,
    compute=compute,
    report=report,
    full_grid=full_grid,
)

if __name__ == "__main__":
    from mechsim.runner.cli import scenario_main

    scenario_main(SCENARIO)
