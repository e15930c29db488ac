r"""Scenario ``justifiable-sepsis``: the justification-vs-return trade-off on the ICU-Sepsis MDP.

Reproduces the lam sweep of Sukovic & Radanovic (ICLR 2024) on an open clinical backbone where returns can
be computed exactly instead of estimated by importance sampling on a private cohort.

Per replicate (one cell each, with its own seed):

1. **Judge.**  A Bradley–Terry judge (MLP, 32 hidden units) is trained on the paper's preferences "the
   clinician's logged action beats a uniformly random other action", on clinician episodes sampled from the
   true dynamics, with the 44 centroid features observed through ``N(0, 0.3^2)`` noise and a fresh random
   evidence mask of L features per sample; the *ideal* judge is the same model on the full state.
2. **Debate reward.**  Baseline ``b(s)`` = the clinician's most probable action.  For every patient state
   ``s`` and action ``a`` the debate of ``a`` against ``b(s)`` on the state's centroid features is solved
   exactly (minimax over all reveal orders, L reveals, both first movers; batched
   :func:`mechsim.solvers.debate.debate_win_table`), giving
   ``r_debate(s, a) = c * P(a wins)`` with a uniformly random first mover (a tie or loss pays 0).  The paper
   paid ``5 * 1[win]``; here ``c = 1 / E[clinician episode length]`` (about 0.108), so that winning every
   debate of an average episode is worth one survival and neither reward swamps the other.  The ideal-judge
   reward is ``1[J(a | x) > J(b | x)]`` on the full state.
3. **Policies.**  For lam in {0, .25, .5, .75, 1} the tabular policy maximising
   ``E sum_t gamma^t [(1 - lam) r_env + lam r_debate]`` (gamma = 0.99) is found exactly by policy iteration
   on the 716-state model, for the debate reward and for the ideal-judge reward.
4. **Evaluation.**  *Preference over baseline*: the judge's debate win rate on states where the policy and
   the baseline disagree, weighted by how often the clinician visits each state (the exact state occupancy
   of the clinician policy, standing in for the paper's test cohort).  *Return*: the exact probability of
   survival (undiscounted return from ``d_0``) on the true dynamics, and the WIS estimate the paper would
   have reported: 5,000 clinician episodes, behaviour policy cloned from them, target policy softened to
   ``0.99 pi + 0.01 uniform``.
5. **Robustness** (L = 4, held-out patient states; see :func:`_robustness`): judge accuracy when a learned
   neural debater (isolated, self-play or max-min; :mod:`mechsim.scenarios.sepsis_debaters`, shipped as a
   cached bundle, retrained at paper size with ``--full``) argues the clinician's action, alone, against
   the exact best-response confuser and against its learned confuser arguing a contested other action,
   beside the exact minimax ceiling, with bootstrap CIs.

6. **Evidence sweep** (:func:`_evidence_sweep`): the same lam sweep (exact return and preference per lam)
   with the debate table at other evidence budgets, each with its own judge trained on L-feature masks:
   *exact* rows (minimax, :func:`mechsim.solvers.debate.debate_win_table`, L = 4 by default) and *learned*
   rows at the paper's L = 6, where the debates are played by learned debaters
   (:func:`mechsim.learners.debate_tables.learned_win_table`; the debaters come from
   :data:`SWEEP_DEBATERS` [``params["sweep_debater"]``]: by default the shipped max-min MLP debaters, the
   confuser arguing each alternative action and the argumentator the clinician's, against the fixed judge
   they were trained with; ``--quick`` uses the greedy debater at L = 2).  A cross-check at L = 4 builds the
   exact and the learned table on the same judge and reports how often the debates' winners agree and the
   exact returns of the policies each table induces.

Exact L-reveal debates over 44 features cost one judge pass per (state, leaf set, action): C(44, 2) = 946
leaf sets make the full 713 x 25 table at L = 2 a few seconds (the main sweep; ``--quick``: L = 1);
L = 4 (135,751 leaf sets) takes about 0.1 s per state for all 25 actions (float32 judge blocks with exact
near-tie rechecks), a minute or two for the table, so the default grid runs the evidence sweep on
replicate 0 only and ``--full`` on every replicate; L = 6 (7.06M leaf sets) is not solved exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mechsim.debate.icu_sepsis import (
    N_PATIENT_STATES,
    baseline_actions,
    behaviour_cloning,
    clinician_preferences,
    evaluate_policy,
    load_icu_sepsis,
    policy_iteration,
    sample_trajectories,
    soften_policy,
    state_occupancy,
    train_sepsis_judge,
    wis_estimate,
)
from mechsim.learners.debate_tables import compare_tables, learned_win_table
from mechsim.learners.debaters import GreedyDebater
from mechsim.learners.neural_debaters import RLExtraMissingError, bootstrap_ci, evaluate_held_out
from mechsim.runner.scenario import Scenario
from mechsim.scenarios import sepsis_debaters as sd
from mechsim.solvers.debate import debate_win_table

LAMS = (0.0, 0.25, 0.5, 0.75, 1.0)

#: Sukovic & Radanovic (ICLR 2024), L = 6, their lam sweep on MIMIC-III: lam -> (preference, WIS return)
PAPER = {0.0: (None, 0.86), 0.25: (0.742, 0.82), 0.5: (0.816, 0.79), 0.75: (0.824, 0.79), 1.0: (0.842, 0.76)}
PAPER_CLINICIAN_WIS = 0.69


def grid(quick: bool) -> list[dict]:
    if quick:
        return [{"replicate": 0, "n_evidence": 1, "judge_episodes": 600, "judge_epochs": 4,
                 "wis_episodes": 2000, "gamma": 0.99, "robust_states": 3, "robust_evidence": 4,
                 "robust_chunk": [0, 1], "debaters": "cached", "debate_scale": "per-episode",
                 **_sweep_params(True, 0)}]
    return [{"replicate": k, "n_evidence": 2, "judge_episodes": 2000, "judge_epochs": 10,
             "wis_episodes": 5000, "gamma": 0.99, "robust_states": None, "robust_evidence": 4,
             "robust_chunk": [k, 3], "debaters": "cached", "debate_scale": "per-episode",
             **_sweep_params(False, k)}
            for k in range(3)]


def full_grid() -> list[dict]:
    """The default cells with the debaters retrained at paper size (needs the ``rl`` extra) and the L = 4 /
    learned L = 6 evidence sweep on every replicate (not only the first)."""
    return [{**cell, **_sweep_params(False, 0), "debaters": "full"} for cell in grid(False)]


def _sweep_params(quick: bool, replicate: int) -> dict:
    """Parameters of the evidence sweep (:func:`_evidence_sweep`).

    ``sweep_exact``: L of extra exact-table rows; ``sweep_learned``: L of learned-table rows;
    ``sweep_crosscheck``: L at which the learned table is compared with the exact one (0: none);
    ``sweep_debater``: key of :data:`SWEEP_DEBATERS`.  The default grid runs the sweep on replicate 0 only
    (the exact L = 4 table costs about 0.1 s per state); ``--full`` on every replicate.
    """
    if quick:
        return {"sweep_exact": [2], "sweep_learned": [2], "sweep_crosscheck": 2, "sweep_debater": "greedy"}
    if replicate == 0:
        return {"sweep_exact": [4], "sweep_learned": [6], "sweep_crosscheck": 4, "sweep_debater": "maxmin"}
    return {"sweep_exact": [], "sweep_learned": [], "sweep_crosscheck": 0, "sweep_debater": "greedy"}


def _full_table(mdp, values) -> np.ndarray:
    out = np.zeros((mdp.n_states, mdp.n_actions))
    out[:N_PATIENT_STATES] = values
    return out


def _ideal_reward(judge, mdp, base) -> np.ndarray:
    """``1[J(a | x) > J(b(s) | x)]`` on the full state, for every patient state and action."""
    x = mdp.features[:N_PATIENT_STATES]
    S, F = x.shape
    D = mdp.n_actions
    scores = judge.score(np.repeat(x, D, axis=0), np.ones((S * D, F), dtype=bool),
                         np.tile(np.arange(D), S)).reshape(S, D)
    return (scores > scores[np.arange(S), base[:S]][:, None]).astype(float)


def compute(params, seed) -> dict:
    # Dense 713 x 713 solves dominate; multi-threaded BLAS in several pool workers at once oversubscribes the
    # cores (measured 15x slower under load), so one BLAS thread per worker.
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        return _compute(params, seed)
    with threadpool_limits(limits=1, user_api="blas"):
        return _compute(params, seed)


def _compute(params, seed) -> dict:
    rng = np.random.default_rng(seed)
    mdp = load_icu_sepsis()
    L = int(params["n_evidence"])
    gamma = float(params["gamma"])
    base = baseline_actions(mdp)

    judge = train_sepsis_judge(mdp, L, n_episodes=params["judge_episodes"], epochs=params["judge_epochs"],
                               seed=rng)
    ideal = train_sepsis_judge(mdp, L, ideal=True, n_episodes=params["judge_episodes"],
                               epochs=params["judge_epochs"], seed=rng)
    held_out = clinician_preferences(mdp, 500, seed=rng)
    judge_acc = {
        "judge_accuracy_random_L": judge.accuracy(*held_out.as_tuple(), seed=rng),
        "judge_accuracy_full": judge.accuracy(*held_out.as_tuple(), n_evidence=44),
        "ideal_judge_accuracy": ideal.accuracy(*held_out.as_tuple(), n_evidence=44),
    }

    table = debate_win_table(judge, mdp.features[:N_PATIENT_STATES], base[:N_PATIENT_STATES], L,
                             n_decisions=mdp.n_actions)
    win_debate = _full_table(mdp, table.win_probability)
    win_ideal = _full_table(mdp, _ideal_reward(ideal, mdp, base))

    clinician = mdp.clinician_policy()
    occupancy = state_occupancy(mdp, clinician)[:N_PATIENT_STATES]
    # One won debate pays 1 / E[clinician episode length]: winning every debate of an average episode is
    # worth as much as one survival, so neither reward swamps the other at moderate lam.
    scale = 1.0 / float(occupancy.sum()) if params["debate_scale"] == "per-episode" else float(params["debate_scale"])
    logged = sample_trajectories(mdp, clinician, params["wis_episodes"], seed=rng)
    cloned = behaviour_cloning(logged)
    clinician_exact = evaluate_policy(mdp, clinician).expected_return
    clinician_wis = wis_estimate(logged, cloned, cloned).value

    def preference(policy, reward_table):
        disagree = policy[:N_PATIENT_STATES] != base[:N_PATIENT_STATES]
        w = occupancy * disagree
        wins = reward_table[np.arange(N_PATIENT_STATES), policy[:N_PATIENT_STATES]]
        rate = float(w @ wins / w.sum()) if w.sum() > 0 else float("nan")
        return rate, float(occupancy @ disagree / occupancy.sum())

    rows = []
    for feedback, wins in (("debate", win_debate), ("ideal", win_ideal)):
        pi = None
        for lam in LAMS:
            reward = (1.0 - lam) * mdp.reward + lam * scale * wins
            pi = policy_iteration(mdp, gamma=gamma, reward=reward, initial_policy=pi).policy
            exact = evaluate_policy(mdp, pi).expected_return
            wis = wis_estimate(logged, soften_policy(pi, 0.01), cloned)
            pref_debate, disagreement = preference(pi, win_debate)
            pref_ideal, _ = preference(pi, win_ideal)
            rows.append({"feedback": feedback, "lam": lam, "exact_return": exact, "wis_return": wis.value,
                         "wis_ess": wis.effective_sample_size, "preference_debate": pref_debate,
                         "preference_ideal": pref_ideal, "disagreement": disagreement,
                         "agrees_with_clinician_mode": float(np.mean(pi[:N_PATIENT_STATES]
                                                                     == base[:N_PATIENT_STATES]))})
    result = {"rows": rows, "clinician_exact": clinician_exact, "clinician_wis": clinician_wis,
              "debate_scale": scale,
              "optimal_exact": policy_iteration(mdp).expected_return,
              "mean_debate_win_rate_all_actions": float(np.mean(table.win_probability[
                  np.arange(mdp.n_actions)[None] != base[:N_PATIENT_STATES, None]])),
              **judge_acc}
    result["robustness"] = _robustness(mdp, base, params, rng, occupancy / occupancy.sum())
    # Own stream, so that the sweep neither shifts nor depends on the sections above.
    sweep, crosscheck = _evidence_sweep(mdp, base, params, np.random.default_rng([int(seed), 16]), occupancy,
                                        scale, gamma)
    result["evidence_sweep"], result["crosscheck"] = sweep, crosscheck
    return result


# ---------------------------------------------------------------------------------------------- evidence sweep
def _greedy_sweep_debater(judge, n_evidence, params, rng):
    """The greedy debater on the sweep's judge, both sides (deterministic, so its table is exact): no bundle
    needed, so it serves any L (``--quick`` uses it at L = 2)."""
    return GreedyDebater(judge), "greedy on the judge (one-reveal lookahead, both sides)"


def _maxmin_sweep_debaters(judge, n_evidence, params, rng):
    """The shipped learned max-min debaters of this L (:mod:`mechsim.scenarios.sepsis_debaters`), argmax play.

    The debate of ``a`` against ``b(s)`` is played by the max-min *confuser* for ``a`` (trained to argue
    a wrong decision) and the max-min *argumentator* for ``b(s)`` (trained to argue the clinician's action),
    both playing their most probable reveal, so every debate is one line of play and its table exact.  The
    debaters were trained against the fixed-seed judge :func:`~mechsim.scenarios.sepsis_debaters.debate_judge`
    (fingerprint checked), which is returned and then judges that L's tables (the sweep's own judge is unused).
    """
    L = int(n_evidence)
    mdp = load_icu_sepsis()
    fixed = sd.debate_judge(mdp, L)
    if params.get("debaters", "cached") == "full":
        bundle, note = _full_debaters(mdp, fixed, L)
    else:
        bundle, note = sd.cached_debaters(fixed, L, mdp=mdp)
    pair = (bundle.debaters["maxmin_confuser"], bundle.debaters["maxmin"])
    return pair, f"learned max-min MLP debaters ({note}; argmax play)", fixed


#: Debaters of the learned-table rows: key -> ``factory(judge, n_evidence, params, rng)`` returning
#: ``(debaters, label)`` or ``(debaters, label, judge)``; ``params["sweep_debater"]`` picks one.  ``judge`` is
#: the sweep's judge for that L (trained on L-feature masks); a factory whose debaters were trained against
#: another judge returns that judge as the third element, and the L's tables (learned and, for the
#: cross-check, exact) then use it.  ``debaters`` is one debater playing both sides of every debate against
#: the baseline or a pair (for the decision, for the baseline) (anything with ``batch_probabilities``;
#: stochastic ones are evaluated by sampling when their support is too large;
#: :func:`mechsim.learners.debate_tables.learned_win_table`).
SWEEP_DEBATERS = {"maxmin": _maxmin_sweep_debaters, "greedy": _greedy_sweep_debater}


def _preference(policy, wins, base, occupancy):
    """Occupancy-weighted win rate of ``policy``'s decisions against the baseline where they differ."""
    S = N_PATIENT_STATES
    disagree = policy[:S] != base[:S]
    w = occupancy * disagree
    rate = float(w @ wins[np.arange(S), policy[:S]] / w.sum()) if w.sum() > 0 else float("nan")
    return rate, float(occupancy @ disagree / occupancy.sum())


def _lam_policies(mdp, wins, scale, gamma):
    """Exact policy-iteration policies for every lam on the reward ``(1 - lam) r_env + lam * scale * wins``."""
    pi, out = None, []
    for lam in LAMS:
        pi = policy_iteration(mdp, gamma=gamma, reward=(1.0 - lam) * mdp.reward + lam * scale * wins,
                              initial_policy=pi).policy
        out.append((lam, pi, evaluate_policy(mdp, pi).expected_return))
    return out


def _evidence_sweep(mdp, base, params, rng, occupancy, scale, gamma):
    """The lam sweep with exact debates at other L and with learned debaters' debates at any L.

    For each L a judge is trained with random L-feature masks (as the main judge is).  *Exact* rows use
    :func:`mechsim.solvers.debate.debate_win_table` (minimax, both first movers); *learned* rows use
    :func:`mechsim.learners.debate_tables.learned_win_table` with the debater of
    ``SWEEP_DEBATERS[params["sweep_debater"]]`` on both sides.  Either table gives
    ``r_debate = scale * P(a wins)`` and, per lam, the exact policy-iteration policy, its exact return and its
    preference over the baseline under the same table.  The cross-check at ``L = params["sweep_crosscheck"]``
    builds both tables on the same judge and reports their agreement and, per lam, the exact return of the
    policy each table induces and the learned-table policy's preference under the *exact* debates.
    """
    S = N_PATIENT_STATES
    x, b = mdp.features[:S], base[:S]
    judges = {}

    def judge_for(L):
        if L not in judges:
            judges[L] = train_sepsis_judge(mdp, L, n_episodes=params["judge_episodes"],
                                           epochs=params["judge_epochs"], seed=rng)
        return judges[L]

    factory = SWEEP_DEBATERS[params["sweep_debater"]]
    tables, rows, labels = {}, [], {}

    policies = {}

    def sweep_of(key):
        """(lam, policy, exact return) per lam for the table ``tables[key]`` (policy iteration once per table)."""
        if key not in policies:
            policies[key] = _lam_policies(mdp, _full_table(mdp, tables[key].win_probability), scale, gamma)
        return policies[key]

    def add_rows(kind, L, table, label):
        wins = _full_table(mdp, table.win_probability)
        for lam, pi, ret in sweep_of((kind, L)):
            pref, dis = _preference(pi, wins, base, occupancy)
            rows.append({"table": kind, "n_evidence": L, "debater": label, "lam": lam, "exact_return": ret,
                         "preference": pref, "disagreement": dis,
                         "mean_win_rate": float(np.mean(table.win_probability[np.arange(mdp.n_actions)[None]
                                                                               != b[:, None]])),
                         "table_seconds": round(table.solve_time, 3)})

    check = int(params["sweep_crosscheck"])
    # Learned tables first: a factory may bring the judge its debater was trained against, which then is
    # the judge of that L's exact table too (the cross-check compares debates on the same judge).
    for L in sorted(set(params["sweep_learned"]) | ({check} if check else set())):
        made = factory(judge_for(L), L, params, rng)
        debater, labels[L] = made[0], made[1]
        if len(made) > 2 and made[2] is not None:
            judges[L] = made[2]
        tables[("learned", L)] = table = learned_win_table(judge_for(L), x, b, L, debater,
                                                           n_decisions=mdp.n_actions, seed=rng)
        if L in params["sweep_learned"]:
            add_rows("learned", L, table, labels[L] + f" [{table.method}]")
    for L in sorted(set(params["sweep_exact"]) | ({check} if check else set())):
        tables[("exact", L)] = debate_win_table(judge_for(L), x, b, L, n_decisions=mdp.n_actions)
        if L in params["sweep_exact"]:
            add_rows("exact", L, tables[("exact", L)], "exact minimax")
    crosscheck = {}
    if check:
        exact, learned = tables[("exact", check)], tables[("learned", check)]
        agree = compare_tables(exact, learned)
        per_lam = []
        wins_exact = _full_table(mdp, exact.win_probability)
        wins_learned = _full_table(mdp, learned.win_probability)
        for (lam, pi_e, ret_e), (_, pi_l, ret_l) in zip(sweep_of(("exact", check)), sweep_of(("learned", check))):
            per_lam.append({"lam": lam, "exact_table_return": ret_e, "learned_table_return": ret_l,
                            "exact_table_preference": _preference(pi_e, wins_exact, base, occupancy)[0],
                            "learned_table_preference_under_exact": _preference(pi_l, wins_exact, base,
                                                                                occupancy)[0],
                            "learned_table_preference_under_learned": _preference(pi_l, wins_learned, base,
                                                                                  occupancy)[0],
                            "same_policy_fraction": float(np.mean(pi_e[:S] == pi_l[:S]))})
        crosscheck = {"n_evidence": check, "debater": labels[check],
                      "method": learned.method, "same_winner": agree.same_winner,
                      "same_winner_random_first": agree.same_winner_random_first,
                      "mean_abs_win_difference": agree.mean_abs_win_difference,
                      "win_rate_exact": agree.win_rate_first, "win_rate_learned": agree.win_rate_second,
                      "n_pairs": agree.n_games, "exact_seconds": round(exact.solve_time, 3),
                      "learned_seconds": round(learned.solve_time, 3), "per_lam": per_lam}
    return rows, crosscheck


def _robustness(mdp, base, params, rng, visits) -> list[dict]:
    """Judge accuracy from learned debaters' evidence on held-out patient states, exactly, at L = 4.

    The judge is the fixed-seed L-mask judge of :func:`mechsim.scenarios.sepsis_debaters.debate_judge` (the
    debaters in the shipped bundle were trained against it; its fingerprint is checked).  The 713 patient
    states are split once (seeded) into training and held-out states; the debaters never saw the held-out
    ones.  On each held-out state the honest debater argues the clinician's most probable action ``b(s)``
    and the confuser a *contested* other action (one whose one-reveal debate against ``b(s)`` the first
    mover wins, drawn with a fixed seed; against the other actions this judge sides with ``b(s)`` whatever is
    revealed).  Per state and debater, computed exactly (:func:`mechsim.learners.neural_debaters.
    evaluate_held_out`): accuracy with a random evidence set, alone (the debater reveals all L), against the
    exact best-response confuser, against its own learned confuser (max-min), and exact minimax play on both
    sides (the ceiling).  The held-out states are shared out over the replicate cells
    (``params["robust_chunk"] = [k, n]``: every n-th state from the k-th) and pooled in the report.
    ``rng`` and ``visits`` are unused (the evaluation is fixed by its own seeds).
    """
    L = int(params["robust_evidence"])
    k, n_chunks = (int(v) for v in params.get("robust_chunk", (0, 1)))
    judge = sd.debate_judge(mdp, L)
    if params.get("debaters", "cached") == "full":
        bundle, note = _full_debaters(mdp, judge, L)
    else:
        bundle, note = sd.cached_debaters(judge, L, mdp=mdp)
    contested = sd.contested_alternatives(judge, mdp, base)
    _, held_out = sd.patient_split()
    held_out = held_out[contested[held_out].any(axis=1)]
    pick = np.random.default_rng(ROBUST_SEED)
    wrong_all = np.array([pick.choice(np.flatnonzero(contested[s])) for s in held_out], dtype=np.int64)
    mine = np.arange(held_out.size)[k::n_chunks]
    if params.get("robust_states") is not None:
        mine = mine[:int(params["robust_states"])]
    states, wrong = held_out[mine], wrong_all[mine]
    debaters = {name: d for name, d in bundle.debaters.items() if not name.endswith("_confuser")}
    confusers = {name[:-len("_confuser")]: d for name, d in bundle.debaters.items() if name.endswith("_confuser")}
    ev = evaluate_held_out(judge, mdp.features[states], base[states], wrong, debaters, L, confusers=confusers,
                           states=states)
    prefs = clinician_preferences(mdp, 500, seed=ROBUST_SEED)
    judge_random = float(judge.accuracy(*prefs.as_tuple(), seed=ROBUST_SEED))
    runs = bundle.metadata.get("runs", {})
    rows = []
    for name in debaters:
        rows.append({"debater": name, "n_evidence": L, "states": states.tolist(), "wrong": wrong.tolist(),
                     "held_out_total": int(held_out.size), "random_evidence": ev.random_evidence.tolist(),
                     "minimax": ev.minimax.tolist(), "alone": ev.alone[name].tolist(),
                     "vs_exact": ev.vs_exact[name].tolist(),
                     "vs_learned": ev.vs_learned[name].tolist() if name in ev.vs_learned else None,
                     "judge_accuracy_random_preferences": judge_random, "source": note,
                     "training": runs.get(name, {}), "bundle_command": bundle.metadata.get("command"),
                     "bundle_versions": bundle.metadata.get("versions"),
                     "bundle_loadavg": bundle.metadata.get("loadavg")})
    return rows


#: Seed of the held-out wrong decisions, the preference sample and the bootstrap of the robustness table.
ROBUST_SEED = 1616


def _full_debaters(mdp, judge, L):
    """Paper-size debaters (``--full``): trained once into ``~/.cache/mechsim/debaters/full`` (rl extra)."""
    folder = Path.home() / ".cache" / "mechsim" / "debaters" / "full"
    try:
        return sd.cached_debaters(judge, L, path=sd.bundle_path(L, folder), retrain=False, mdp=mdp)
    except sd.CachedDebatersError:
        pass
    try:
        path, _ = sd.train_bundle(L, scale="full", out_dir=folder, mdp=mdp,
                                  command="mechsim run justifiable-sepsis --full")
    except RLExtraMissingError as exc:
        raise sd.CachedDebatersError(f"--full retrains the debaters at paper size: {exc}") from exc
    return sd.cached_debaters(judge, L, path=path, retrain=False, mdp=mdp)


def _robustness_table(records) -> tuple[list[dict], dict]:
    """Pool the per-state robustness rows of all cells by debater; means with percentile-bootstrap CIs."""
    pooled: dict[str, dict] = {}
    for rec in records:
        for row in rec["result"].get("robustness", []):
            p = pooled.setdefault(row["debater"], {"rows": []})
            p["rows"].append(row)
    table, raw = [], {}
    paper = {"isolated": "0.88 → 0.38", "maxmin": "0.90 → 0.85"}

    def cat(rows, key):
        vals = [row[key] for row in rows]
        return None if any(v is None for v in vals) else np.concatenate([np.asarray(v, float) for v in vals])

    def fmt(v, off):
        if v is None:
            return "–"
        lo, hi = bootstrap_ci(v, seed=ROBUST_SEED + off)
        return f"{v.mean():.3f} [{lo:.3f}, {hi:.3f}]"

    for j, (name, p) in enumerate(pooled.items()):
        rows = p["rows"]
        data = {key: cat(rows, key) for key in ("random_evidence", "alone", "vs_exact", "vs_learned", "minimax")}
        raw[name] = {**data, "states": np.concatenate([np.asarray(r["states"]) for r in rows]), "row": rows[0]}
        mm, vs = data["minimax"], data["vs_exact"]
        idx = np.random.default_rng(ROBUST_SEED + 99).integers(0, vs.size, size=(2000, vs.size))
        ratio = vs[idx].mean(axis=1) / np.maximum(mm[idx].mean(axis=1), 1e-12)
        lo, hi = np.quantile(ratio, [0.025, 0.975])
        table.append({"debater": name, "L": rows[0]["n_evidence"], "held-out states": int(vs.size),
                      "random evidence": fmt(data["random_evidence"], 0),
                      "debater alone": fmt(data["alone"], 10 * j + 1),
                      "vs exact confuser": fmt(vs, 10 * j + 2),
                      "vs learned confuser": fmt(data["vs_learned"], 10 * j + 3),
                      "exact minimax (ceiling)": fmt(mm, 4),
                      "vs exact / minimax": f"{vs.mean() / max(mm.mean(), 1e-12):.3f} [{lo:.3f}, {hi:.3f}]",
                      "paper (L=6, alone → vs confuser)": paper.get(name, "")})
    return table, raw


def _mean_rows(records):
    """Average the per-replicate rows by (feedback, lam); also the replicate standard deviation."""
    keys = ["exact_return", "wis_return", "wis_ess", "preference_debate", "preference_ideal", "disagreement",
            "agrees_with_clinician_mode"]
    groups: dict[tuple, list[dict]] = {}
    for rec in records:
        for row in rec["result"]["rows"]:
            groups.setdefault((row["feedback"], row["lam"]), []).append(row)
    out = []
    for (feedback, lam), rows in groups.items():
        entry = {"feedback": feedback, "lam": lam, "replicates": len(rows)}
        for k in keys:
            vals = np.array([r[k] for r in rows], dtype=float)
            entry[k] = float(np.nanmean(vals)) if np.any(np.isfinite(vals)) else float("nan")
            entry[k + "_sd"] = float(np.nanstd(vals)) if np.sum(np.isfinite(vals)) > 1 else 0.0
        out.append(entry)
    return out


def report(r) -> None:
    import matplotlib.pyplot as plt

    means = _mean_rows(r.records)
    r.add_table("lam_sweep", means)
    per_rep = [{"replicate": rec["params"]["replicate"], **row} for rec in r.records for row in rec["result"]["rows"]]
    r.add_table("lam_sweep_by_replicate", per_rep)
    res0 = r.records[0]["result"]
    p0 = r.records[0]["params"]
    avg = {k: float(np.mean([rec["result"][k] for rec in r.records]))
           for k in ("clinician_exact", "clinician_wis", "optimal_exact", "judge_accuracy_random_L",
                     "judge_accuracy_full", "ideal_judge_accuracy", "mean_debate_win_rate_all_actions")}

    by = {(m["feedback"], m["lam"]): m for m in means}
    side = []
    for lam in LAMS:
        d, i = by[("debate", lam)], by[("ideal", lam)]
        paper_pref, paper_wis = PAPER[lam]
        side.append({
            "lam": lam,
            "paper preference (L=6)": "–" if paper_pref is None else f"{paper_pref:.3f}",
            f"ours preference (debate, L={p0['n_evidence']})":
                f"{d['preference_debate']:.3f} ± {d['preference_debate_sd']:.3f}",
            "ours preference (ideal feedback, ideal judge)": f"{i['preference_ideal']:.3f}",
            "debate-feedback policy, ideal judge": f"{d['preference_ideal']:.3f}",
            "paper WIS": f"≈{paper_wis:.2f}",
            "ours WIS": f"{d['wis_return']:.3f}",
            "ours exact return": f"{d['exact_return']:.4f} ± {d['exact_return_sd']:.4f}",
            "ours exact return (ideal feedback)": f"{i['exact_return']:.4f}",
            "disagreement with baseline": f"{d['disagreement']:.3f}",
        })
    r.add_table("paper_vs_ours", side)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for feedback, style in (("debate", "o-"), ("ideal", "s--")):
        rows = [by[(feedback, lam)] for lam in LAMS]
        axes[0].errorbar(LAMS, [m["preference_debate" if feedback == "debate" else "preference_ideal"]
                                for m in rows],
                         yerr=[m["preference_debate_sd" if feedback == "debate" else "preference_ideal_sd"]
                               for m in rows], fmt=style, label=f"{feedback} feedback")
        axes[1].errorbar(LAMS, [m["exact_return"] for m in rows], yerr=[m["exact_return_sd"] for m in rows],
                         fmt=style, label=f"exact, {feedback} feedback")
        axes[1].plot(LAMS, [m["wis_return"] for m in rows], style, alpha=0.4, label=f"WIS, {feedback} feedback")
    paper_lams = [lam for lam in LAMS if PAPER[lam][0] is not None]
    axes[0].plot(paper_lams, [PAPER[lam][0] for lam in paper_lams], "k:", marker="x", label="paper (L=6)")
    axes[1].plot(LAMS, [PAPER[lam][1] for lam in LAMS], "k:", marker="x", label="paper WIS (MIMIC)")
    axes[1].axhline(avg["clinician_exact"], color="gray", lw=0.8, label="clinician (exact)")
    axes[0].set_xlabel("lam")
    axes[0].set_ylabel("preference over baseline")
    axes[1].set_xlabel("lam")
    axes[1].set_ylabel("return (survival probability)")
    axes[0].legend(fontsize=7)
    axes[1].legend(fontsize=7)
    fig.suptitle("justifiable sepsis treatment: lam sweep")
    r.add_figure("lam_sweep", fig, caption="Left: judge's preference for the policy's decision over the "
                 "clinician's where they differ. Right: exact and WIS returns; paper values for reference.")

    n_rep = len(r.records)
    lines = [
        f"Ran {n_rep} replicate(s) (independent judges, logged data and WIS samples) of the lam sweep on the "
        f"ICU-Sepsis MDP (716 states, 25 actions; clinician exact return {avg['clinician_exact']:.4f}, "
        f"optimal {avg['optimal_exact']:.4f}).",
        "",
        f"**Choices (stated because the paper's are infeasible or private):** exact debates with "
        f"L = {p0['n_evidence']} reveals over the 44 centroid features for every (state, action) against the "
        f"clinician's most probable action (C(44, {p0['n_evidence']}) leaf sets per state, both first movers); "
        f"the paper used L = 6 with PPO debaters (7.06M leaf sets per pair, no exact solution). Judge: MLP (32 "
        f"hidden) Bradley–Terry on {p0['judge_episodes']} clinician episodes, {p0['judge_epochs']} epochs, "
        f"noise sigma 0.3. Debate reward = {res0['debate_scale']:.4f} · P(win) with a random first mover, i.e. "
        f"1 / E[clinician episode length] per won debate (paper: 5·1[win]). Policies: exact "
        f"policy iteration with gamma = {p0['gamma']}. WIS: {p0['wis_episodes']} clinician episodes, cloned "
        f"behaviour policy, target softened with epsilon = 0.01. Preference over baseline weighted by the "
        f"clinician's exact state occupancy.",
        "",
        f"Judge accuracy on held-out clinician-vs-random pairs: {avg['judge_accuracy_random_L']:.3f} with "
        f"random evidence of size L (paper: 0.65–0.67), {avg['judge_accuracy_full']:.3f} with the full state; "
        f"ideal judge {avg['ideal_judge_accuracy']:.3f}. Mean debate win rate of a non-baseline action against "
        f"the baseline: {avg['mean_debate_win_rate_all_actions']:.3f}.",
        "",
        r.markdown_table(side),
        "",
        "Paper: clinician WIS ≈ 0.69 on MIMIC-III; ours: clinician exact "
        f"{avg['clinician_exact']:.4f}, WIS of the cloned clinician {avg['clinician_wis']:.4f}.",
    ]
    d0, d1 = by[("debate", 0.0)], by[("debate", 1.0)]
    i1 = by[("ideal", 1.0)]
    wis_err = max(abs(m["wis_return"] - m["exact_return"]) for m in means)
    tradeoff = (d1["preference_debate"] > d0["preference_debate"]) and (d1["exact_return"] < d0["exact_return"])
    gap = i1["preference_ideal"] - d1["preference_ideal"]
    found = (
        f"**Found:** with debate feedback, the preference over baseline goes from {d0['preference_debate']:.3f} "
        f"(lam = 0) to {d1['preference_debate']:.3f} (lam = 1) while the exact return goes from "
        f"{d0['exact_return']:.4f} to {d1['exact_return']:.4f} (the clinician's is {avg['clinician_exact']:.4f})"
        + (": the paper's qualitative trade-off. " if tradeoff else "; the paper's trade-off is NOT reproduced. ")
        + f"Ideal-judge feedback gives exact returns {by[('ideal', 0.5)]['exact_return']:.4f} (lam = 0.5) and "
        f"{i1['exact_return']:.4f} (lam = 1). The ideal judge prefers the debate-feedback policy over the clinician "
        f"on {d1['preference_ideal']:.3f} of disagreement states at lam = 1 (the ideal-feedback policy: "
        f"{i1['preference_ideal']:.3f})"
        + (", so part of what debate feedback teaches is winning short debates rather than choosing what the "
           "full-information judge would prefer. " if gap > 0.1 else ". ")
        + f"WIS, the paper's only available estimate, is off the exact return by up to {wis_err:.3f} here (with "
        f"the true behaviour policy's data and dynamics), to be compared with the differences in the paper's table."
    )
    lines += ["", found]
    lines += _robustness_report(r)
    lines += _report_evidence_sweep(r, avg["clinician_exact"])
    r.add_section("Justifiable sepsis treatment (lam sweep)", "\n".join(lines))


def _report_evidence_sweep(r, clinician_exact) -> list[str]:
    """Tables and summary lines of :func:`_evidence_sweep` (rows pooled over the replicates that ran it)."""
    sweep = [{"replicate": rec["params"]["replicate"], **row} for rec in r.records
             for row in rec["result"].get("evidence_sweep", [])]
    checks = [(rec["params"]["replicate"], rec["result"]["crosscheck"]) for rec in r.records
              if rec["result"].get("crosscheck")]
    if not sweep and not checks:
        return []
    lines = []
    if sweep:
        r.add_table("evidence_sweep_by_replicate", sweep)
        groups: dict[tuple, list[dict]] = {}
        for row in sweep:
            groups.setdefault((row["table"], row["n_evidence"], row["debater"]), []).append(row)
        side = []
        for (kind, L, label), rows in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            entry = {"table": f"{kind} L={L}", "debater": label, "replicates": len({x["replicate"] for x in rows}),
                     "table seconds": f"{np.mean([x['table_seconds'] for x in rows]):.1f}"}
            for lam in LAMS:
                at = [x for x in rows if x["lam"] == lam]
                entry[f"pref lam={lam:g}"] = f"{np.nanmean([x['preference'] for x in at]):.3f}"
                entry[f"return lam={lam:g}"] = f"{np.mean([x['exact_return'] for x in at]):.4f}"
            side.append(entry)
        paper = {"table": "paper L=6 (MIMIC-III, PPO debaters; WIS return)", "debater": "PPO self-play",
                 "replicates": "", "table seconds": ""}
        for lam in LAMS:
            pref, wis = PAPER[lam]
            paper[f"pref lam={lam:g}"] = "–" if pref is None else f"{pref:.3f}"
            paper[f"return lam={lam:g}"] = f"≈{wis:.2f}"
        side.append(paper)
        r.add_table("evidence_sweep", side)
        lines += ["", "**The lam sweep at other evidence budgets** (function `_evidence_sweep`): for each L a judge "
                  "is trained with random L-feature masks; *exact* rows solve every (state, action) debate against "
                  "the clinician's most probable action by minimax (`debate_win_table`, both first movers; "
                  "C(44, 4) = 135,751 evidence sets per state at L = 4); *learned* rows play the same debates "
                  "with the named debaters (`learned_win_table`; the learned max-min confuser argues the action "
                  "and the learned argumentator the clinician's, against the fixed judge they were trained with; "
                  "[exact] = exact expectation over the debaters' support, one line of play for argmax "
                  "debaters; [sample] = seeded sampling). L = 6 has C(44, 6) = 7.06M evidence sets per state "
                  "and is not solved exactly; its learned row stands beside the paper's. Reward, policies "
                  "(exact policy iteration) "
                  "and preference (clinician-occupancy-weighted win rate where the policy differs from the "
                  "baseline, under the same table) as above; returns are exact survival probabilities "
                  f"(clinician {clinician_exact:.4f}); the paper's returns are WIS estimates on MIMIC-III.", "",
                  r.markdown_table(side)]
    if checks:
        flat = [{"replicate": rep, **{k: v for k, v in c.items() if k != "per_lam"}} for rep, c in checks]
        r.add_table("crosscheck", flat)
        per_lam = [{"replicate": rep, **row} for rep, c in checks for row in c["per_lam"]]
        r.add_table("crosscheck_by_lam", per_lam)
        c0 = checks[0][1]
        show = [{"lam": row["lam"], "return (exact-table policy)": f"{row['exact_table_return']:.4f}",
                 "return (learned-table policy)": f"{row['learned_table_return']:.4f}",
                 "pref. exact policy (exact debates)": f"{row['exact_table_preference']:.3f}",
                 "pref. learned policy (exact debates)": f"{row['learned_table_preference_under_exact']:.3f}",
                 "pref. learned policy (learned debates)": f"{row['learned_table_preference_under_learned']:.3f}",
                 "same action": f"{row['same_policy_fraction']:.3f}"}
                for row in c0["per_lam"]]
        lines += ["", f"**Cross-check at L = {c0['n_evidence']}** (replicate {checks[0][0]}; same judge for both "
                  f"tables): learned debates ({c0['debater']}, {c0['method']}) against exact minimax debates on all "
                  f"{c0['n_pairs']} (state, action ≠ baseline) pairs: the winner (does the action win the debate?) "
                  f"is the same in {c0['same_winner']:.3f} of (pair, first mover) games and "
                  f"{c0['same_winner_random_first']:.3f} of pairs with a random first mover (P(win) > 1/2); "
                  f"mean |ΔP(win)| = {c0['mean_abs_win_difference']:.3f}; mean win rate exact "
                  f"{c0['win_rate_exact']:.3f} vs learned {c0['win_rate_learned']:.3f}. Tables took "
                  f"{c0['exact_seconds']:.1f} s (exact) and {c0['learned_seconds']:.1f} s (learned). The policies "
                  "each table induces:", "", r.markdown_table(show)]
    return lines


def _robustness_report(r) -> list[str]:
    """The robustness table (pooled over cells, bootstrap CIs) and its summary lines."""
    if not any(rec["result"].get("robustness") for rec in r.records):
        return []
    table, raw = _robustness_table(r.records)
    r.add_table("robustness", table)
    per_state = []
    for name, d in raw.items():
        for i, s in enumerate(d["states"]):
            per_state.append({"debater": name, "state": int(s), **{key: (None if d[key] is None else float(d[key][i]))
                                                                  for key in ("random_evidence", "alone", "vs_exact",
                                                                              "vs_learned", "minimax")}})
    r.add_table("robustness_by_state", per_state)
    first = next(iter(raw.values()))["row"]
    L = first["n_evidence"]
    runs = {name: d["row"].get("training", {}) for name, d in raw.items()}
    train_txt = "; ".join(f"{name}: " + (f"{t['positions']} labelled positions" if "positions" in t
                                          else f"{t.get('steps', '?')} steps") + f", {t.get('seconds', '?')} s"
                          for name, t in runs.items())
    versions = first.get("bundle_versions") or {}
    out = ["", f"**Robustness of learned debaters** (L = {L}, {table[0]['held-out states']} held-out patient "
           f"states of {first['held_out_total']} with a contested alternative; exact expectations per state, "
           "mean [95% percentile-bootstrap CI over states]).  Debaters: MLP policies (sb3-contrib MaskablePPO) "
           "over which feature to reveal next, observing the state's 44 features, the revealed mask, both "
           "decisions and the reveal count (plus the judge's verdict one reveal ahead for each feature when "
           "trained with judge inputs), trained on the other patient states only: *isolated* (reveals all L for "
           "b(s) alone), *self-play* (against a frozen, periodically refreshed copy), *max-min* (argumentator "
           "and confuser trained in alternation, with a greedy debater mixed in as opponent), and, where the "
           "bundle has it, *distilled* (no PPO: fitted to the exact minimax reveals of the training states, "
           "`distill_minimax_debater`, with judge inputs); evaluated "
           "deterministically (most probable reveal).  The honest debater argues the clinician's most probable "
           "action b(s), the confuser one contested other action per state (seeded; against the other "
           "actions this judge sides with b(s) whatever is revealed, so accuracy there is 1 trivially).  "
           "'vs exact confuser': the exact best response to the debater's policy "
           "(mechsim.solvers.debate.best_response); 'vs learned confuser': the max-min confuser trained "
           "with it; 'exact minimax': both sides exact, the most any debater can guarantee.  "
           f"Debaters: {first['source']}; made by `{first.get('bundle_command')}` ({train_txt}; loadavg "
           f"{first.get('bundle_loadavg')}; torch {versions.get('torch')}, sb3-contrib "
           f"{versions.get('sb3-contrib')}).  The judge's accuracy on held-out clinician preferences with "
           f"random L-evidence is {first['judge_accuracy_random_preferences']:.3f} (paper, MIMIC: 0.65–0.67).",
           "", r.markdown_table(table)]
    by = {row["debater"]: row for row in table}
    if "maxmin" in by and "isolated" in by:
        mm, iso = raw["maxmin"]["vs_exact"], raw["isolated"]["vs_exact"]
        lo, hi = bootstrap_ci(mm - iso, seed=ROBUST_SEED + 7)
        out += ["", f"Against the exact confuser the max-min debater keeps {by['maxmin']['vs exact / minimax']} of "
                f"the exact-minimax accuracy (issue #16 target: at least 0.9) and beats the isolated debater by "
                f"{np.mean(mm - iso):.3f} [{lo:.3f}, {hi:.3f}] (paired over states); the isolated debater's "
                "evidence, convincing alone, collapses against a confuser, as in the paper."]
    if "distilled" in by:
        out += ["", f"The distilled argumentator keeps {by['distilled']['vs exact / minimax']} of the exact-minimax "
                "accuracy against the exact confuser on the same held-out states."]
    return out


SCENARIO = Scenario(
    name="justifiable-sepsis",
    description="lam sweep of debate-justified sepsis treatment on ICU-Sepsis: preference over baseline vs "
                "exact and WIS return, debate vs ideal judge",
    grid=grid,
    full_grid=full_grid,
    compute=compute,
    report=report,
)

if __name__ == "__main__":
    from mechsim.runner.cli import scenario_main

    scenario_main(SCENARIO)
