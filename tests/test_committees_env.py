"""mechsim/Committee-v0 against the official PettingZoo checkers, and its mechanics.

``max_cycles_test``, ``render_test`` and the registry-wide checks run in tests/test_env_contract.py.
"""

import numpy as np
import pettingzoo
import pytest
from pettingzoo.test import (
    api_test,
    parallel_api_test,
    parallel_seed_test,
    seed_test,
)

import mechsim  # noqa: F401  (registers the environments)
import mechsim.envs.committee as committee_env
from mechsim.committees.manipulation import find_manipulation
from mechsim.committees.scores import voter_scores
from mechsim.solvers.committee import best_committee

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_parallel_api():
    parallel_api_test(committee_env.parallel_env(max_cycles=3), num_cycles=50)


def test_aec_api():
    api_test(committee_env.env(max_cycles=3), num_cycles=50)


def test_seeding():
    seed_test(committee_env.env, num_cycles=10)
    parallel_seed_test(committee_env.parallel_env, num_cycles=10)


def test_registry_and_render():
    par = pettingzoo.make("parallel", "mechsim/Committee-v0", rule="harmonic-borda", render_mode="ansi")
    par.reset(seed=0)
    assert "committee none yet" in par.render()
    aec = pettingzoo.make("aec", "mechsim/Committee-v0")
    aec.reset(seed=0)
    assert aec.agent_selection == "voter_0"


def test_truthful_round_selects_best_committee_and_pays_true_scores():
    env = committee_env.parallel_env(n_voters=4, n_items=6, k=3, rule="borda-cc")
    obs, _ = env.reset(seed=5)
    truth = env.true_rankings
    assert np.array_equal(obs["voter_0"][:6], np.argsort(truth[0]))
    actions = {a: env.truthful_action(a) for a in env.agents}
    obs, rewards, terms, truncs, infos = env.step(actions)
    expected = best_committee(truth, 3, "borda-cc", groups=env.groups, bounds={1: (1, None)})
    assert infos["voter_0"]["committee"].tolist() == expected.members.tolist()
    assert [rewards[f"voter_{i}"] for i in range(4)] == pytest.approx(
        voter_scores(truth, expected.members, "borda-cc").tolist())
    assert all(terms.values()) and not env.agents
    assert obs["voter_0"][6:][expected.members].tolist() == [1, 1, 1]


def test_manipulation_found_by_search_pays_in_the_env():
    # find a profile where a voter gains by misreporting, then play that misreport in the environment
    for seed in range(40):
        env = committee_env.parallel_env(n_voters=5, n_items=5, k=2, rule="k-borda", groups=None)
        env.reset(seed=seed)
        truth = env.true_rankings
        found = find_manipulation(truth, 2, "k-borda")
        if found is None:
            continue
        actions = {a: env.truthful_action(a) for a in env.agents}
        _, honest, *_ = env.step(actions)
        env.reset(seed=seed)
        m = truth.shape[1]
        lie = np.empty(m, dtype=np.float32)
        lie[found.report] = np.linspace(1, -1, m)
        actions[f"voter_{found.voter}"] = lie
        _, rewards, _, _, infos = env.step(actions)
        assert infos["voter_0"]["report"].tolist() == truth[0].tolist() or found.voter == 0
        assert rewards[f"voter_{found.voter}"] == pytest.approx(found.manipulated_score)
        assert rewards[f"voter_{found.voter}"] > honest[f"voter_{found.voter}"]
        return
    pytest.fail("no manipulable k-Borda profile among 40 seeds")


def test_bad_configuration_and_actions():
    with pytest.raises(ValueError, match="k: expected an integer <= 4"):
        committee_env.parallel_env(n_items=4, k=5)
    env = committee_env.parallel_env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="finite scores"):
        env.step({"voter_0": np.array([np.nan] * 6)})
