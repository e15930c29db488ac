"""Learning bidders in repeated auctions (mechsim.learners.bidding)."""

import numpy as np

from fuzz.entry import COUNT, MODEL, SEED, Entry
from mechsim.auctions import RepeatedAuction
from mechsim.learners import bid_utilities, learn_to_bid

#: Bad checkpoints: any array kind except a different length (any number is valid) and None (the default).
_CHECKPOINTS = ("type", "nan", "inf", "negative", "fraction", "ndim", "dtype", "empty")
#: Bid indices of a batch: their number of columns must match the auction's bidders.
_INDICES = ("none", "type", "nan", "inf", "negative", "fraction", "shape", "ndim", "dtype")


def _auction():
    return RepeatedAuction(2, "first", 0.1, n_bids=5)


ENTRIES = [
    Entry("learn_to_bid", learn_to_bid,
          lambda: {"auction": _auction(), "learner": "hedge", "rounds": 50, "seed": 0,
                   "checkpoints": np.array([10, 50]), "n_value_bins": 3, "learning_rate": 0.5},
          {"auction": MODEL, "learner": ("none", "type"), "rounds": COUNT, "seed": SEED,
           "checkpoints": _CHECKPOINTS, "n_value_bins": COUNT[1:], "learning_rate": ("type", "nan", "inf",
                                                                                    "negative")}),
    Entry("learn_to_bid.exp3",
          lambda auction, rounds: learn_to_bid(auction, "exp3", rounds, seed=1),
          lambda: {"auction": RepeatedAuction(3, "all_pay", values=[0.2, 1.0], bids=[0.0, 0.5, 1.0]), "rounds": 30},
          {"auction": MODEL, "rounds": COUNT}),
    Entry("bid_utilities", bid_utilities,
          lambda: {"auction": _auction(), "bids": np.array([[0, 3], [4, 4]]), "values": np.array([[0.2, 0.9],
                                                                                                  [0.5, 0.5]])},
          {"auction": MODEL, "bids": _INDICES, "values": ("none", "type", "nan", "inf", "shape", "ndim", "dtype")}),
]
