"""Tests of the batched Auction-v0 (AuctionVectorEnv) and its SuperSuit-compatible view.

Oracles: ``N`` independent ``AuctionParallelEnv`` seeded ``s + c`` (tests/ma_vector_oracle.py); the batched
``RepeatedAuction`` path the single env documents (values and outcomes of a whole episode from its two
generators); SuperSuit's own conversion of the single env and a PPO run (rl suite).
"""

import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space
from ma_vector_oracle import assert_matches_single_envs  # noqa: I001 - tests/ is on sys.path

from mechsim.auctions import RepeatedAuction
from mechsim.envs.auction import AuctionParallelEnv
from mechsim.envs.auction_vector import AuctionVectorEnv
from mechsim.envs.ma_vector import as_vector_env
from mechsim.errors import EpisodeOverError, InvalidInstanceError, MechsimError

CONFIGS = [
    {"max_cycles": 7},
    {"max_cycles": 5, "format": "second", "reserve": 0.3, "n_bids": 5, "n_bidders": 3},
    # discrete values on the bid grid: many ties, so the tie-break stream matters
    {"max_cycles": 9, "format": "all_pay", "values": [0.0, 0.5, 1.0], "prior": [0.2, 0.3, 0.5],
     "bids": [0.0, 0.5, 1.0], "observe_price": True},
    {"max_cycles": 300, "bid_space": "box", "low": 0.2, "high": 2.0, "max_bid": 1.5, "observe_price": True,
     "n_bidders": 3},
]


def _random_actions(env):
    N = env.num_envs

    def draw(rng):
        if env.auction.bid_space == "box":
            return {a: rng.uniform(0, env.auction.max_bid, (N, 1)).astype(np.float32) for a in env.possible_agents}
        return {a: rng.integers(0, env.auction.n_bids, N) for a in env.possible_agents}

    return draw


@pytest.mark.parametrize("kwargs", CONFIGS, ids=lambda k: f"{k.get('format', 'first')}-{k.get('bid_space', 'grid')}")
def test_each_copy_is_the_single_env_seeded_s_plus_c(kwargs):
    env = AuctionVectorEnv(4, **kwargs)
    counts = assert_matches_single_envs(env, lambda: AuctionParallelEnv(**kwargs), _random_actions(env), seed=3,
                                        steps=600, reset_every=37, check_state=True)
    assert counts["partial_resets"] > 0
    assert kwargs["max_cycles"] > 200 or counts["autoresets"] > 0


def test_many_bidders_use_smaller_blocks():
    """300 bidders: blocks of 2**16 // 300 = 218 rounds, crossed by 300 steps (values and ties)."""
    kwargs = {"max_cycles": 4, "n_bidders": 300}
    env = AuctionVectorEnv(2, **kwargs)
    assert_matches_single_envs(env, lambda: AuctionParallelEnv(**kwargs), _random_actions(env), steps=300,
                               detail_agents=["bidder_0", "bidder_299"])


def test_an_episode_is_the_repeated_auction_played_on_arrays():
    """Independent path: the values and outcomes of copy c's episode are RepeatedAuction's, from the generators
    of seed s + c (the batched path that Auction-v0's docstring states)."""
    T, N, seed = 40, 3, 9
    env = AuctionVectorEnv(N, n_bidders=3, format="second", reserve=0.2, n_bids=6, max_cycles=T)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(1)
    bids, winners, utilities = [], [], []
    for _ in range(T):
        acts = _random_actions(env)(rng)
        bids.append(np.stack([env.auction.bids[acts[a]] for a in env.possible_agents], axis=1))
        obs, rewards, _, truncations, infos = env.step(acts)
        winners.append(infos["bidder_0"]["winner"])
        utilities.append(np.stack([rewards[a] for a in env.possible_agents], axis=1))
    assert all(truncations[a].all() for a in env.possible_agents)
    bids, winners, utilities = np.array(bids), np.array(winners), np.array(utilities)
    auction = RepeatedAuction(n_bidders=3, format="second", reserve=0.2, n_bids=6)
    for c in range(N):
        values_rng, ties_rng = RepeatedAuction.generators(seed + c)
        values = auction.sample_values(T + 1, values_rng)
        out = auction.play(bids[:, c], values[:T], ties_rng)
        np.testing.assert_array_equal(out.winner, winners[:, c])
        np.testing.assert_array_equal(out.utilities, utilities[:, c])
        np.testing.assert_array_equal(obs["bidder_2"][c], values[T, 2:3].astype(np.float32))


def test_spaces_metadata_and_current_values():
    env = AuctionVectorEnv(5, n_bidders=3, observe_price=True)
    single = AuctionParallelEnv(n_bidders=3, observe_price=True)
    assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP and env.metadata["name"] == "auction_v0"
    for a in env.possible_agents:
        assert env.single_observation_space(a) == single.observation_space(a)
        assert env.observation_space(a) == batch_space(single.observation_space(a), 5)
        assert env.action_space(a) == batch_space(single.action_space(a), 5)
    with pytest.raises(EpisodeOverError):
        _ = env.current_values
    with pytest.raises(EpisodeOverError, match="reset"):
        env.state()
    obs, infos = env.reset(seed=0)
    assert infos == {a: {} for a in env.possible_agents}
    np.testing.assert_array_equal(env.current_values[:, 1].astype(np.float32), obs["bidder_1"][:, 0])
    assert (obs["bidder_0"][:, 1] == 0).all()
    obs, *_, infos = env.step({a: env.action_space(a).sample() for a in env.possible_agents})
    np.testing.assert_array_equal(obs["bidder_2"][:, 1], infos["bidder_2"]["price"].astype(np.float32))


def test_next_step_autoreset_and_info_masks():
    env = AuctionVectorEnv(4, max_cycles=1, format="first")
    env.reset(seed=5)
    top = {a: np.full(4, 20) for a in env.possible_agents}
    _, rewards, terminations, truncations, infos = env.step(top)
    assert all(truncations[a].all() and not terminations[a].any() for a in env.possible_agents)
    assert infos["bidder_0"]["_winner"].all()
    # ties at the top bid: exactly one winner per copy, paying its bid
    np.testing.assert_array_equal(infos["bidder_0"]["allocation"] + infos["bidder_1"]["allocation"], 1)
    obs, rewards, terminations, truncations, infos = env.step(top)
    assert infos == {a: {} for a in env.possible_agents}
    assert all((rewards[a] == 0).all() and not truncations[a].any() for a in env.possible_agents)
    # a partial reset, then a step where only some copies are autoreset: their masks are False
    env.reset(options={"reset_mask": np.array([True, True, False, False])})
    _, _, _, truncations, _ = env.step(top)
    np.testing.assert_array_equal(truncations["bidder_0"], [True, True, True, True])
    env.reset(options={"reset_mask": np.array([True, False, False, False])})
    _, rewards, _, truncations, infos = env.step(top)
    np.testing.assert_array_equal(infos["bidder_1"]["_payment"], [True, False, False, False])
    np.testing.assert_array_equal(infos["bidder_1"]["payment"][1:], 0.0)
    np.testing.assert_array_equal(truncations["bidder_1"], [True, False, False, False])


def test_vector_view_layout():
    batched = AuctionVectorEnv(3, n_bidders=4, format="second", max_cycles=3)
    view = as_vector_env(batched)
    assert view.num_envs == 12 and view.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert view.observation_space == batch_space(view.single_observation_space, 12)
    obs, infos = view.reset(seed=6)
    assert infos == {}
    for c in range(3):
        o, _ = AuctionParallelEnv(n_bidders=4, format="second", max_cycles=3).reset(seed=6 + c)
        for j in range(4):
            np.testing.assert_array_equal(obs[4 * c + j], o[f"bidder_{j}"])
    actions = np.arange(12) % batched.auction.n_bids
    obs, rewards, _, truncations, infos = view.step(actions)
    single = AuctionParallelEnv(n_bidders=4, format="second", max_cycles=3)
    single.reset(seed=7)
    _, r, *_, i = single.step({f"bidder_{j}": actions[4 + j] for j in range(4)})
    np.testing.assert_array_equal(rewards[4:8], [r[f"bidder_{j}"] for j in range(4)])
    np.testing.assert_array_equal(infos["winner"][4:8], i["bidder_0"]["winner"])
    assert infos["_winner"].all() and infos["bid"].shape == (12,)


def test_gymnasium_vector_wrappers_work_on_the_view():
    from gymnasium.wrappers.vector import RecordEpisodeStatistics

    view = RecordEpisodeStatistics(as_vector_env(AuctionVectorEnv(3, max_cycles=4)))
    view.reset(seed=0)
    view.action_space.seed(0)
    total = np.zeros(6)
    for _ in range(4):
        _, rewards, _, truncations, infos = view.step(view.action_space.sample())
        total += rewards
    assert truncations.all()
    np.testing.assert_allclose(infos["episode"]["r"], total, rtol=1e-6)
    np.testing.assert_array_equal(infos["episode"]["l"], 4)


def test_bad_arguments_raise_typed_errors():
    env = AuctionVectorEnv(3)
    with pytest.raises(EpisodeOverError, match="reset"):
        env.step({})
    env.reset(seed=0)
    good = {a: np.zeros(3, dtype=np.int64) for a in env.possible_agents}
    for actions, message in [
        ({"bidder_0": good["bidder_0"]}, "missing"),
        ({**good, "bidder_7": good["bidder_0"]}, "expected keys"),
        ({**good, "bidder_1": np.zeros(3)}, "bidder_1"),
        ({**good, "bidder_1": np.zeros((3, 1), np.int64)}, r"shape \(3,\)"),
        ({**good, "bidder_0": np.array([0, 21, 0])}, "found 21"),
        ({**good, "bidder_0": np.array([0, -1, 0])}, "found -1"),
        ("bids", "dict"),
    ]:
        with pytest.raises(InvalidInstanceError, match=message) as err:
            env.step(actions)
        assert "actions" in str(err.value)
    box = AuctionVectorEnv(2, bid_space="box", max_bid=0.5)
    box.reset(seed=0)
    ok = np.full((2, 1), 0.25, np.float32)
    box.step({"bidder_0": ok, "bidder_1": ok.reshape(2)})           # (N,) is accepted too
    for bad, message in ((np.array([[0.25], [np.nan]]), "found nan in copy 1"), (np.array([[0.75], [0.1]]), "0.75"),
                         (np.array([[-0.1], [0.1]]), "-0.1"), (np.zeros((2, 2)), r"shape \(2, 1\)"),
                         (np.zeros((2, 1), bool), "bidder_1")):
        with pytest.raises(InvalidInstanceError, match=message):
            box.step({"bidder_0": ok, "bidder_1": bad})
    for kwargs, name in (({"num_envs": -1}, "num_envs"), ({"num_envs": None}, "num_envs"),
                         ({"num_envs": 2, "format": "third"}, "format"), ({"num_envs": 2, "reserve": -1}, "reserve"),
                         ({"num_envs": 10**12, "n_bidders": 2}, "num_envs")):
        with pytest.raises(MechsimError, match=name):
            AuctionVectorEnv(**kwargs)
    for seed in (-3, "1", 0.5, (1, 2)):
        with pytest.raises(InvalidInstanceError, match="seed"):
            env.reset(seed=seed)


# ------------------------------------------------------------------------------------------------- rl suite
@pytest.mark.rl
def test_vector_view_equals_supersuit_conversion():
    """The view is SuperSuit's concat_vec_envs_v1(pettingzoo_env_to_vec_env_v1(env), N), seed by seed, once
    finished copies are reset at once (SuperSuit's same-step reset), here through sb3_vec_env's SB3 VecEnv."""
    ss = pytest.importorskip("supersuit")
    pytest.importorskip("stable_baselines3")
    from mechsim.envs.sb3_vector import sb3_vec_env

    N, kwargs = 4, {"n_bidders": 3, "format": "all_pay", "reserve": 0.1, "max_cycles": 6, "observe_price": True}
    ours = sb3_vec_env(as_vector_env(AuctionVectorEnv(N, **kwargs)))
    ref = ss.concat_vec_envs_v1(ss.pettingzoo_env_to_vec_env_v1(AuctionParallelEnv(**kwargs)), N, num_cpus=0,
                                base_class="gymnasium")
    ours.venv.reset(seed=5)          # SuperSuit's seeding: copy c gets 5 + c
    obs, _ = ref.reset(seed=5)
    ours_obs = ours.venv.reset(seed=5)[0]
    np.testing.assert_array_equal(ours_obs, obs)
    rng = np.random.default_rng(2)
    dones = 0
    for _ in range(40):
        actions = rng.integers(0, 21, ours.num_envs)
        ours.step_async(actions)
        o, r, d, infos = ours.step_wait()
        ref_obs, ref_r, ref_terms, ref_truncs, ref_infos = ref.step(actions)
        np.testing.assert_array_equal(o, ref_obs)
        np.testing.assert_array_equal(r, ref_r)
        np.testing.assert_array_equal(d, (ref_terms | ref_truncs).astype(bool))
        for k in np.flatnonzero(d):
            np.testing.assert_array_equal(infos[k]["terminal_observation"], ref_infos[k]["terminal_observation"])
            assert infos[k]["payment"] == ref_infos[k]["payment"]
        dones += int(d.any())
    assert dones >= 5


@pytest.mark.rl
def test_ppo_with_a_shared_policy_learns_to_bid_near_truthfully_in_second_price():
    """Parameter-shared PPO on the view (through sb3_vec_env): its greedy bid is much closer to truthful (the
    weakly dominant strategy) than a uniformly random bid, on a grid of held-out values."""
    pytest.importorskip("stable_baselines3")
    torch = pytest.importorskip("torch")
    from stable_baselines3 import PPO

    from mechsim.envs.sb3_vector import sb3_vec_env

    torch.set_num_threads(1)
    batched = AuctionVectorEnv(8, n_bidders=2, format="second", n_bids=11, max_cycles=50)
    model = PPO("MlpPolicy", sb3_vec_env(as_vector_env(batched)), n_steps=64, batch_size=256, n_epochs=5,
                learning_rate=3e-3, seed=0, policy_kwargs={"net_arch": [32, 32]}, device="cpu")
    values = np.linspace(0.0, 1.0, 101, dtype=np.float32)[:, None]
    grid = batched.auction.bids

    def error(m):
        idx, _ = m.predict(values, deterministic=True)
        return float(np.abs(grid[idx] - values[:, 0]).mean())

    model.learn(16_384)
    random_error = float(np.abs(grid[None, :] - values).mean())        # a uniform bid on the grid
    assert error(model) < 0.5 * random_error
