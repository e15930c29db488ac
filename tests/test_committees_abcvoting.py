"""Cross-check against abcvoting: an ordinal OWA rule is a weighted Thiele rule on the expanded profile.

Each ranking ``v`` (weight ``w``) becomes the approval ballots ``top_{p+1}(v)`` with weight
``w * delta_p`` (``delta_p = gamma(p) - gamma(p+1)``); AV gives k-Borda, CC gives Borda-CC, PAV gives
harmonic Borda, and only the top-``l`` prefix gives l-Bloc, l-CC, l-PAV.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim.committees import rules
from mechsim.committees.scores import committee_score
from mechsim.solvers.committee import best_committee
from mechsim.testing import rankings_profiles

abcrules = pytest.importorskip("abcvoting.abcrules")
abc_scores = pytest.importorskip("abcvoting.scores")
Profile = pytest.importorskip("abcvoting.preferences").Profile
Voter = pytest.importorskip("abcvoting.preferences").Voter

PAIRS = [  # (our rule, abcvoting Thiele id, prefix length l or None for Borda)
    (rules.k_borda(), "av", None), (rules.borda_cc(), "cc", None), (rules.harmonic_borda(), "pav", None),
    (rules.bloc(2), "av", 2), (rules.approval_cc(2), "cc", 2), (rules.approval_pav(3), "pav", 3),
]


def expanded_profile(rankings, l):
    n, m = rankings.shape
    profile = Profile(m)
    for v in range(n):
        if l is None:  # Borda: delta_p = 1 for every prefix p = 0..m-2
            for p in range(m - 1):
                profile.add_voter(Voter(rankings[v, : p + 1].tolist(), weight=1))
        else:
            profile.add_voter(Voter(rankings[v, :l].tolist(), weight=1))
    return profile


@pytest.mark.parametrize("rule, thiele, l", PAIRS, ids=[p[0].name for p in PAIRS])
@settings(max_examples=10)
@given(rankings=rankings_profiles(max_voters=5, min_items=3, max_items=6), data=st.data())
def test_scores_equal_weighted_thiele_scores(rule, thiele, l, rankings, data):
    m = rankings.shape[1]
    k = data.draw(st.integers(1, m))
    members = sorted(data.draw(st.permutations(list(range(m))))[:k])
    profile = expanded_profile(rankings, l)
    ours = committee_score(rankings, members, rule)
    theirs = float(abc_scores.thiele_score(thiele, profile, members))
    assert ours == pytest.approx(theirs)


@pytest.mark.parametrize("rule, thiele, l", PAIRS, ids=[p[0].name for p in PAIRS])
def test_optimum_equals_abcvoting_ilp(rule, thiele, l):
    rng = np.random.default_rng(7)
    for _ in range(3):
        rankings = np.array([rng.permutation(7) for _ in range(6)])
        k = 3
        profile = expanded_profile(rankings, l)
        committees = abcrules.compute(thiele, profile, k, resolute=True,
                                      algorithm="standard" if thiele == "av" else "pulp-highs")
        theirs = float(abc_scores.thiele_score(thiele, profile, sorted(committees[0])))
        ours = best_committee(rankings, k, rule, method="ilp")
        assert ours.value == pytest.approx(theirs)
        assert committee_score(rankings, sorted(committees[0]), rule) == pytest.approx(theirs)
