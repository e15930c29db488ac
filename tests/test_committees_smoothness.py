"""Constraint families, smoothness estimates, rankings needed, manipulation search, and the scenario."""

import csv
import itertools

import numpy as np
import pytest

from mechsim.committees import rules
from mechsim.committees.bias import SwapBias, swap_bias
from mechsim.committees.constraints import two_group_bounds
from mechsim.committees.manipulation import find_manipulation, manipulation_frequency
from mechsim.committees.rankings import random_groups, sample_rankings
from mechsim.committees.scores import committee_score, voter_scores
from mechsim.committees.smoothness import (
    constraint_family,
    estimate_smoothness,
    rankings_needed,
)
from mechsim.solvers.committee import best_committee


@pytest.mark.parametrize("rule", [rules.k_borda(), rules.sntv(), rules.borda_cc(), rules.harmonic_borda()],
                         ids=lambda r: r.name)
def test_constraint_family_matches_direct_solves(rule):
    latent = sample_rankings("mallows", 15, 10, seed=1, phi=0.6)
    groups = random_groups(10, seed=2)
    biased = swap_bias(latent, groups, 1, 0.5, seed=3)
    fam = constraint_family(latent, biased, groups, 1, 4, rule)
    assert fam.ls.tolist() == [0, 1, 2, 3, 4]
    opt = best_committee(latent, 4, rule).value
    assert fam.opt == pytest.approx(opt)
    for l, value in zip(fam.ls, fam.values):
        pick = best_committee(biased, 4, rule, groups, two_group_bounds(groups, 1, int(l), 4))
        # ties in the biased score may pick different committees: the biased scores must agree
        chosen_biased = max(committee_score(biased, c, rule) for c in itertools.combinations(range(10), 4)
                            if sum(groups[list(c)] == 1) == l)
        assert pick.value == pytest.approx(chosen_biased)
        assert value <= opt + 1e-9
    # enumerated/separable picks break ties consistently, so the best l is at least the unconstrained pick
    assert 0 < fam.best_ratio <= 1 + 1e-12 and fam.best_ratio >= fam.unconstrained_ratio - 1e-12
    assert fam.best_ratio == pytest.approx(fam.values.max() / opt)


def test_unbiased_profile_recovers_optimum():
    latent = sample_rankings("impartial", 20, 12, seed=4)
    groups = random_groups(12, seed=5)
    for rule in (rules.k_borda(), rules.borda_cc()):
        fam = constraint_family(latent, latent, groups, 1, 3, rule)
        assert fam.best_ratio == pytest.approx(1.0) and fam.unconstrained_ratio == pytest.approx(1.0)


def test_estimate_smoothness_shapes_and_sntv_vs_borda():
    borda = estimate_smoothness(rules.k_borda(), "impartial", SwapBias(0.5), 8, 10, 30, seed=0)
    sntv = estimate_smoothness(rules.sntv(), "impartial", SwapBias(0.5), 8, 10, 30, seed=0)
    assert borda.betas.shape == borda.gamma.shape == borda.gamma_se.shape == (10,)
    assert 0 < borda.alpha <= 1 and borda.alpha_se >= 0
    assert sntv.alpha < borda.alpha          # SNTV leaves low items with no points at all
    again = estimate_smoothness(rules.k_borda(), "impartial", SwapBias(0.5), 8, 10, 30, seed=0)
    assert again.alpha == borda.alpha


def test_rankings_needed_borda_vs_sntv():
    kw = dict(n_items=12, k=4, n_grid=(4, 16), draws=4, seed=1)
    borda = rankings_needed(rules.k_borda(), "norm_mallows", SwapBias(0.4), target=0.9, **kw)
    sntv = rankings_needed(rules.sntv(), "norm_mallows", SwapBias(0.4), target=0.9, **kw)
    assert borda.mean_ratio.shape == (2,) and np.all(borda.mean_ratio <= 1 + 1e-12)
    assert borda.n_needed is not None and borda.mean_ratio.mean() > sntv.mean_ratio.mean()


def test_manipulation_example_is_verified_by_recomputation():
    freq = manipulation_frequency("k-borda", n_voters=4, n_items=5, k=2, profiles=10, seed=0)
    assert freq.exhaustive and freq.example is not None and 0 < freq.frequency <= 1
    ex = freq.example
    assert ex.gain > 0 and ex.manipulated_score > ex.truthful_score
    assert sorted(ex.report.tolist()) == list(range(5))
    none = manipulation_frequency("sntv", n_voters=4, n_items=5, k=2, profiles=10, seed=0)
    assert none.frequency < freq.frequency


def test_find_manipulation_on_a_known_profile():
    truth = np.array([[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 0, 1], [3, 0, 1, 2], [0, 2, 1, 3]])
    found = find_manipulation(truth, 2, "k-borda")
    assert found is not None
    lied = truth.copy()
    lied[found.voter] = found.report
    honest = best_committee(truth, 2, "k-borda", method="brute-force")
    after = best_committee(lied, 2, "k-borda", method="brute-force")
    assert honest.members.tolist() == found.truthful_members.tolist()
    assert after.members.tolist() == found.manipulated_members.tolist()
    true_scores = voter_scores(truth, after.members, "k-borda"), voter_scores(truth, honest.members, "k-borda")
    assert true_scores[0][found.voter] > true_scores[1][found.voter]


def test_sntv_single_voter_cannot_manipulate():
    # a lone voter's truthful report already elects its top k
    assert find_manipulation(np.array([[2, 0, 1, 3]]), 2, "sntv") is None


@pytest.mark.slow
def test_quick_scenario_run(tmp_path):
    from mechsim.runner.run import run_scenario

    result = run_scenario("fair-selection", tmp_path, quick=True, seed=0, workers=2)
    assert (tmp_path / "summary.md").exists() and (tmp_path / "ratios_n25.png").exists()
    fam = [r for r in result.records if r["params"]["part"] == "family"]
    for rec in fam:
        borda = rec["result"]["rules"]["k-Borda"]
        assert borda["best_mean"][0] == pytest.approx(1.0)           # no bias: constraints lose nothing
        assert all(b >= u - 1e-9 for b, u in zip(borda["best_mean"], borda["unconstrained_mean"]))
    text = (tmp_path / "summary.md").read_text()
    assert "Manipulation" in text and "Smoothness" in text
    with open(tmp_path / "ratios.csv", newline="") as fh:
        cc = [row for row in csv.DictReader(fh) if row["rule"] == "Borda-CC"]
    assert len(cc) == 5 * 8                                        # 5 cultures x 8 fractions, pooled draws
    for row in cc:
        assert 0 < float(row["best_ratio"]) <= 1 + 1e-12
        if float(row["fraction"]) == 0:
            assert float(row["best_ratio"]) == pytest.approx(1.0)


def test_default_owa_draws_are_cells_of_the_full_grid():
    from mechsim.scenarios import fair_selection as fs

    full = fs.full_grid()
    owa_full = [c for c in full if c["part"] == "family-owa"]
    assert len(owa_full) == len(fs.CULTURES) * 3 * 40
    assert {(c["m"], c["k"]) for c in owa_full} == {(50, 10)} and {c["n"] for c in owa_full} == {25, 50, 100}
    default = fs.grid(False)
    assert all(c in full for c in default if c["part"] != "needed")   # a --full run reuses them
    assert {(c["m"], c["k"]) for c in default if c["part"] == "family-owa"} == {(50, 10)}


@pytest.mark.parametrize("rule", [rules.borda_cc(), rules.harmonic_borda()], ids=lambda r: r.name)
def test_ilp_family_derives_opt_and_unconstrained_pick_without_extra_solves(monkeypatch, rule):
    import mechsim.solvers.committee_family as family
    import mechsim.solvers.committee_smoothness as solver

    latent = sample_rankings("mallows", 30, 24, seed=6, phi=0.7)   # C(24, 8) committees: the ILP branch
    groups = random_groups(24, seed=7)
    biased = swap_bias(latent, groups, 1, 0.5, seed=8)
    k = 8
    calls = []
    real = solver.best_committee

    def counting(*args, **kwargs):
        calls.append(args[4] if len(args) > 4 else kwargs.get("bounds"))
        return real(*args, **kwargs)

    monkeypatch.setattr(solver, "best_committee", counting)
    monkeypatch.setattr(family, "best_committee", counting)
    unbiased = constraint_family(latent, latent, groups, 1, k, rule)
    assert len(calls) <= k + 1 and None not in calls          # at most one solve per l, none for OPT
    opt = real(latent, k, rule).value
    assert unbiased.opt == pytest.approx(opt) and unbiased.best_ratio == pytest.approx(1.0)
    assert unbiased.unconstrained_ratio == pytest.approx(1.0)

    calls.clear()
    fam = constraint_family(latent, biased, groups, 1, k, rule, latent_opt=opt)
    assert len(calls) <= k + 1 and None not in calls
    picks = [real(biased, k, rule, groups, two_group_bounds(groups, 1, int(l), k)) for l in fam.ls]
    seen = np.array([c.value for c in picks])
    assert seen.max() == pytest.approx(real(biased, k, rule).value)   # the best S_l is a biased optimum
    # the family's picks may be other committees with the same biased score: compare through them
    chosen = family.best_committee_family(biased, k, rule, groups,
                                          [two_group_bounds(groups, 1, int(l), k) for l in fam.ls])
    assert [c.value for c in chosen] == pytest.approx(seen.tolist())
    first_best = int(np.flatnonzero(seen >= seen.max() - 1e-9)[0])
    assert fam.unconstrained == pytest.approx(committee_score(latent, chosen[first_best].members, rule))

    calls.clear()
    constraint_family(latent, biased, groups, 1, k, rule, ls=[2, 4], latent_opt=opt)
    assert calls.count(None) == 1                              # a partial family needs its own solve
