"""Tests of the batched Hiring-v0 (HiringVectorEnv) and its SuperSuit-compatible view.

Oracles: ``N`` independent ``HiringParallelEnv`` seeded ``s + c`` (tests/ma_vector_oracle.py), the mechanism's
value from the hiring LP (obedient play), and SuperSuit's own conversion of the single env (rl suite).
"""

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space
from ma_vector_oracle import assert_matches_single_envs  # noqa: I001 - tests/ is on sys.path

from mechsim.envs.hiring import HiringParallelEnv
from mechsim.envs.hiring_vector import HiringVectorEnv
from mechsim.envs.ma_vector import as_vector_env
from mechsim.errors import EpisodeOverError, InvalidInstanceError, MechsimError
from mechsim.hiring import HiringInstance
from mechsim.solvers.hiring_lp import optimal_mechanism


def _random_actions(env):
    highs = [(env.instance.n_efforts[i], env.instance.n_signals[i]) for i in range(env.instance.n_agents)]

    def draw(rng):
        return {a: np.stack([rng.integers(0, e, env.num_envs), rng.integers(0, s, env.num_envs)], axis=1)
                for a, (e, s) in zip(env.possible_agents, highs)}

    return draw


@pytest.mark.parametrize("max_cycles, cost_timing", [(2, "report"), (3, "effort"), (7, "report")])
def test_each_copy_is_the_single_env_seeded_s_plus_c(max_cycles, cost_timing):
    env = HiringVectorEnv(5, max_cycles=max_cycles, cost_timing=cost_timing)
    counts = assert_matches_single_envs(
        env, lambda: HiringParallelEnv(max_cycles=max_cycles, cost_timing=cost_timing), _random_actions(env),
        seed=11, steps=400, reset_every=17, check_state=True)
    assert counts["autoresets"] > 0 and counts["partial_resets"] > 0


def test_heterogeneous_agents_and_uniform_block_boundaries():
    """Three agents with different numbers of efforts and signals; 1500 steps cross the 1024-uniform blocks."""
    inst = HiringInstance.random(3, [2, 3, 2], [3, 2, 2], 2, 2, correlation=0.4, seed=5)
    mech = optimal_mechanism(inst)
    env = HiringVectorEnv(3, instance=inst, mechanism=mech, max_cycles=9)
    assert_matches_single_envs(env, lambda: HiringParallelEnv(instance=inst, mechanism=mech, max_cycles=9),
                               _random_actions(env), seed=0, steps=1500, reset_every=101)


def test_seeds_as_a_sequence_and_unseeded_resets():
    env = HiringVectorEnv(3, max_cycles=4)
    env.reset(seed=[7, None, 2])
    work = {a: np.ones((3, 2), dtype=np.int64) for a in env.possible_agents}
    obs, *_ = env.step(work)
    for c, s in ((0, 7), (2, 2)):
        single = HiringParallelEnv(max_cycles=4)
        single.reset(seed=s)
        o, *_ = single.step({a: np.ones(2, dtype=np.int64) for a in single.possible_agents})
        np.testing.assert_array_equal(obs["agent_1"][c], o["agent_1"])
    # Same seed, same episodes; an unseeded reset continues the streams (and differs from the seeded start).
    a, b = HiringVectorEnv(8, max_cycles=4), HiringVectorEnv(8, max_cycles=4)
    work = {x: np.ones((8, 2), dtype=np.int64) for x in a.possible_agents}
    a.reset(seed=3)
    b.reset(seed=3)
    first = a.step(work)[0]["agent_0"]
    np.testing.assert_array_equal(first, b.step(work)[0]["agent_0"])
    a.reset()
    assert not np.array_equal(first, a.step(work)[0]["agent_0"])     # 8 signals of 2 values each


def test_spaces_and_metadata():
    env = HiringVectorEnv(4)
    single = HiringParallelEnv()
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert env.agents == env.possible_agents == single.possible_agents and env.num_agents == 2
    for a in env.possible_agents:
        assert env.single_observation_space(a) == single.observation_space(a)
        assert env.single_action_space(a) == single.action_space(a)
        assert env.observation_space(a) == batch_space(single.observation_space(a), 4)
        assert env.action_space(a) is env.action_space(a)
    obs, _ = env.reset(seed=0)
    out = env.step({a: env.action_space(a).sample() for a in env.possible_agents})
    assert all(env.observation_space(a).contains(out[0][a]) for a in env.possible_agents)


def test_next_step_autoreset_ignores_the_actions():
    env = HiringVectorEnv(6, max_cycles=2)
    twin = HiringVectorEnv(6, max_cycles=2)
    env.reset(seed=4)
    twin.reset(seed=4)
    work = {a: np.ones((6, 2), dtype=np.int64) for a in env.possible_agents}
    shirk = {a: np.zeros((6, 2), dtype=np.int64) for a in env.possible_agents}
    for e in (env, twin):
        e.step(work)
        *_, truncations, infos = e.step(work)
    assert all(truncations[a].all() for a in env.possible_agents)
    assert infos["agent_0"]["_state"].all()
    a_out, b_out = env.step(work), twin.step(shirk)
    for a in env.possible_agents:
        np.testing.assert_array_equal(a_out[0][a], b_out[0][a])
        assert (a_out[1][a] == 0).all() and not a_out[2][a].any() and not a_out[3][a].any()
        assert set(a_out[4][a]) == {"profile", "_profile"} and a_out[4][a]["_profile"].all()
        assert (a_out[0][a][:, 0] == 0).all()   # a fresh round: the effort step


def test_obedient_play_realises_the_mechanism_value():
    """Independent oracle: the principal's mean utility under obedience is the LP value of the mechanism."""
    inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.7, seed=74)
    mech = optimal_mechanism(inst)
    N, rounds = 64, 200
    env = HiringVectorEnv(N, instance=inst, mechanism=mech, max_cycles=2 * rounds)
    obs, _ = env.reset(seed=0)
    principal = []
    for _ in range(rounds):
        obs, *_ = env.step({a: np.stack([o[:, 1], np.zeros(N, np.int64)], axis=1) for a, o in obs.items()})
        obs, rewards, _, _, infos = env.step({a: np.stack([np.zeros(N, np.int64), o[:, 3]], axis=1)
                                               for a, o in obs.items()})
        principal.append(infos["agent_0"]["principal_utility"])
        expected = infos["agent_0"]["payment"] - infos["agent_0"]["cost"]
        np.testing.assert_array_equal(rewards["agent_0"], expected)
    u = np.concatenate(principal)
    assert abs(u.mean() - mech.value) < 5 * u.std() / np.sqrt(u.size)


def test_vector_view_layout_and_supersuit_seeding():
    batched = HiringVectorEnv(3, max_cycles=4)
    view = as_vector_env(batched)
    assert view.num_envs == 6 and view.single_observation_space == batched.single_observation_space("agent_0")
    obs, infos = view.reset(seed=2)
    single = HiringParallelEnv(max_cycles=4)
    for c in range(3):
        o, i = single.reset(seed=2 + c)
        for j, a in enumerate(single.possible_agents):
            np.testing.assert_array_equal(obs[c * 2 + j], o[a])
            np.testing.assert_array_equal(infos["profile"][c * 2 + j], i[a]["profile"])
    actions = view.action_space.sample()
    obs, rewards, terminations, truncations, infos = view.step(actions)
    assert obs.shape == (6, 4) and rewards.shape == terminations.shape == truncations.shape == (6,)
    # sub-env seeds per slot, as SB3's VecEnv.seed makes them: copy c takes the seed of its first slot
    obs_slots, _ = view.reset(seed=[10 + k for k in range(6)])
    np.testing.assert_array_equal(obs_slots[2], single.reset(seed=12)[0]["agent_0"])


def test_vector_view_refuses_heterogeneous_agents_and_bad_masks():
    inst = HiringInstance.random(2, [2, 3], 2, 2, 2, seed=1)
    with pytest.raises(InvalidInstanceError, match="batched: expected agents sharing one observation space"):
        as_vector_env(HiringVectorEnv(2, instance=inst, mechanism=optimal_mechanism(inst)))
    with pytest.raises(InvalidInstanceError, match="batched"):
        as_vector_env(HiringParallelEnv())
    view = as_vector_env(HiringVectorEnv(2))
    view.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match="reset_mask: expected the 2 slots of a copy to agree"):
        view.reset(options={"reset_mask": np.array([True, False, True, True])})
    with pytest.raises(InvalidInstanceError, match="actions"):
        view.step(np.zeros((3, 2), dtype=np.int64))
    with pytest.raises(InvalidInstanceError, match="seed"):
        view.reset(seed=[1, 2, 3])


def test_bad_arguments_raise_typed_errors():
    with pytest.raises(EpisodeOverError, match="reset"):
        HiringVectorEnv(2).step({})
    with pytest.raises(EpisodeOverError, match="reset"):
        HiringVectorEnv(2).state()
    env = HiringVectorEnv(3)
    env.reset(seed=0)
    good = {a: np.zeros((3, 2), dtype=np.int64) for a in env.possible_agents}
    bad_calls = [
        ({"agent_0": good["agent_0"]}, "missing"),
        ({**good, "agent_9": good["agent_0"]}, "expected keys"),
        ({**good, "agent_1": good["agent_1"].astype(float)}, "agent_1"),
        ({**good, "agent_1": good["agent_1"].astype(bool)}, "agent_1"),
        ({**good, "agent_0": np.zeros((2, 2), np.int64)}, r"shape \(3, 2\)"),
        ({**good, "agent_0": np.array([[0, 0], [2, 0], [0, 0]])}, "effort in 0..1, found 2 in copy 1"),
        ({**good, "agent_1": np.array([[0, 0], [0, 0], [0, -1]])}, "report in 0..1, found -1 in copy 2"),
        ([1, 2], "dict"),
    ]
    for actions, message in bad_calls:
        with pytest.raises(InvalidInstanceError, match=message) as err:
            env.step(actions)
        assert "actions" in str(err.value)
    for kwargs, name in (({"num_envs": 0}, "num_envs"), ({"num_envs": 2.5}, "num_envs"),
                         ({"num_envs": 2, "max_cycles": 0}, "max_cycles"),
                         ({"num_envs": 2, "cost_timing": "never"}, "cost_timing"),
                         ({"num_envs": 10**15}, "num_envs")):
        with pytest.raises(MechsimError, match=name):
            HiringVectorEnv(**kwargs)
    for seed in (-1, 1.5, True, [1, 2], np.random.default_rng(0)):
        with pytest.raises(InvalidInstanceError, match="seed"):
            env.reset(seed=seed)
    for mask in (np.ones(2, bool), np.zeros(3, bool), [True] * 3, np.ones(3)):
        with pytest.raises(InvalidInstanceError, match="reset_mask"):
            env.reset(options={"reset_mask": mask})
    with pytest.raises(InvalidInstanceError, match="reset_mask: the first reset"):
        HiringVectorEnv(3).reset(options={"reset_mask": np.array([True, False, True])})
    with pytest.raises(InvalidInstanceError, match="options"):
        env.reset(options=[1])


@pytest.mark.rl
def test_vector_view_equals_supersuit_conversion():
    """The view is SuperSuit's concat_vec_envs_v1(pettingzoo_env_to_vec_env_v1(env), N), seed by seed, once
    finished copies are reset at once (SuperSuit's same-step reset; what sb3_vec_env does)."""
    ss = pytest.importorskip("supersuit")
    N, cycles = 3, 5
    view = as_vector_env(HiringVectorEnv(N, max_cycles=cycles))
    ref = ss.concat_vec_envs_v1(ss.pettingzoo_env_to_vec_env_v1(HiringParallelEnv(max_cycles=cycles)), N,
                                num_cpus=0, base_class="gymnasium")
    obs, _ = view.reset(seed=8)
    ref_obs, _ = ref.reset(seed=8)
    np.testing.assert_array_equal(obs, ref_obs)
    view.action_space.seed(0)
    for _ in range(60):
        actions = view.action_space.sample()
        obs, rewards, terminations, truncations, _ = view.step(actions)
        ref_obs, ref_rewards, ref_terms, ref_truncs, ref_infos = ref.step(actions)
        np.testing.assert_array_equal(rewards.astype(np.float32), ref_rewards)
        done = terminations | truncations
        np.testing.assert_array_equal(done, (ref_terms | ref_truncs).astype(bool))
        if done.any():
            for k in np.flatnonzero(done):
                np.testing.assert_array_equal(obs[k], ref_infos[k]["terminal_observation"])
            obs, _ = view.reset(options={"reset_mask": done})
        np.testing.assert_array_equal(obs, ref_obs)
