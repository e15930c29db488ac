"""mechsim/Auction-v0: the official checkers on configurations the contract test does not build, and the
environment's mechanics (rewards, infos, spaces, max_cycles, seeding, typed errors).

tests/test_env_contract.py runs all the PettingZoo checkers on the registered id with ``observe_price=True``
(CHECK_KWARGS); the default one-number observation draws api_test's "Observation is a single number" advice,
which is allowed here only.  The batched path reproducing episodes is in tests/test_auction_repeated.py.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pettingzoo
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test

import mechsim  # noqa: F401  (registers the environments)
from mechsim.auctions import auction_outcomes
from mechsim.envs import auction as auction_env
from mechsim.envs.auction import AuctionParallelEnv, EpisodeOverError
from mechsim.errors import InvalidInstanceError

ALLOWED = (r"Observation is a single number", r"Observation numpy array is all zeros")

CONFIGS = [
    {},
    {"bid_space": "box", "format": "second", "reserve": 0.3},
    {"n_bidders": 5, "format": "all_pay", "values": [0.0, 0.5, 1.0], "prior": [0.2, 0.5, 0.3], "n_bids": 4},
]


@contextlib.contextmanager
def advice_fails(allowed=ALLOWED):
    """Checker advice (UserWarning) fails the test, except ``allowed``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for advice in allowed:
            warnings.filterwarnings("ignore", message=f".*{advice}", category=UserWarning)
        yield


@pytest.mark.parametrize("kwargs", CONFIGS, ids=["default", "box-second", "discrete-all-pay"])
def test_official_checkers(kwargs):
    with advice_fails():
        parallel_api_test(auction_env.parallel_env(max_cycles=30, **kwargs), num_cycles=100)
        api_test(auction_env.env(max_cycles=30, **kwargs), num_cycles=100)
        parallel_seed_test(lambda: auction_env.parallel_env(max_cycles=30, **kwargs), num_cycles=40)
        seed_test(lambda: auction_env.env(max_cycles=30, **kwargs), num_cycles=40)


def test_the_only_advice_on_the_default_is_the_one_number_observation():
    with pytest.raises(UserWarning, match="Observation is a single number"), advice_fails(ALLOWED[1:]):
        api_test(auction_env.env(max_cycles=30), num_cycles=20)


def test_registered_ids_make_the_environment():
    par = pettingzoo.make("parallel", "mechsim/Auction-v0", n_bidders=3, format="second")
    obs, infos = par.reset(seed=0)
    assert par.agents == ["bidder_0", "bidder_1", "bidder_2"] and infos == {a: {} for a in par.agents}
    assert isinstance(par, AuctionParallelEnv) and par.metadata["name"] == "auction_v0"
    aec = pettingzoo.make("aec", "mechsim/Auction-v0")
    aec.reset(seed=0)
    assert aec.agent_selection == "bidder_0"


# ------------------------------------------------------------------------------------------- mechanics
def run_episode(env, policy, seed):
    """Play one episode; return per-step lists of (observations, actions, rewards, truncations, infos)."""
    log = []
    obs, _ = env.reset(seed=seed)
    while env.agents:
        actions = {a: policy(a, obs[a]) for a in env.agents}
        nxt, rewards, terminations, truncations, infos = env.step(actions)
        assert not any(terminations.values())
        log.append((obs, actions, rewards, truncations, infos))
        obs = nxt
    return log, obs


@pytest.mark.parametrize("fmt", ["first", "second", "all_pay"])
def test_rewards_are_the_round_utilities_and_infos_describe_the_round(fmt):
    env = auction_env.parallel_env(n_bidders=3, format=fmt, reserve=0.2, n_bids=6, max_cycles=200)
    rng = np.random.default_rng(1)
    log, _ = run_episode(env, lambda a, o: int(rng.integers(6)), seed=4)
    grid = env.auction.bids
    agents = env.possible_agents
    sold = 0
    for obs, actions, rewards, _, infos in log:
        bids = np.array([[grid[actions[a]] for a in agents]])
        values = np.array([[infos[a]["value"] for a in agents]])
        np.testing.assert_array_equal(values[0].astype(np.float32), [obs[a][0] for a in agents])
        # Independent of the tie-break: rewards are v x - p with x, p as reported, and these follow the rules.
        for i, a in enumerate(agents):
            info = infos[a]
            assert info["bid"] == bids[0, i]
            assert rewards[a] == pytest.approx(info["value"] * info["allocation"] - info["payment"], abs=1e-12)
            assert info["allocation"] == int(info["winner"] == i)
        winner = infos[agents[0]]["winner"]
        assert all(infos[a]["winner"] == winner and infos[a]["price"] == infos[agents[0]]["price"] for a in agents)
        assert infos[agents[0]]["revenue"] == pytest.approx(sum(infos[a]["payment"] for a in agents))
        if bids.max() < 0.2:
            assert winner == -1 and infos[agents[0]]["price"] == 0
            continue
        sold += 1
        assert bids[0, winner] == bids.max()
        if (bids[0] == bids.max()).sum() == 1:     # no tie: the batched rules give the same round whatever rng
            out = auction_outcomes(bids, values, fmt, reserve=0.2, rng=0)
            np.testing.assert_allclose(out.utilities[0], [rewards[a] for a in agents])
            assert out.price[0] == infos[agents[0]]["price"]
    assert sold > 100


def test_max_cycles_truncates_and_then_steps_are_refused():
    env = auction_env.parallel_env(max_cycles=7)
    log, _ = run_episode(env, lambda a, o: 3, seed=0)
    assert len(log) == 7 and env.agents == []
    assert [all(t.values()) for *_, t, _ in log] == [False] * 6 + [True]
    with pytest.raises(EpisodeOverError, match="finished episode") as err:
        env.step({"bidder_0": 0, "bidder_1": 0})
    assert isinstance(err.value, RuntimeError)
    with pytest.raises(EpisodeOverError, match="before reset"):
        auction_env.parallel_env().step({})
    with pytest.raises(EpisodeOverError):
        auction_env.parallel_env().state()


def test_discrete_and_box_bids():
    env = auction_env.parallel_env(bids=[0.0, 0.3, 0.8], format="first")
    assert env.action_space("bidder_0").n == 3 and env.observation_space("bidder_1").shape == (1,)
    env.reset(seed=0)
    _, rewards, _, _, infos = env.step({"bidder_0": 2, "bidder_1": np.int64(1)})
    assert infos["bidder_0"]["bid"] == 0.8 and infos["bidder_1"]["bid"] == 0.3
    assert infos["bidder_0"]["winner"] == 0 and infos["bidder_0"]["payment"] == 0.8
    box = auction_env.parallel_env(bid_space="box", max_bid=0.6, format="second")
    space = box.action_space("bidder_0")
    assert space.shape == (1,) and space.dtype == np.float32 and float(space.high[0]) >= 0.6
    box.reset(seed=0)
    _, rewards, _, _, infos = box.step({"bidder_0": np.array([0.45], np.float32), "bidder_1": 0.25})
    assert infos["bidder_0"]["bid"] == float(np.float32(0.45)) and infos["bidder_1"]["bid"] == 0.25
    assert infos["bidder_0"]["price"] == 0.25
    assert rewards["bidder_0"] == pytest.approx(infos["bidder_0"]["value"] - 0.25)
    box.step({"bidder_0": [0.6], "bidder_1": np.float64(0.0)})   # a sequence of one, the top bid, zero


def test_observations_with_the_last_price_and_the_state():
    env = auction_env.parallel_env(n_bidders=3, observe_price=True, format="second", max_cycles=20)
    space = env.observation_space("bidder_0")
    assert space.shape == (2,)
    obs, _ = env.reset(seed=2)
    assert all(o[1] == 0 for o in obs.values())
    rng = np.random.default_rng(0)
    while env.agents:
        values = env.current_values
        state = env.state()
        assert env.state_space.contains(state)
        np.testing.assert_array_equal(state[:3], values.astype(np.float32))
        np.testing.assert_array_equal([obs[a][0] for a in env.agents], values.astype(np.float32))
        obs, _, _, _, infos = env.step({a: int(rng.integers(21)) for a in env.agents})
        price = infos["bidder_0"]["price"]
        assert all(space.contains(o) and o[1] == np.float32(price) for o in obs.values())
        assert env.state()[3] == np.float32(price)


def test_truthful_second_price_bidding_never_loses_money():
    values = [0.0, 0.25, 0.5, 1.0]
    env = auction_env.parallel_env(n_bidders=4, format="second", values=values, bids=values, reserve=0.25,
                                   max_cycles=300)
    index = {v: k for k, v in enumerate(values)}
    log, _ = run_episode(env, lambda a, o: index[float(o[0])], seed=5)
    rewards = np.array([[r[a] for a in env.possible_agents] for _, _, r, _, _ in log])
    assert rewards.min() >= 0 and rewards.sum() > 0


def test_seeds_determine_episodes():
    def trajectory(env, seed):
        rng = np.random.default_rng(0)
        log, last = run_episode(env, lambda a, o: rng.uniform(0, 1, 1).astype(np.float32), seed)
        return [(r, [i[a]["value"] for a in i], [i[a]["winner"] for a in i]) for _, _, r, _, i in log]

    kwargs = {"n_bidders": 3, "bid_space": "box", "format": "all_pay", "max_cycles": 40}
    a = trajectory(auction_env.parallel_env(**kwargs), 7)
    assert a == trajectory(auction_env.parallel_env(**kwargs), 7)
    assert a != trajectory(auction_env.parallel_env(**kwargs), 8)
    # An unseeded reset continues the streams: seeded + unseeded episodes replay in the same order.
    env1, env2 = auction_env.parallel_env(**kwargs), auction_env.parallel_env(**kwargs)
    first = [trajectory(env1, 3), trajectory(env1, None)]
    assert first == [trajectory(env2, 3), trajectory(env2, None)] and first[0] != first[1]
    # Three-way ties every round (everyone bids the top of a two-point grid) are broken by the seeded stream.
    def tied(seed):
        env = auction_env.parallel_env(n_bidders=3, n_bids=2, max_cycles=200)
        log, _ = run_episode(env, lambda agent, obs: 1, seed)
        return [infos["bidder_0"]["winner"] for *_, infos in log]

    assert tied(1) == tied(1) != tied(2) and set(tied(1)) == {0, 1, 2}


def test_render_modes(capsys):
    env = auction_env.parallel_env(render_mode="ansi", format="second")
    env.reset(seed=0)
    assert "no bids yet" in env.render()
    env.step({"bidder_0": 10, "bidder_1": 4})
    text = env.render()
    assert "second-price auction" in text and "bidder_0 wins at 0.2" in text and "round 1/100" in text
    frame = auction_env.parallel_env(render_mode="rgb_array")
    frame.reset(seed=0)
    picture = frame.render()
    assert picture.dtype == np.uint8 and picture.ndim == 3
    human = auction_env.parallel_env(render_mode="human", max_cycles=2, reserve=0.5)
    human.reset(seed=0)
    human.step({"bidder_0": 0, "bidder_1": 0})                 # human mode prints after every step
    assert "round 1/2" in capsys.readouterr().out and "no sale" in human._render_text()


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, argument", [
    ({"values": [0.2, 0.5], "prior": [0.5, 0.6]}, "prior"),
    ({"bids": [0.1, 0.5]}, "bids"),
    ({"values": [0.5, 0.2]}, "values"),
    ({"values": [0.2, 0.2]}, "values"),
    ({"reserve": float("nan")}, "reserve"),
    ({"n_bidders": 0}, "n_bidders"),
    ({"n_bidders": "2"}, "n_bidders"),
    ({"format": "english"}, "format"),
    ({"bid_space": "Box"}, "bid_space"),
    ({"observe_price": 1}, "observe_price"),
    ({"max_cycles": 0}, "max_cycles"),
    ({"max_cycles": 2.5}, "max_cycles"),
    ({"render_mode": 3}, "render_mode"),
    ({"n_bidders": 10**13}, "n_bidders"),
])
def test_bad_keyword_arguments(kwargs, argument):
    with pytest.raises(InvalidInstanceError) as err:
        auction_env.parallel_env(**kwargs)
    assert str(err.value).startswith(f"{argument}:") and err.value.argument == argument


@pytest.mark.parametrize("action, message", [
    (-1, r"actions\['bidder_1'\]: expected a bid index \(an integer\) in 0..20, found int -1"),
    (21, r"in 0..20, found int 21"),
    (2.0, r"found float 2.0"),
    ("3", r"found str"),
    (None, r"found NoneType"),
    (np.array([3]), r"found array of shape \(1,\)"),
])
def test_bad_discrete_actions(action, message):
    env = auction_env.parallel_env()
    env.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match=message) as err:
        env.step({"bidder_0": 1, "bidder_1": action})
    assert err.value.argument == "actions"
    env.step({"bidder_0": 1, "bidder_1": 1})        # a refused step changes nothing: the episode goes on


@pytest.mark.parametrize("action", [np.array([-0.1], np.float32), np.array([1.5], np.float32), float("nan"),
                                    np.array([np.inf]), np.zeros(2), np.zeros((1, 1)), "0.5", [0.1, 0.2], True,
                                    np.array(["0.5"]), None, 10**400])
def test_bad_box_actions(action):
    env = auction_env.parallel_env(bid_space="box")
    env.reset(seed=0)
    with pytest.raises(InvalidInstanceError, match=r"actions\['bidder_0'\]: expected a bid in \[0, 1\]"):
        env.step({"bidder_0": action, "bidder_1": 0.5})


def test_bad_action_dicts():
    env = auction_env.parallel_env(n_bidders=3)
    env.reset(seed=0)
    cases = (([1, 2, 3], "a dict.*found list"), ({"bidder_0": 1, "bidder_1": 1}, r"missing \['bidder_2'\]"),
             ({"bidder_0": 1, "bidder_1": 1, "bidder_2": 1, "bidder_9": 1}, "bidder_9"), (None, "a dict"))
    for actions, message in cases:
        with pytest.raises(InvalidInstanceError, match=f"actions: expected.*{message}"):
            env.step(actions)


def test_aec_view_reports_bad_actions_and_reseeds():
    aec = auction_env.env(max_cycles=3)
    aec.reset(seed=0)
    aec.step(2)
    with pytest.raises(InvalidInstanceError, match="actions"):
        aec.step(99)
    with pytest.raises(InvalidInstanceError, match="seed"):
        auction_env.parallel_env().reset(seed=-1)
