"""Tests of the vector Lagrangian reward (mechsim.envs.vector_lagrangian).

Oracle: ``SyncVectorEnv`` over ``N`` copies of the single-env ``LagrangianReward`` sharing one
``LagrangeMultipliers`` (the semantics the vector wrapper claims), sub-env by sub-env: over the same
``SyncVectorEnv`` of raw single envs the numbers must be equal, and over the native recommender vector env
(which reproduces ``SyncVectorEnv`` seed by seed) equal to rounding.
"""

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import mechsim  # noqa: F401  (registers the environments)
from mechsim.envs.lagrangian_reward import LagrangeMultipliers, LagrangianReward
from mechsim.envs.recommender import RecommenderEnv
from mechsim.envs.recommender_vector import RecommenderVectorEnv
from mechsim.envs.vector_lagrangian import VectorLagrangianReward
from mechsim.errors import InvalidInstanceError

N = 6
CASES = [
    ({"constraints": ("like",), "max_steps": 6}, {"discount": 1.0, "subtract_offsets": True}, [5.0]),
    ({"max_steps": 5}, {"discount": 0.9, "subtract_offsets": False}, [3.0, 4.0, 0.2]),
]


def _multipliers(limits):
    return LagrangeMultipliers(limits, ki=0.7, kp=0.1, batch_episodes=4, max_value=50.0)


def _oracle(env_kwargs, wrapper_kwargs, lm):
    return SyncVectorEnv([lambda: LagrangianReward(RecommenderEnv(n_candidates=4, **env_kwargs), lm, **wrapper_kwargs)
                          for _ in range(N)])


def _mask(info, key):
    """SyncVectorEnv's ``"_key"`` mask (absent when no sub-env reported ``key``)."""
    return info.get("_" + key, np.zeros(N, dtype=bool))


def _run(envs, steps, seed, exact):
    """Step both (vector wrapper, oracle) with the same actions; compare every sub-env's numbers."""
    ours, ref = envs
    rng = np.random.default_rng(seed)
    ours.reset(seed=seed)
    ref.reset(seed=seed)
    check = np.testing.assert_array_equal if exact else \
        (lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9))
    ended = 0
    for _ in range(steps):
        actions = rng.integers(4, size=N)
        o1, r1, te1, tr1, i1 = ours.step(actions)
        o2, r2, te2, tr2, i2 = ref.step(actions)
        np.testing.assert_array_equal(te1, te2)
        np.testing.assert_array_equal(tr1, tr2)
        check(r1, r2)
        live = _mask(i2, "lambdas")  # SyncVectorEnv's reset steps carry the reset info's lambdas: the same
        if live.any():
            check(i1["lambdas"][live], i2["lambdas"][live])
        stepped = _mask(i2, "reward_unconstrained")
        if stepped.any():
            check(i1["reward_unconstrained"][stepped], i2["reward_unconstrained"][stepped])
        np.testing.assert_array_equal(i1["_episode_costs"], _mask(i2, "episode_costs"))
        if i1["_episode_costs"].any():
            m = i1["_episode_costs"]
            check(i1["episode_costs"][m], i2["episode_costs"][m])
            ended += int(m.sum())
    return ended


@pytest.mark.parametrize("env_kwargs, wrapper_kwargs, limits", CASES)
def test_equal_to_single_env_wrappers_over_the_same_sub_envs(env_kwargs, wrapper_kwargs, limits):
    lm_a, lm_b = _multipliers(limits), _multipliers(limits)
    base = SyncVectorEnv([lambda: RecommenderEnv(n_candidates=4, **env_kwargs) for _ in range(N)])
    ours = VectorLagrangianReward(base, lm_a, **wrapper_kwargs)
    # One cost: bit for bit; several: lambda . c summed in another order (a last-bit difference).
    ended = _run((ours, _oracle(env_kwargs, wrapper_kwargs, lm_b)), 90, seed=3, exact=len(limits) == 1)
    assert ended >= 20 and len(lm_a.history) >= 8 and lm_a.n_episodes == lm_b.n_episodes
    # The multipliers move and follow the same path, update by update.
    np.testing.assert_allclose(np.array(lm_a.history), np.array(lm_b.history), rtol=1e-12, atol=1e-12)
    assert np.ptp(np.array(lm_a.history), axis=0).max() > 0.1


@pytest.mark.parametrize("env_kwargs, wrapper_kwargs, limits", CASES)
def test_equal_to_single_env_wrappers_over_the_native_vector_env(env_kwargs, wrapper_kwargs, limits):
    lm_a, lm_b = _multipliers(limits), _multipliers(limits)
    ours = VectorLagrangianReward(RecommenderVectorEnv(N, n_candidates=4, **env_kwargs), lm_a, **wrapper_kwargs)
    _run((ours, _oracle(env_kwargs, wrapper_kwargs, lm_b)), 60, seed=5, exact=False)
    assert len(lm_a.history) >= 10
    np.testing.assert_allclose(np.array(lm_a.history), np.array(lm_b.history), rtol=1e-9, atol=1e-9)


def test_penalty_identity_and_frozen_multipliers():
    """r' = r - lambda . (c - o) on every live step; update=False never moves lambda."""
    lm = LagrangeMultipliers([1.0, 1.0, 1.0], initial=[2.0, 0.5, 1.5])
    envs = VectorLagrangianReward(gymnasium.make_vec("mechsim/Recommender-v0", num_envs=N, max_steps=4), lm,
                                  update=False, subtract_offsets=True)
    envs.reset(seed=0)
    pending = np.zeros(N, dtype=bool)
    for _ in range(12):
        _, r, te, tr, info = envs.step(np.zeros(N, dtype=np.int64))
        expected = info["reward_unconstrained"] - ((info["costs"] - info["cost_offsets"]) * [2.0, 0.5, 1.5]).sum(1)
        np.testing.assert_allclose(r[~pending], expected[~pending], rtol=1e-12)
        assert np.all(r[pending] == 0)
        pending = te | tr
    assert lm.history == [] and lm.lambdas.tolist() == [2.0, 0.5, 1.5]


def test_reset_mask_restarts_only_the_masked_totals():
    """A partial reset (as sb3_vec_env does) against SyncVectorEnv's reset_mask over single-env wrappers."""
    kw = {"constraints": ("like",), "max_steps": 50}
    lm_a, lm_b = LagrangeMultipliers([1.0]), LagrangeMultipliers([1.0])
    ours = VectorLagrangianReward(RecommenderVectorEnv(N, n_candidates=4, **kw), lm_a)
    ref = _oracle(kw, {}, lm_b)
    ours.reset(seed=1)
    ref.reset(seed=1)
    a = np.ones(N, dtype=np.int64)
    for _ in range(3):
        ours.step(a)
        ref.step(a)
    mask = np.zeros(N, dtype=bool)
    mask[[1, 4]] = True
    _, info = ours.reset(options={"reset_mask": mask})
    assert info["_lambdas"].tolist() == mask.tolist()
    ref.reset(options={"reset_mask": mask})
    for _ in range(60):
        _, r1, te, tr, i1 = ours.step(a)
        _, r2, _, _, i2 = ref.step(a)
        np.testing.assert_allclose(r1, r2, rtol=1e-9)
        if i1["_episode_costs"].any():
            m = i1["_episode_costs"]
            np.testing.assert_allclose(i1["episode_costs"][m], i2["episode_costs"][m], rtol=1e-9)
    assert lm_a.n_episodes == lm_b.n_episodes > 0


def test_sepsis_vector_env_with_a_cost_key():
    """Any info key of per-sub-env costs: here the sepsis env's SOFA score as a scalar cost (shape (N,))."""
    from mechsim.debate.judges import BradleyTerryJudge

    judge = BradleyTerryJudge(44, 25, n_evidence=2, hidden=(8,), seed=3)
    lm = LagrangeMultipliers([5.0], ki=0.01)
    envs = VectorLagrangianReward(gymnasium.make_vec("mechsim/JustifiableSepsis-v0", num_envs=4, judge=judge,
                                                     max_episode_steps=5), lm, cost_key="sofa")
    envs.reset(seed=0)
    totals, pending = np.zeros(4), np.zeros(4, dtype=bool)
    for _ in range(30):
        _, r, te, tr, info = envs.step(np.zeros(4, dtype=np.int64))
        live = ~pending
        totals[live] += info["sofa"][live]
        np.testing.assert_allclose(r[live], (info["reward_unconstrained"] - info["lambdas"][:, 0] * info["sofa"])[live])
        done = te | tr
        np.testing.assert_allclose(info["episode_costs"][done, 0], totals[done])
        totals[done] = 0.0
        pending = done
    assert lm.n_episodes > 0


def test_bad_arguments_raise_typed_errors():
    env = RecommenderVectorEnv(2, constraints=("like",))
    with pytest.raises(InvalidInstanceError, match="env"):
        VectorLagrangianReward(RecommenderEnv(), LagrangeMultipliers([1.0]))
    with pytest.raises(InvalidInstanceError, match="multipliers"):
        VectorLagrangianReward(env, LagrangeMultipliers([1.0, 2.0]))
    with pytest.raises(InvalidInstanceError, match="discount"):
        VectorLagrangianReward(env, LagrangeMultipliers([1.0]), discount=1.5)
    same_step = SyncVectorEnv([RecommenderEnv], autoreset_mode=AutoresetMode.SAME_STEP)
    with pytest.raises(InvalidInstanceError, match="autoreset"):
        VectorLagrangianReward(same_step, LagrangeMultipliers([1.0, 1.0, 1.0]))
    wrong_key = VectorLagrangianReward(env, LagrangeMultipliers([1.0]), cost_key="nope")
    wrong_key.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match="nope"):
        wrong_key.step(np.zeros(2, dtype=np.int64))


def test_record_episodes_is_record_episode_row_by_row():
    a = LagrangeMultipliers([1.0, 2.0], ki=0.3, kp=0.2, kd=0.1, batch_episodes=3)
    b = LagrangeMultipliers([1.0, 2.0], ki=0.3, kp=0.2, kd=0.1, batch_episodes=3)
    rng = np.random.default_rng(0)
    for k in (1, 4, 7, 2):
        rows = rng.uniform(0, 4, size=(k, 2))
        updated = a.record_episodes(rows)
        assert updated.tolist() == [b.record_episode(row) for row in rows]
        rows[:] = -1.0  # the multipliers keep their own copies
    assert a.n_episodes == b.n_episodes == 14 and len(a.history) == len(b.history) == 4
    np.testing.assert_array_equal(np.array(a.history), np.array(b.history))
    np.testing.assert_array_equal(np.array(a.cost_history), np.array(b.cost_history))
    with pytest.raises(InvalidInstanceError, match="episode_costs"):
        a.record_episodes(np.ones((2, 3)))
