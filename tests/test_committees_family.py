"""best_committee_family: one warm-started relaxation for a family of group bounds."""

import numpy as np
import pytest

from mechsim.committees import rules
from mechsim.committees.bias import swap_bias
from mechsim.committees.rankings import random_groups, sample_rankings
from mechsim.committees.rules import CommitteeScoringRule
from mechsim.errors import InfeasibleError, InvalidInstanceError
from mechsim.solvers.committee import best_committee
from mechsim.solvers.committee_family import best_committee_family


def exactly(groups, l, k):
    return {1: (l, l), 0: (k - l, k - l)}


OWA_RULES = [rules.harmonic_borda(), rules.approval_pav(6),
             CommitteeScoringRule(lambda m: np.sqrt(np.arange(m, 0, -1) - 1.0),
                                  lambda k: 1.0 / np.arange(1, k + 1) ** 2, name="sqrt-Borda OWA 1/j^2")]


@pytest.mark.parametrize("rule", OWA_RULES + [rules.borda_cc()], ids=lambda r: r.name)
@pytest.mark.parametrize("culture,params", [("mallows", {"phi": 0.6}), ("impartial", {})])
def test_family_scores_equal_separate_exact_solves(rule, culture, params):
    m, k = 24, 8                                   # C(24, 8) committees: past the enumeration threshold
    latent = sample_rankings(culture, 20, m, seed=3, **params)
    groups = random_groups(m, seed=4)
    biased = swap_bias(latent, groups, 1, 0.4, seed=5)
    bounds_list = [exactly(groups, l, k) for l in range(k + 1)] + [None, {1: (2, 5)}]
    family = best_committee_family(biased, k, rule, groups, bounds_list)
    assert len(family) == len(bounds_list)
    for c, b in zip(family, bounds_list):
        direct = best_committee(biased, k, rule, groups, b)
        assert c.value == pytest.approx(direct.value, rel=1e-9, abs=1e-7)
        assert c.members.size == k and c.status == "optimal"
        if b is not None:
            for label, (lo, hi) in b.items():
                assert lo <= c.group_counts[label] <= hi


def test_relaxation_certifies_agreeing_profiles_and_matches_brute_force():
    m, k = 24, 8
    latent = sample_rankings("mallows", 8, m, seed=11, phi=0.5)
    groups = random_groups(m, seed=12)
    bounds_list = [exactly(groups, l, k) for l in (2, 4, 6)]
    family = best_committee_family(latent, k, rules.harmonic_borda(), groups, bounds_list)
    assert any(c.method == "lp" for c in family)   # the warm-started relaxation settled some bounds
    for c, b in zip(family, bounds_list):
        oracle = best_committee(latent, k, rules.harmonic_borda(), groups, b, method="brute-force")
        assert c.value == pytest.approx(oracle.value, rel=1e-12)


def test_every_bound_is_checked_before_solving(monkeypatch):
    import mechsim.solvers.committee_family as family

    def no_solve(*args, **kwargs):
        raise AssertionError("solved before checking every bound")

    monkeypatch.setattr(family, "best_committee", no_solve)
    monkeypatch.setattr(family, "_highs_model", no_solve)
    r = sample_rankings("impartial", 10, 24, seed=0)
    groups = random_groups(24, seed=0)
    with pytest.raises(InfeasibleError, match="lower bound is 13"):
        best_committee_family(r, 8, rules.harmonic_borda(), groups, [exactly(groups, 2, 8), {1: (13, 13)}])


def test_bad_arguments_name_themselves():
    r = sample_rankings("impartial", 10, 24, seed=0)
    groups = random_groups(24, seed=0)
    with pytest.raises(InvalidInstanceError, match="groups"):
        best_committee_family(r, 8, rules.harmonic_borda(), None, [None])
    with pytest.raises(InvalidInstanceError, match="bounds_list"):
        best_committee_family(r, 8, rules.harmonic_borda(), groups, {1: (2, 2)})
