"""Tests of the ICU-Sepsis backbone (mechsim.debate.icu_sepsis)."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mechsim import tabular_mdp
from mechsim.debate import icu_sepsis as icu
from mechsim.errors import InvalidInstanceError, MechsimError, SolverError


@pytest.fixture(scope="module")
def mdp():
    return icu.load_icu_sepsis()


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Dense 713 x 713 solves are much faster on one BLAS thread when other processes share the cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_shapes_and_stochastic_rows(mdp):
    assert mdp.tx_mat.shape == (716, 25, 716)
    assert mdp.r_mat.shape == (716, 25, 716)
    assert mdp.d_0.shape == (716,)
    assert mdp.expert_policy.shape == (716, 25)
    assert mdp.state_cluster_centers.shape == (716, 47)
    assert mdp.sofa.shape == (716,)
    np.testing.assert_allclose(mdp.tx_mat.sum(axis=2), 1.0, atol=1e-9)
    np.testing.assert_allclose(mdp.expert_policy[:713].sum(axis=1), 1.0, atol=1e-9)
    assert np.all(mdp.expert_policy[713:] == 0)
    assert mdp.d_0[713:].sum() == 0 and abs(mdp.d_0.sum() - 1) < 1e-9
    # death and survival move to the absorbing state; survival is the only rewarded arrival
    for s in (icu.STATE_DEATH, icu.STATE_SURVIVAL, icu.STATE_ABSORBING):
        assert np.all(mdp.tx_mat[s, :, icu.STATE_ABSORBING] == 1.0)
    rewarded = np.unique(np.nonzero(mdp.r_mat)[2])
    assert rewarded.tolist() == [icu.STATE_SURVIVAL]
    assert mdp.admissible.shape == (716, 25) and mdp.admissible[:713].any(axis=1).all()
    assert not mdp.tx_mat.flags.writeable


def test_feature_list(mdp):
    assert len(icu.SEPSIS_COLUMNS) == 47
    assert len(icu.SEPSIS_FEATURES) == 44
    for dropped in ("max_dose_vaso", "re_admission", "input_4hourly"):
        assert dropped not in icu.SEPSIS_FEATURES
    assert mdp.features.shape == (716, 44)
    # the SOFA column of the centroids tracks the package's SOFA score (and no other column does)
    sofa_col = mdp.features[:713, icu.SEPSIS_FEATURES.index("SOFA")]
    assert np.corrcoef(sofa_col, mdp.sofa[:713])[0, 1] > 0.99
    others = [abs(np.corrcoef(mdp.features[:713, j], mdp.sofa[:713])[0, 1]) for j in range(44)
              if icu.SEPSIS_FEATURES[j] != "SOFA"]
    assert max(others) < 0.7


def test_published_returns(mdp):
    # Choudhary et al. 2024: random 0.78, expert 0.78, optimal 0.88
    assert icu.evaluate_policy(mdp, icu.uniform_policy()).expected_return == pytest.approx(0.78, abs=0.005)
    assert icu.evaluate_policy(mdp, mdp.expert_policy).expected_return == pytest.approx(0.78, abs=0.005)
    opt = icu.policy_iteration(mdp)
    assert opt.expected_return == pytest.approx(0.88, abs=0.006)


def test_values_of_the_pre_core_implementation(mdp):
    """Numbers computed by this module before its maths moved to mechsim.tabular_mdp (pinned at 1e-12)."""
    assert icu.evaluate_policy(mdp, icu.uniform_policy()).expected_return == pytest.approx(0.7800709046121405,
                                                                                          rel=1e-12)
    assert icu.evaluate_policy(mdp, mdp.expert_policy).expected_return == pytest.approx(0.7818448902556911,
                                                                                       rel=1e-12)
    pi = icu.policy_iteration(mdp)
    assert pi.expected_return == pytest.approx(0.8751416996099325, rel=1e-12) and pi.n_iterations == 5
    assert icu.value_iteration(mdp, tol=1e-12).expected_return == pytest.approx(0.8751416996086389, rel=1e-12)
    assert icu.state_occupancy(mdp, mdp.clinician_policy()).sum() == pytest.approx(9.237949704827345, rel=1e-12)


def test_exact_evaluation_is_a_dense_solve_on_the_patient_states(mdp):
    """Oracle: the chain built densely from ``tx_mat`` and the transient system solved with numpy."""
    pi = mdp.clinician_policy()
    p_pi = np.einsum("sa,sat->st", pi, mdp.tx_mat)
    live = ~mdp.terminal
    r_pi = (pi * np.einsum("sat,sat->sa", mdp.tx_mat, mdp.r_mat)).sum(axis=1)
    v = np.zeros(716)
    v[live] = np.linalg.solve(np.eye(713) - p_pi[np.ix_(live, live)], r_pi[live])
    ev = icu.evaluate_policy(mdp, pi)
    assert isinstance(ev, tabular_mdp.PolicyEvaluation) and ev.values is ev.state_values
    np.testing.assert_allclose(ev.values, v, rtol=1e-12, atol=1e-14)
    assert ev.expected_return == ev.value == pytest.approx(mdp.d_0 @ v, rel=1e-12)
    np.testing.assert_allclose(ev.q_values[live], (mdp.reward + np.einsum("sat,t->sa", mdp.tx_mat, v))[live],
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mdp.policy_transition(pi), p_pi, atol=1e-14)
    opt = icu.policy_iteration(mdp)
    assert isinstance(opt, tabular_mdp.PlanningResult) and opt.values is opt.state_values
    assert opt.expected_return == opt.value


def test_exact_evaluation_agrees_with_finite_horizon_and_monte_carlo(mdp):
    pi = mdp.clinician_policy()
    exact = icu.evaluate_policy(mdp, pi)
    finite = icu.evaluate_policy(mdp, pi, horizon=300)
    assert finite.expected_return == pytest.approx(exact.expected_return, abs=1e-10)
    traj = icu.sample_trajectories(mdp, pi, 8000, seed=1)
    mc = traj.returns().mean()
    se = traj.returns().std() / np.sqrt(8000)
    assert abs(mc - exact.expected_return) < 4 * se
    # occupancy sums to the expected episode length
    occ = icu.state_occupancy(mdp, pi)
    assert occ.sum() == pytest.approx(traj.lengths.mean(), rel=0.03)


def test_value_iteration_matches_policy_iteration(mdp):
    vi = icu.value_iteration(mdp, tol=1e-12)
    pi = icu.policy_iteration(mdp)
    np.testing.assert_allclose(vi.values, pi.values, atol=1e-8)
    # each greedy policy attains the optimum when evaluated exactly
    assert icu.evaluate_policy(mdp, vi.policy).expected_return == pytest.approx(pi.expected_return, abs=1e-8)
    # Bellman optimality: no single-state deviation improves
    q = icu.evaluate_policy(mdp, pi.policy).q_values
    assert np.all(q.max(axis=1)[:713] <= pi.values[:713] + 1e-9)


def test_discounted_custom_reward_and_actions_mask(mdp):
    rng = np.random.default_rng(0)
    reward = rng.random((716, 25))
    vi = icu.value_iteration(mdp, gamma=0.9, reward=reward, tol=1e-12)
    pi = icu.policy_iteration(mdp, gamma=0.9, reward=reward)
    np.testing.assert_allclose(vi.values, pi.values, atol=1e-8)
    mask = mdp.admissible
    restricted = icu.policy_iteration(mdp, actions_mask=mask)
    assert np.all(mask[np.arange(713), restricted.policy[:713]])
    assert restricted.expected_return <= 0.8751416996 + 1e-9


def test_improper_policy_raises():
    # three patient states; action 0 self-loops forever, action 1 goes to survival
    n, a = 6, 2
    tx = np.zeros((n, a, n))
    tx[np.arange(3), 0, np.arange(3)] = 1.0
    tx[:3, 1, 4] = 1.0
    tx[3:, :, 5] = 1.0
    r = np.zeros_like(tx)
    r[:3, 1, 4] = 1.0
    centers = np.zeros((n, 47))
    small = icu.SepsisMDP(tx, r, np.array([0.5, 0.5, 0, 0, 0, 0]), np.full((n, a), 0.5), centers, np.zeros(n),
                          np.ones((n, a), dtype=bool))
    with pytest.raises(SolverError):
        icu.evaluate_policy(small, np.zeros(n, dtype=int))
    assert icu.evaluate_policy(small, np.zeros(n, dtype=int), gamma=0.5).expected_return == 0.0
    assert icu.evaluate_policy(small, np.ones(n, dtype=int)).expected_return == 1.0
    # half the time the loop, half the time survival: survival with probability 1 eventually
    assert icu.evaluate_policy(small, np.full((n, a), 0.5)).expected_return == pytest.approx(1.0)
    assert icu.policy_iteration(small, initial_policy=np.ones(n, dtype=int)).expected_return == 1.0
    assert icu.value_iteration(small, gamma=0.99).policy[:3].tolist() == [1, 1, 1]


def test_wis_matches_exact_when_target_equals_behaviour_and_is_consistent(mdp):
    behaviour = mdp.clinician_policy()
    traj = icu.sample_trajectories(mdp, behaviour, 4000, seed=3)
    same = icu.wis_estimate(traj, behaviour, behaviour)
    assert same.value == pytest.approx(traj.returns().mean())
    assert same.effective_sample_size == pytest.approx(4000)
    # a target halfway to the optimal policy: WIS is within a few standard errors (var(G) / ESS) of the exact value
    opt = icu.policy_iteration(mdp).policy
    target = 0.7 * behaviour + 0.3 * icu.as_policy_matrix(opt)
    exact = icu.evaluate_policy(mdp, target).expected_return
    big = icu.sample_trajectories(mdp, behaviour, 8000, seed=4)
    est = icu.wis_estimate(big, target, behaviour)
    assert est.n_nonzero == 8000 and 1 < est.effective_sample_size < 8000
    assert abs(est.value - exact) < 4 * 0.5 / np.sqrt(est.effective_sample_size)
    assert abs(est.value - exact) < 0.05
    bc = icu.behaviour_cloning(big)
    np.testing.assert_allclose(bc.sum(axis=1), 1.0)
    with pytest.raises(MechsimError, match="behaviour_policy"):
        icu.wis_estimate(traj, behaviour, np.eye(25)[np.full(716, 24)])


def test_sampling_is_seeded(mdp):
    a = icu.sample_trajectories(mdp, mdp.expert_policy, 50, seed=7)
    b = icu.sample_trajectories(mdp, mdp.expert_policy, 50, seed=7)
    np.testing.assert_array_equal(a.states, b.states)
    np.testing.assert_array_equal(a.actions, b.actions)
    assert np.all(np.isin(a.states[np.arange(50), a.lengths], [icu.STATE_DEATH, icu.STATE_SURVIVAL]))
    x1 = icu.noisy_features(mdp, [0, 1, 2], 0.3, seed=1)
    x2 = icu.noisy_features(mdp, [0, 1, 2], 0.3, seed=1)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(icu.noisy_features(mdp, [5], 0.0), mdp.features[[5]])


@given(st.integers(0, 4), st.integers(0, 4))
def test_action_coding_round_trip(iv, vaso):
    a = icu.action_index(iv, vaso)
    assert a == 5 * iv + vaso
    assert icu.action_levels(a) == (iv, vaso)


def test_bad_input_messages(mdp):
    with pytest.raises(MechsimError, match="iv"):
        icu.action_index(5, 0)
    with pytest.raises(MechsimError, match="policy"):
        icu.evaluate_policy(mdp, np.ones((716, 24)))
    with pytest.raises(ValueError, match="gamma"):
        icu.evaluate_policy(mdp, mdp.expert_policy, gamma=1.5)
    with pytest.raises(ValueError, match="tx_mat"):
        icu.SepsisMDP(mdp.tx_mat * 0.5, mdp.r_mat, mdp.d_0, mdp.expert_policy, mdp.state_cluster_centers,
                      mdp.sofa, mdp.admissible)


def test_data_ship_with_mechsim_without_the_icu_sepsis_package(monkeypatch, tmp_path):
    """Issue 12: the data are read without the icu-sepsis package (nor its gym/pandas/scikit-learn tree)."""
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "icu_sepsis" else real(name, *a))
    assert icu.icu_sepsis_assets_dir() == icu.DATA_DIR
    assert icu.DATA_DIR.is_relative_to(Path(icu.__file__).parent)
    icu._load_cached.cache_clear()
    assert icu.load_icu_sepsis().n_states == icu.N_STATES
    with pytest.raises(icu.IcuSepsisUnavailableError, match="dynamics.npz"):
        icu.load_icu_sepsis(tmp_path)
    with pytest.raises(InvalidInstanceError, match="assets_dir"):
        icu.load_icu_sepsis(3.0)


def test_shipped_files_are_the_published_ones():
    for name, digest in icu.DATA_SHA256.items():
        assert hashlib.sha256((icu.DATA_DIR / name).read_bytes()).hexdigest() == digest
    assert "Choudhary" in (icu.DATA_DIR / "LICENSE.txt").read_text()
    assert "RLC" in (icu.DATA_DIR / "README.md").read_text()
    spec = importlib.util.find_spec("icu_sepsis")
    if spec is None:
        pytest.skip("the icu-sepsis package is not installed (nothing to compare with)")
    assets = Path(next(iter(spec.submodule_search_locations))) / "envs" / "assets"
    for name in icu.DATA_SHA256:
        assert (icu.DATA_DIR / name).read_bytes() == (assets / name).read_bytes(), name
    # Another folder (here the package's own) is read the same way.
    other = icu.load_icu_sepsis(assets)
    assert np.array_equal(other.tx_mat, icu.load_icu_sepsis().tx_mat)


def test_damaged_shipped_copy_is_refused(monkeypatch, tmp_path):
    for name in (*icu.DATA_SHA256, "LICENSE.txt"):
        (tmp_path / name).write_bytes((icu.DATA_DIR / name).read_bytes())
    with open(tmp_path / "metadata.json", "a") as f:
        f.write(" ")
    monkeypatch.setattr(icu, "DATA_DIR", tmp_path)
    icu._load_cached.cache_clear()
    try:
        with pytest.raises(icu.IcuSepsisUnavailableError, match="metadata.json: expected the shipped"):
            icu.load_icu_sepsis()
    finally:
        icu._load_cached.cache_clear()


def test_clinician_preferences_and_judge(mdp):
    data = icu.clinician_preferences(mdp, 200, seed=0)
    assert data.features.shape[1] == 44
    assert np.all(data.winners != data.losers)
    # winners are clinician actions with positive expert probability in the logged state
    assert np.all(mdp.expert_policy[data.states, data.winners] > 0)
    judge = icu.train_sepsis_judge(mdp, 2, n_episodes=300, epochs=3, seed=0)
    test = icu.clinician_preferences(mdp, 300, seed=1)
    # learns the preference well above chance
    assert judge.accuracy(*test.as_tuple(), seed=2) > 0.7


def test_packaging_ships_the_data_and_not_the_package():
    """Issue 12: the core install no longer depends on icu-sepsis (gym 0.26, pandas, scikit-learn)."""
    import configparser

    root = Path(__file__).resolve().parents[1]
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    requires = config["options"]["install_requires"]
    assert "icu-sepsis" not in requires and "icu_sepsis" not in requires
    assert "data/icu_sepsis/*" in config["options.package_data"]["mechsim.debate"]
    shipped = {p.name for p in (root / "mechsim" / "debate" / "data" / "icu_sepsis").iterdir()}
    assert {*icu.DATA_SHA256, "LICENSE.txt", "README.md", "readme.txt"} <= shipped
