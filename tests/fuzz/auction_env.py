"""Repeated single-item auctions (mechsim.auctions.repeated) and the mechsim/Auction-v0 environment."""

import numpy as np

from fuzz.entry import ARRAY, COUNT, INDEX, NONNEG_ARRAY, POSITIVE, SEED, SIZING_ARRAY, Entry
from mechsim.auctions import (
    RepeatedAuction,
    all_pay_bne_bid,
    auction_outcomes,
    equilibrium_bid,
    first_price_bne_bid,
    second_price_bid,
)
from mechsim.envs import auction as auction_env

STRING = ("none", "type")
#: A count that is a limit (a huge one is valid: nothing is allocated for it).
LIMIT = COUNT[:-1]
#: Values at which an equilibrium bid is evaluated: any shape, so only their entries can be wrong.
POINTS = ("none", "type", "nan", "inf", "negative", "dtype")
#: Optional arguments, where None means "the default" (uniform values, uniform prior, default grid, ...).
OPTIONAL_GRID = (*SIZING_ARRAY[1:], "negative")
OPTIONAL_PRIOR = NONNEG_ARRAY[1:]
OPTIONAL_POSITIVE = POSITIVE[1:]
OPTIONAL_COUNT = COUNT[1:]

_BIDS = np.array([[0.1, 0.5], [0.5, 0.5], [0.0, 0.2]])
_VALUES = np.array([[0.3, 0.9], [0.6, 0.6], [0.1, 0.4]])
_GRID = np.array([0.0, 0.25, 0.5, 1.0])


def _discrete():
    return {"n_bidders": 2, "format": "second", "reserve": 0.1, "values": np.array([0.2, 0.5, 1.0]),
            "prior": np.array([0.3, 0.3, 0.4]), "bids": _GRID.copy()}


def _auction():
    return RepeatedAuction(**_discrete())


def _step(**kwargs):
    def call(action):
        env = auction_env.parallel_env(**kwargs)
        env.reset(seed=0)
        return env.step({"bidder_0": action, "bidder_1": env.action_space("bidder_1").sample()})
    return call


def _step_actions(actions):
    env = auction_env.parallel_env()
    env.reset(seed=0)
    return env.step(actions)


def _reset(seed):
    return auction_env.parallel_env().reset(seed=seed)


_BNE = {"values": np.array([0.2, 0.7]), "n_bidders": 3, "low": 0.0, "high": 1.0, "reserve": 0.1}
_BNE_KINDS = {"values": POINTS, "n_bidders": LIMIT, "low": POSITIVE, "high": POSITIVE, "reserve": POSITIVE}

ENTRIES = [
    Entry("auction_outcomes", auction_outcomes,
          lambda: {"bids": _BIDS.copy(), "values": _VALUES.copy(), "format": "first", "reserve": 0.1, "rng": 0},
          {"bids": NONNEG_ARRAY, "values": ARRAY, "format": STRING, "reserve": POSITIVE, "rng": SEED}),
    Entry("RepeatedAuction", RepeatedAuction, _discrete,
          {"n_bidders": COUNT, "format": STRING, "reserve": POSITIVE, "values": OPTIONAL_GRID,
           "prior": OPTIONAL_PRIOR, "bids": OPTIONAL_GRID}),
    Entry("RepeatedAuction[uniform, box]", RepeatedAuction,
          lambda: {"low": 0.1, "high": 2.0, "bid_space": "box", "max_bid": 1.5},
          {"low": OPTIONAL_POSITIVE, "high": OPTIONAL_POSITIVE, "bid_space": STRING, "max_bid": OPTIONAL_POSITIVE}),
    Entry("RepeatedAuction[n_bids]", RepeatedAuction, lambda: {"n_bids": 5, "max_bid": 2.0},
          {"n_bids": OPTIONAL_COUNT, "max_bid": OPTIONAL_POSITIVE}),
    Entry("RepeatedAuction.sample_values", lambda batch, rng: _auction().sample_values(batch, rng),
          lambda: {"batch": 10, "rng": 0}, {"batch": COUNT, "rng": SEED}),
    Entry("RepeatedAuction.play", lambda bids, values, rng: _auction().play(bids, values, rng),
          lambda: {"bids": np.array([[0.25, 0.5], [1.0, 0.0]]), "values": np.array([[0.2, 0.5], [1.0, 1.0]]),
                   "rng": 0},
          {"bids": NONNEG_ARRAY, "values": ARRAY, "rng": SEED}),
    Entry("RepeatedAuction.grid_bids", lambda indices: _auction().grid_bids(indices),
          lambda: {"indices": np.array([0, 3, 1])},
          {"indices": ("none", "type", "nan", "inf", "negative", "fraction", "dtype")}),
    Entry("RepeatedAuction.generators", RepeatedAuction.generators, lambda: {"seed": 0}, {"seed": SEED}),
    Entry("first_price_bne_bid", first_price_bne_bid, lambda: dict(_BNE), _BNE_KINDS),
    Entry("all_pay_bne_bid", all_pay_bne_bid, lambda: dict(_BNE), _BNE_KINDS),
    Entry("equilibrium_bid", equilibrium_bid, lambda: {**_BNE, "format": "second"},
          {**_BNE_KINDS, "format": STRING}),
    Entry("second_price_bid", second_price_bid, lambda: {"values": np.array([0.2, 0.7])}, {"values": POINTS}),
    # ----------------------------------------------------------------------------------- the environment
    Entry("Auction-v0", auction_env.parallel_env,
          lambda: {**_discrete(), "format": "all_pay", "observe_price": True, "max_cycles": 10},
          {"n_bidders": COUNT, "format": STRING, "reserve": POSITIVE, "values": OPTIONAL_GRID,
           "prior": OPTIONAL_PRIOR, "bids": OPTIONAL_GRID, "observe_price": STRING, "max_cycles": LIMIT}),
    Entry("Auction-v0[box]", auction_env.parallel_env,
          lambda: {"low": 0.2, "high": 1.5, "bid_space": "box", "max_bid": 1.0, "n_bidders": 3},
          {"low": OPTIONAL_POSITIVE, "high": OPTIONAL_POSITIVE, "bid_space": STRING, "max_bid": OPTIONAL_POSITIVE,
           "n_bidders": COUNT}),
    Entry("Auction-v0.reset", _reset, lambda: {"seed": 0}, {"seed": SEED}),
    Entry("Auction-v0.step", _step(), lambda: {"action": 3}, {"action": (*INDEX, "huge")},
          names={"action": ("actions",)}),
    Entry("Auction-v0.step[box]", _step(bid_space="box"), lambda: {"action": np.array([0.4], np.float32)},
          {"action": ("none", "type", "nan", "inf", "negative", "shape", "ndim", "dtype", "empty")},
          names={"action": ("actions",)}),
    Entry("Auction-v0.step[actions]", _step_actions, lambda: {"actions": {"bidder_0": 1, "bidder_1": 2}},
          {"actions": STRING}),
]
