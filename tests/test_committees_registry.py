"""The committee rule registry, the result vocabulary (``Committee.value``) and the package's lazy re-exports."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim.committees import rules
from mechsim.committees.rankings import sample_rankings
from mechsim.errors import InvalidInstanceError
from mechsim.solvers.committee import best_committee
from mechsim.testing import rankings_profiles
from mechsim.testing.committees import registered_rules

BUILT_IN = ["sntv", "<l>-bloc", "k-borda", "borda-cc", "<l>-cc", "<l>-pav", "harmonic-borda"]


def test_registry_lists_the_built_in_rules_with_one_line_descriptions():
    listed = rules.available_rules()
    assert list(listed)[:len(BUILT_IN)] == BUILT_IN
    for pattern, description in listed.items():
        assert description and "\n" not in description, pattern
    assert rules.RULES["k-borda"].aliases == ("borda",)
    with pytest.raises(TypeError):
        rules.RULES["x"] = rules.RULES["sntv"]  # read-only: add rules with register_rule


def test_every_registered_rule_builds_and_its_display_name_round_trips():
    for entry in rules.RULES.values():
        rule = rules.rule_from_name(entry.example)
        again = rules.rule_from_name(rule.name)          # "harmonic Borda", "10-Bloc", "Borda-CC", ...
        assert again.name == rule.name
        assert again.gamma(7).tolist() == rule.gamma(7).tolist()
        assert again.owa_vector(3).tolist() == rule.owa_vector(3).tolist()


def test_unknown_names_list_the_registry():
    with pytest.raises(InvalidInstanceError, match="rule: expected one of 'sntv', '<l>-bloc', 'k-borda' "
                                                   r"\(or 'borda'\)") as info:
        rules.rule_from_name("copeland")
    assert "'harmonic-borda'" in str(info.value) and "'copeland'" in str(info.value)
    for bad in ("bloc", "2-sntv", "borda-cc-2", ""):
        with pytest.raises(InvalidInstanceError, match="rule: expected one of"):
            rules.rule_from_name(bad)


@pytest.fixture
def user_rule():
    """Register "top-two-borda" (and the family "<l>-top-borda") for one test."""

    def top_two_borda():
        """Top-two Borda: the Borda scores of each voter's two best-placed members."""
        return rules.CommitteeScoringRule(rules.BordaVector(), lambda k: (np.arange(k) < 2).astype(float),
                                          name="top-two Borda")

    rules.register_rule("top-two-borda", top_two_borda, aliases=("top2",))

    @rules.register_rule("top-borda", parametrised=True, description="Borda scores of the l best members")
    def top_borda(l):
        return rules.CommitteeScoringRule(rules.BordaVector(), lambda k: (np.arange(k) < l).astype(float),
                                          name=f"top-{l} Borda")

    yield
    rules.unregister_rule("top-two-borda")
    rules.unregister_rule("top-borda")


def test_register_rule_makes_a_users_rule_available_everywhere(user_rule):
    listed = rules.available_rules()
    assert listed["top-two-borda"] == "Top-two Borda: the Borda scores of each voter's two best-placed members."
    assert listed["<l>-top-borda"] == "Borda scores of the l best members"
    assert rules.RULES["top-borda"].example == "2-top-borda"
    assert rules.rule_from_name("Top2").name == "top-two Borda"
    assert rules.rule_from_name("3-top-borda").owa_vector(4).tolist() == [1, 1, 1, 0]
    r = sample_rankings("impartial", 6, 6, seed=0)
    by_name = best_committee(r, 3, "top_two_borda", method="brute-force")
    direct = best_committee(r, 3, rules.rule_from_name("top-two-borda"), method="ilp")
    assert by_name.value == pytest.approx(direct.value) and by_name.rule == "top-two Borda"


def test_the_env_accepts_a_registered_rule(user_rule):
    import mechsim.envs.committee as committee_env

    env = committee_env.parallel_env(n_voters=3, n_items=5, k=2, rule="top-two-borda", groups=None)
    env.reset(seed=0)
    assert env.rule.name == "top-two Borda"


def test_register_rule_refuses_clashes_and_bad_entries(user_rule):
    with pytest.raises(InvalidInstanceError, match="'top-two-borda' is already registered"):
        rules.register_rule("top-two-borda", rules.k_borda, "again")
    with pytest.raises(InvalidInstanceError, match="'borda' is already registered"):
        rules.register_rule("my-borda", rules.k_borda, "clashing alias", aliases=("borda",))
    rules.register_rule("top-two-borda", rules.k_borda, "replaced", replace=True)
    assert rules.rule_from_name("top-two-borda").name == "k-Borda"
    assert "top2" not in rules.available_rules() and rules.available_rules()["top-two-borda"] == "replaced"
    with pytest.raises(InvalidInstanceError, match="rule: expected one of"):
        rules.rule_from_name("top2")                       # the replaced entry's alias went with it
    for name in ("2-bloc", "Bad Name!", "-x", "a--b"):
        with pytest.raises(InvalidInstanceError, match="name: expected letters"):
            rules.register_rule(name, rules.k_borda, "d")
    with pytest.raises(InvalidInstanceError, match="description: expected one non-empty line"):
        rules.register_rule("undocumented", lambda: rules.k_borda())
    with pytest.raises(InvalidInstanceError, match="constructor: expected a callable"):
        rules.register_rule("not-callable", 3, "d")
    rules.register_rule("broken", lambda: "not a rule", "returns a string")
    try:
        with pytest.raises(InvalidInstanceError, match="returned str, not a CommitteeScoringRule"):
            rules.rule_from_name("broken")
    finally:
        rules.unregister_rule("broken")
    with pytest.raises(InvalidInstanceError, match="no registered rule"):
        rules.unregister_rule("broken")


@settings(max_examples=20)
@given(rankings=rankings_profiles(max_voters=5, max_items=6), rule=registered_rules(), data=st.data())
def test_every_registered_rule_is_solved_exactly(rankings, rule, data):
    k = data.draw(st.integers(1, rankings.shape[1]))
    exact = best_committee(rankings, k, rule, method="brute-force")
    assert best_committee(rankings, k, rule, method="ilp").value == pytest.approx(exact.value, abs=1e-9)
    assert best_committee(rankings, k, rule.name).value == pytest.approx(exact.value, abs=1e-9)


def test_committee_value_and_deprecated_score_alias():
    c = best_committee(sample_rankings("impartial", 5, 6, seed=1), 2, "borda-cc", method="ilp")
    assert c.status == "optimal" and c.solve_time > 0 and "value=" in repr(c)
    with pytest.warns(DeprecationWarning, match="Committee.score is deprecated; use Committee.value"):
        assert c.score == c.value
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert c.value == best_committee(sample_rankings("impartial", 5, 6, seed=1), 2, "borda-cc").value


def test_package_offers_the_solver_analyses_lazily():
    import mechsim.committees as committees
    import mechsim.committees.smoothness as smoothness
    import mechsim.solvers.committee_smoothness as solver_smoothness

    for name in ("constraint_family", "rankings_needed", "ConstraintFamily", "RankingsNeeded"):
        assert getattr(committees, name) is getattr(solver_smoothness, name)
        assert getattr(smoothness, name) is getattr(solver_smoothness, name)
        assert name in committees.__all__ and name in dir(committees)
    for name in committees.__all__:
        assert getattr(committees, name) is not None
    with pytest.raises(AttributeError, match="no attribute"):
        committees.does_not_exist  # noqa: B018 - the attribute lookup is the test


def test_importing_the_domain_imports_no_solver():
    code = ("import sys, mechsim.committees, mechsim.committees.smoothness, mechsim.committees.manipulation; "
            "print(sorted(m for m in sys.modules if m.startswith('mechsim.solvers') or m == 'highspy'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
