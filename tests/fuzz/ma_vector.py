"""Batched multi-agent environments (HiringVectorEnv, AuctionVectorEnv) and their SuperSuit-compatible view:
constructors, ``reset`` seeds, per-agent action arrays, and ``as_vector_env``."""

import numpy as np

from fuzz.entry import COUNT, POSITIVE, SEED, Entry
from mechsim.envs.auction_vector import AuctionVectorEnv
from mechsim.envs.hiring_vector import HiringVectorEnv
from mechsim.envs.ma_vector import as_vector_env

STRING = ("none", "type")
#: A count that is a limit (a huge one is valid: nothing is allocated for it).
LIMIT = COUNT[:-1]
#: An integer action array: every entry kind, and wrong shapes, dtypes and containers.
INT_ACTIONS = ("none", "type", "nan", "inf", "negative", "fraction", "shape", "ndim", "dtype", "empty")
BOX_ACTIONS = ("none", "type", "nan", "inf", "negative", "shape", "ndim", "dtype", "empty")


def _started(env):
    env.reset(seed=0)
    return env


def _hiring_step(action):
    env = _started(HiringVectorEnv(3, max_cycles=4))
    return env.step({"agent_0": action, "agent_1": np.ones((3, 2), dtype=np.int64)})


def _auction_step(**kwargs):
    def call(action):
        env = _started(AuctionVectorEnv(3, **kwargs))
        return env.step({"bidder_0": action, "bidder_1": env.action_space("bidder_1").sample()})
    return call


def _view_step(actions):
    return _started(as_vector_env(AuctionVectorEnv(2, n_bidders=3))).step(actions)


ENTRIES = [
    Entry("HiringVectorEnv", HiringVectorEnv, lambda: {"num_envs": 4, "max_cycles": 6, "cost_timing": "effort"},
          {"num_envs": COUNT, "max_cycles": LIMIT, "cost_timing": STRING}),
    Entry("HiringVectorEnv.reset", lambda seed: HiringVectorEnv(2).reset(seed=seed), lambda: {"seed": 5},
          {"seed": SEED}),
    Entry("HiringVectorEnv.step", _hiring_step, lambda: {"action": np.array([[1, 0], [0, 1], [1, 1]])},
          {"action": INT_ACTIONS}, names={"action": ("actions",)}),
    Entry("AuctionVectorEnv", AuctionVectorEnv,
          lambda: {"num_envs": 3, "n_bidders": 2, "format": "second", "reserve": 0.1, "observe_price": True,
                   "max_cycles": 10},
          {"num_envs": COUNT, "n_bidders": COUNT, "format": STRING, "reserve": POSITIVE, "observe_price": STRING,
           "max_cycles": LIMIT}),
    Entry("AuctionVectorEnv.reset", lambda seed: AuctionVectorEnv(2).reset(seed=seed), lambda: {"seed": 5},
          {"seed": SEED}),
    Entry("AuctionVectorEnv.step", _auction_step(), lambda: {"action": np.array([3, 0, 20])},
          {"action": INT_ACTIONS}, names={"action": ("actions",)}),
    Entry("AuctionVectorEnv.step[box]", _auction_step(bid_space="box"),
          lambda: {"action": np.array([[0.4], [0.0], [1.0]], np.float32)}, {"action": BOX_ACTIONS},
          names={"action": ("actions",)}),
    Entry("as_vector_env", as_vector_env, lambda: {"batched": AuctionVectorEnv(2)}, {"batched": STRING}),
    Entry("as_vector_env(...).step", _view_step, lambda: {"actions": np.array([0, 1, 2, 20, 19, 18])},
          {"actions": INT_ACTIONS}),
    Entry("as_vector_env(...).reset", lambda seed: as_vector_env(HiringVectorEnv(2)).reset(seed=seed),
          lambda: {"seed": 1}, {"seed": SEED}),
]
