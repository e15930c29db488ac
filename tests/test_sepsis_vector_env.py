"""Tests of the native justifiable-sepsis vector env (mechsim.envs.sepsis_vector).

Oracles: the single env (its inverse-CDF transition sampler on the full row, its debate rewards, its episode
distribution, statistically with fixed seeds), the MDP's transition matrix (chi-square), and Gymnasium's
next-step autoreset convention as ``SyncVectorEnv`` implements it.
"""

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from gymnasium.vector.utils import batch_space
from scipy import stats

import mechsim  # noqa: F401  (registers the environments)
from mechsim.debate.icu_sepsis import N_PATIENT_STATES, baseline_actions, load_icu_sepsis
from mechsim.debate.judges import BradleyTerryJudge
from mechsim.envs.justifiable_sepsis import NOISE_BOUND, JustifiableSepsisEnv
from mechsim.envs.sepsis_vector import (
    JustifiableSepsisVectorEnv,
    _inverse_cdf,
    _inverse_cdf_of_rows,
    _transition_tables,
)
from mechsim.errors import InvalidInstanceError


@pytest.fixture(scope="module")
def mdp():
    return load_icu_sepsis()


@pytest.fixture(scope="module")
def judge():
    """A cheap random MLP judge (untrained: the tests need a judge, not a good one)."""
    return BradleyTerryJudge(44, 25, n_evidence=2, hidden=(8,), seed=3)


def test_spaces_metadata_and_shapes(judge):
    envs = JustifiableSepsisVectorEnv(5, judge=judge)
    single = JustifiableSepsisEnv(judge=judge)
    assert isinstance(envs, gymnasium.vector.VectorEnv)
    assert envs.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    assert envs.single_observation_space == single.observation_space
    assert envs.single_action_space == single.action_space
    assert envs.observation_space == batch_space(single.observation_space, 5)
    assert envs.action_space == batch_space(single.action_space, 5)
    obs, info = envs.reset(seed=0)
    sync = SyncVectorEnv([lambda: JustifiableSepsisEnv(judge=judge) for _ in range(5)])
    sync_obs, sync_info = sync.reset(seed=0)
    assert obs.dtype == sync_obs.dtype and obs.shape == sync_obs.shape and envs.observation_space.contains(obs)
    actions = envs.action_space.sample()
    for a, b in zip((info, envs.step(actions)[4]), (sync_info, sync.step(actions)[4])):
        assert a.keys() == b.keys()
        for key in a:
            assert a[key].dtype == b[key].dtype and a[key].shape == b[key].shape, key


def test_sampler_is_the_single_envs_inverse_cdf(mdp):
    """The compressed tables pick, for every uniform, the next state np.searchsorted picks on the full cumsum."""
    cdf, nxt, totals = _transition_tables(mdp.tx_mat)
    rng = np.random.default_rng(0)
    s, a = rng.integers(mdp.n_states, size=4000), rng.integers(mdp.n_actions, size=4000)
    u = rng.random(4000)
    u[:50] = 0.0
    u[50:100] = 1.0  # the very top: the single env clamps to the last state
    rows = s * mdp.n_actions + a
    x = u * totals[rows]
    got = nxt[rows, _inverse_cdf_of_rows(cdf, rows, x)]
    np.testing.assert_array_equal(_inverse_cdf_of_rows(cdf, rows, x), _inverse_cdf(cdf[rows], x))
    for i in range(4000):
        c = np.cumsum(mdp.tx_mat[s[i], a[i]])
        assert c[-1] == totals[rows[i]]
        ref = min(np.searchsorted(c, u[i] * c[-1], side="right"), mdp.n_states - 1)
        assert got[i] == ref, i


@pytest.mark.parametrize("state, action", [(5, 0), (300, 12)])
def test_transitions_follow_the_mdp(judge, mdp, state, action):
    """Chi-square test of the next states of 6000 sub-envs started in one state, against P(. | s, a)."""
    n = 6000
    envs = JustifiableSepsisVectorEnv(n, judge=judge)
    envs.reset(seed=1, options={"state": state})
    _, _, _, _, info = envs.step(np.full(n, action))
    p = mdp.tx_mat[state, action]
    support = np.flatnonzero(p > 0)
    assert np.all(p[info["state"]] > 0)
    counts = np.bincount(info["state"], minlength=mdp.n_states)[support]
    expected = n * p[support] / p.sum()
    big = expected >= 5  # pool the rare next states into one cell
    f_obs = np.r_[counts[big], counts[~big].sum()]
    f_exp = np.r_[expected[big], expected[~big].sum()]
    keep = f_exp > 0
    assert stats.chisquare(f_obs[keep], f_exp[keep]).pvalue > 1e-3


def test_initial_states_follow_d0(judge, mdp):
    """Chi-square test of 20000 reset states against the initial distribution d_0 (and every reset state is a
    patient state)."""
    n = 20_000
    envs = JustifiableSepsisVectorEnv(n, judge=judge)
    _, info = envs.reset(seed=3)
    d0 = mdp.d_0 / mdp.d_0.sum()
    assert np.all(info["state"] < N_PATIENT_STATES) and np.all(d0[info["state"]] > 0)
    counts = np.bincount(info["state"], minlength=mdp.n_states)
    expected = n * d0
    big = expected >= 5
    f_obs = np.r_[counts[big], counts[~big].sum()]
    f_exp = np.r_[expected[big], expected[~big].sum()]
    keep = f_exp > 0
    assert stats.chisquare(f_obs[keep], f_exp[keep]).pvalue > 1e-3


def test_rewards_infos_and_observations(judge, mdp):
    lam = 0.3
    envs = JustifiableSepsisVectorEnv(64, judge=judge, lam=lam, debate_reward="value", debate_scale=2.0)
    single = JustifiableSepsisEnv(judge=judge, lam=lam, debate_reward="value", debate_scale=2.0)
    base = baseline_actions(mdp)
    obs, info = envs.reset(seed=2)
    np.testing.assert_array_equal(info["baseline_action"], -1)
    rng = np.random.default_rng(0)
    pending = np.zeros(64, dtype=bool)
    residuals = []
    for _ in range(40):
        state = info["state"].copy()
        actions = rng.integers(25, size=64)
        obs, reward, terminated, truncated, info = envs.step(actions)
        live = ~pending
        s, a, nxt = state[live], actions[live], info["state"][live]
        np.testing.assert_array_equal(info["baseline_action"][live], base[s])
        np.testing.assert_array_equal(info["r_env"][live], mdp.r_mat[s, a, nxt])
        expected_debate = [single.debate_reward_of(int(si), int(ai), int(base[si])) for si, ai in zip(s, a)]
        np.testing.assert_array_equal(info["r_debate"][live], expected_debate)
        values = [0.5 * sum(single.debate_values(int(si), int(ai), int(base[si]))) for si, ai in zip(s, a)]
        np.testing.assert_array_equal(info["debate_value"][live], values)
        np.testing.assert_array_equal(reward[live], (1 - lam) * info["r_env"][live] + lam * info["r_debate"][live])
        np.testing.assert_array_equal(terminated, info["state"] >= N_PATIENT_STATES)
        np.testing.assert_array_equal(info["sofa"], mdp.sofa[info["state"]])
        # next-step autoreset: reward 0, flags False, the reset's info, a patient state
        assert np.all(reward[pending] == 0) and not (terminated | truncated)[pending].any()
        np.testing.assert_array_equal(info["baseline_action"][pending], -1)
        assert np.all(info["state"][pending] < N_PATIENT_STATES)
        residuals.append(obs.astype(float) - mdp.features[info["state"]])
        pending = terminated | truncated
    residuals = np.concatenate(residuals)
    assert np.abs(residuals).max() <= NOISE_BOUND * envs.sigma + 1e-5
    assert abs(residuals.mean()) < 0.01 and residuals.std() == pytest.approx(envs.sigma, rel=0.02)


def test_same_episode_distribution_as_single_envs(judge):
    """Episode length, return and survival of a random policy: Welch z-statistics against single envs (|z| < 4)."""
    target, n = 1500, 100
    rng = np.random.default_rng(3)
    envs = JustifiableSepsisVectorEnv(n, judge=judge, lam=0.5)
    envs.reset(seed=4)
    acc = np.zeros((n, 3))
    pending = np.zeros(n, dtype=bool)
    native = []
    while len(native) < target:
        _, reward, terminated, truncated, info = envs.step(rng.integers(25, size=n))
        live = ~pending
        acc[live] += np.column_stack([np.ones(n), reward, info["r_env"]])[live]
        done = terminated | truncated
        native.extend(acc[done].tolist())
        acc[done] = 0.0
        pending = done
    single = JustifiableSepsisEnv(judge=judge, lam=0.5)
    ref = []
    for k in range(target):
        single.reset(seed=10_000 + k)
        row, done = np.zeros(3), False
        while not done:
            _, reward, terminated, truncated, info = single.step(int(rng.integers(25)))
            row += [1.0, reward, info["r_env"]]
            done = terminated or truncated
        ref.append(row)
    a, b = np.array(native[:target]), np.array(ref)
    z = (a.mean(0) - b.mean(0)) / np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
    assert np.all(np.abs(z) < 4), z


def test_lazy_and_stochastic_baseline_paths(judge, mdp):
    """Without the table (lazy debates, or a stochastic baseline) every sub-env's debate is the single env's."""
    uniform = np.full((mdp.n_states, mdp.n_actions), 1.0 / mdp.n_actions)
    for kwargs in ({"precompute": False}, {"baseline": uniform}):
        envs = JustifiableSepsisVectorEnv(6, judge=judge, lam=1.0, **kwargs)
        single = JustifiableSepsisEnv(judge=judge, lam=1.0, **kwargs)
        assert envs._env._table is None
        _, info = envs.reset(seed=0)
        baselines = []
        pending = np.zeros(6, dtype=bool)
        for _ in range(4):
            state = info["state"].copy()
            actions = np.arange(6) * 4
            _, reward, terminated, truncated, info = envs.step(actions)
            for i in np.flatnonzero(~pending):
                b = int(info["baseline_action"][i])
                assert reward[i] == single.debate_reward_of(int(state[i]), int(actions[i]), b)
                baselines.append(b)
            pending = terminated | truncated
        if "baseline" in kwargs:
            assert len(set(baselines)) > 5  # sampled, not fixed


def test_determinism_truncation_and_render(judge):
    a = JustifiableSepsisVectorEnv(8, judge=judge, max_episode_steps=3, render_mode="ansi")
    b = JustifiableSepsisVectorEnv(8, judge=judge, max_episode_steps=3)
    outs = []
    for env in (a, b):
        env.reset(seed=5)
        outs.append([env.step(np.full(8, t % 25)) for t in range(12)])
    for x, y in zip(*outs):
        for u, v in zip(x[:4], y[:4]):
            np.testing.assert_array_equal(u, v)
    c = JustifiableSepsisVectorEnv(8, judge=judge)
    assert not np.array_equal(c.reset(seed=5)[0], c.reset(seed=6)[0])
    a.reset(seed=0)
    ended = np.zeros(8, dtype=bool)
    for step in range(1, 4):
        _, _, terminated, truncated, _ = a.step(np.zeros(8, dtype=int))
        assert step == 3 or not truncated.any()  # max_episode_steps=3: truncation at the third step only
        ended |= terminated | truncated
    assert ended.all() and truncated.any()
    frames = a.render()
    assert len(frames) == 8 and all(frames[i].startswith("t=3 ") for i in np.flatnonzero(truncated))
    mask = np.zeros(8, dtype=bool)
    mask[2] = True
    obs, info = a.reset(options={"reset_mask": mask, "state": 7})
    assert info["_state"].tolist() == mask.tolist() and info["state"][2] == 7
    assert a.render()[2] == f"t=0 patient state 7 SOFA={a.mdp.sofa[7]:.1f}"


def test_bad_arguments_raise_typed_errors(judge):
    for bad in (0, 2.5, True, "3", None, 10**12):
        with pytest.raises(InvalidInstanceError, match="num_envs"):
            JustifiableSepsisVectorEnv(bad, judge=judge)
    with pytest.raises(InvalidInstanceError, match="lam"):
        JustifiableSepsisVectorEnv(2, judge=judge, lam=2.0)
    envs = JustifiableSepsisVectorEnv(3, judge=judge)
    with pytest.raises(RuntimeError, match="reset"):
        envs.step(np.zeros(3, dtype=int))
    for bad in (-1, 1.5, "0", [0, 1, 2]):
        with pytest.raises(InvalidInstanceError, match="seed"):
            envs.reset(seed=bad)
    for bad in (-1, 713, 2.0, [1, 2], "4"):
        with pytest.raises(InvalidInstanceError, match="state"):
            envs.reset(options={"state": bad})
    envs.reset(seed=0)
    for bad in (np.array([0, 1, 25]), np.array([0, -1, 2]), np.zeros(3), np.zeros(2, dtype=int), None, 3):
        with pytest.raises(InvalidInstanceError, match="actions"):
            envs.step(bad)
    with pytest.raises(InvalidInstanceError, match="reset_mask"):
        envs.reset(options={"reset_mask": np.zeros(3, dtype=bool)})


# ---------------------------------------------------------------------------------- make_vec (issue 15)

_ID = "mechsim/JustifiableSepsis-v0"


def test_make_vec_gives_the_native_env_with_the_spec_horizon(judge):
    envs = gymnasium.make_vec(_ID, num_envs=3, vectorization_mode="vector_entry_point", judge=judge, lam=0.25)
    assert isinstance(envs, JustifiableSepsisVectorEnv) and envs.num_envs == 3 and envs.lam == 0.25
    assert envs.max_episode_steps == 500  # the spec's, passed on by make_vec as an argument
    assert envs.spec.id == _ID and envs.spec.kwargs["vectorization_mode"] == "vector_entry_point"
    short = gymnasium.make_vec(_ID, num_envs=3, vectorization_mode="vector_entry_point", judge=judge,
                               max_episode_steps=4)
    assert short.max_episode_steps == 4
    # The default vectorization mode of the id is now its vector entry point.
    assert isinstance(gymnasium.make_vec(_ID, num_envs=2, judge=judge), JustifiableSepsisVectorEnv)
    with pytest.raises(InvalidInstanceError, match="max_episode_steps"):
        gymnasium.make_vec(_ID, num_envs=2, vectorization_mode="vector_entry_point", judge=judge,
                           max_episode_steps=0)


@pytest.mark.parametrize("horizon", [None, 4])
def test_make_vec_first_episode_seed_by_seed_equals_make(judge, horizon):
    """One sub-env draws what ``gymnasium.make``'s env draws, in the same order, until its first episode ends
    (the autoreset then draws in another order): the same observations, rewards and flags, seed by seed."""
    kwargs = {} if horizon is None else {"max_episode_steps": horizon}
    native = gymnasium.make_vec(_ID, num_envs=1, vectorization_mode="vector_entry_point", judge=judge, **kwargs)
    single = gymnasium.make(_ID, judge=judge, **kwargs)
    ends = set()
    for seed in range(40):
        rng = np.random.default_rng(seed)
        obs, info = native.reset(seed=seed)
        ref_obs, ref_info = single.reset(seed=seed)
        np.testing.assert_array_equal(obs[0], ref_obs)
        assert info["state"][0] == ref_info["state"]
        for _ in range(600):
            a = int(rng.integers(25))
            obs, reward, terminated, truncated, info = native.step(np.array([a]))
            ref = single.step(a)
            np.testing.assert_array_equal(obs[0], ref[0])
            # TimeLimit also flags truncated when the last allowed step terminates; the env (and its vector
            # env) report such an episode as terminated only.
            assert (reward[0], terminated[0], truncated[0]) == (ref[1], ref[2], ref[3] and not ref[2])
            assert info["state"][0] == ref[4]["state"]
            if ref[2] or ref[3]:
                ends.add("terminated" if ref[2] else "truncated")
                break
        else:
            raise AssertionError("the episode did not end")
    assert ends == ({"terminated", "truncated"} if horizon else {"terminated"})


def test_make_vec_same_episodes_as_the_sync_path(judge):
    """Episode length and return under a horizon of 5: make_vec's native env against make_vec's SyncVectorEnv
    over gymnasium.make (TimeLimit cuts there), Welch z-statistics (|z| < 4), and the length never above 5."""
    n, target = 64, 1200
    out = []
    for mode in ("vector_entry_point", "sync"):
        envs = gymnasium.make_vec(_ID, num_envs=n, vectorization_mode=mode, judge=judge, max_episode_steps=5)
        envs.reset(seed=11 if mode == "sync" else 12)
        rng = np.random.default_rng(1)
        acc, pending, rows = np.zeros((n, 2)), np.zeros(n, dtype=bool), []
        while len(rows) < target:
            _, reward, terminated, truncated, _ = envs.step(rng.integers(25, size=n))
            acc[~pending] += np.column_stack([np.ones(n), reward])[~pending]
            done = terminated | truncated
            rows.extend(acc[done].tolist())
            acc[done] = 0.0
            pending = done
        out.append(np.array(rows[:target]))
    a, b = out
    assert a[:, 0].max() == b[:, 0].max() == 5
    z = (a.mean(0) - b.mean(0)) / np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b))
    assert np.all(np.abs(z) < 4), z
