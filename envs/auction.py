r"""PettingZoo environment ``mechsim/Auction-v0``: repeated single-item auctions with private values.

``pettingzoo.make("parallel", "mechsim/Auction-v0")`` (or ``"aec"``).  Bidders ``bidder_0 .. bidder_{n-1}``
play ``max_cycles`` rounds of a single-item auction, ``format`` ``"first"``, ``"second"`` or ``"all_pay"``
price, with reserve ``reserve``.  Each round every bidder's private value is drawn i.i.d. from a discrete
distribution (``values``, ``prior``) or uniformly on ``[low, high]`` (default ``[0, 1]``); each step is one
round: the bidders bid, the auction is resolved by :class:`mechsim.auctions.RepeatedAuction` (the rules of
:func:`mechsim.auctions.auction_outcomes`, ties broken uniformly at random), and the values of the next round
are drawn and observed.

Spaces (the same for every bidder):

- action, ``bid_space="discrete"`` (default): ``Discrete(n_bids)``, an index into the bid grid ``bids`` (an
  array containing 0, sorted and distinct; default ``n_bids`` (21) points evenly spaced on
  ``[0, max_bid]``, ``max_bid`` by default the highest value); ``bid_space="box"``:
  ``Box(0, max_bid, (1,), float32)``, the bid itself.
- observation: ``Box(float32)`` holding the bidder's value for the coming round, shape ``(1,)``; with
  ``observe_price=True`` shape ``(2,)``, the value and the last round's price (0 before the first round).

Rewards: the round's utilities :math:`v_i x_i - p_i`.  ``infos[agent]`` after a step: ``"value"`` (the value
it bid with), ``"bid"`` (the amount), ``"allocation"`` (1 if it won, else 0), ``"payment"``, ``"price"`` (the
winner's payment; all-pay: the highest bid; 0 if unsold), ``"revenue"`` and ``"winner"`` (the winner's
index, -1 if no bid reached the reserve); after ``reset`` the infos are empty dicts.  Episodes end by
truncation after ``max_cycles`` rounds (default 100).

Seeding: ``reset(seed=s)`` makes the generator ``default_rng(s)`` and from it the two streams of
:meth:`mechsim.auctions.RepeatedAuction.generators`, one for values and one for tie-breaks; an unseeded reset
continues them.  So an episode is fully determined by its seed, and the batched path reproduces it exactly:
``values = auction.sample_values(T + 1, values_rng)`` are the values of its ``T`` rounds and of the final
observation, and ``auction.play(bids, values[:T], ties_rng)`` its outcomes (``env.auction`` is the
environment's :class:`~mechsim.auctions.RepeatedAuction`; see ``tests/test_auction_repeated.py``).

Global state (``state()``, for centralised critics): every bidder's value for the coming round and the last
price, float32, in ``state_space``.

Every action is checked: a discrete bid must be an integer index in ``0..n_bids-1``, a box bid a finite
number in ``[0, max_bid]`` (a scalar, or an array or sequence of shape ``(1,)``); anything else, and a missing
or unknown agent, raises :class:`~mechsim.errors.InvalidInstanceError` naming ``actions`` and the agent.
Stepping a finished episode raises :class:`EpisodeOverError` (also a ``RuntimeError``).  Rendering: ``"ansi"``
returns a line describing the last round, ``"human"`` prints it after every step, ``"rgb_array"`` draws it as
an RGB frame.

Module layout (:mod:`mechsim.envs._template`, PettingZoo's parallel-first convention):
:class:`AuctionParallelEnv` (alias ``raw_parallel_env``) is the native Parallel environment and
``parallel_env(**kwargs)`` builds it; ``raw_env`` is its AEC view and ``env(**kwargs)`` the AEC view wrapped in
``OrderEnforcingWrapper``.  For millions of rounds, skip the environment and play
:class:`~mechsim.auctions.RepeatedAuction` on arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import index

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from mechsim.auctions.repeated import RepeatedAuction
from mechsim.envs._template import EnvTemplate, aec_view, check_render_mode, classic_env, parallel_factory
from mechsim.errors import EpisodeOverError, InvalidInstanceError
from mechsim.validation import _describe, check_allocation, check_integer

__all__ = ["AuctionParallelEnv", "EpisodeOverError", "env", "parallel_env", "raw_env", "raw_parallel_env"]

#: Rounds of values and of tie-break uniforms drawn from the generators at a time (fewer with many bidders).
_BLOCK = 256
#: Bytes a buffered round takes per bidder: its value (float64), its observation (float32), its tie uniform.
_BYTES_PER_BUFFERED = 20
#: Bytes per bidder of the environment (agent name, space-dict entries, per-step dicts, buffers).
_BYTES_PER_BIDDER = 4096


def block_rows(n_bidders: int) -> int:
    """Rounds of values (and of tie-break uniforms) an environment of ``n_bidders`` draws at a time: ``_BLOCK``,
    fewer with many bidders (one generator call per block)."""
    return max(1, min(_BLOCK, 2**16 // n_bidders))


def _box_amount(x) -> float:
    """One box bid as a float: a real number, or an array (or sequence) of shape () or (1,) holding one; NaN
    for anything else."""
    if type(x) is np.ndarray and x.shape == (1,) and x.dtype.kind == "f":  # what Box.sample() returns
        return float(x[0])
    if isinstance(x, (bool, np.bool_)):
        return float("nan")
    try:
        if isinstance(x, (float, int, np.floating, np.integer)):
            return float(x)
        if isinstance(x, (list, tuple, np.ndarray)):
            arr = np.asarray(x)
            if arr.shape in ((), (1,)) and arr.dtype.kind in "fiu":
                return float(arr.reshape(-1)[0])
    except (OverflowError, ValueError, TypeError):
        pass
    return float("nan")



class AuctionParallelEnv(EnvTemplate, ParallelEnv):
    """Repeated single-item auctions (Parallel API; see the module docstring).

    Parameters
    ----------
    n_bidders : int, default 2
    format : {"first", "second", "all_pay"}, default "first"
    reserve : float, default 0
    values, prior : array_like of shape (K,), optional
        A discrete value distribution (values non-negative and strictly increasing; prior default uniform).
    low, high : float, optional
        Uniform values on ``[low, high]`` (default ``[0, 1]``) when ``values`` is not given.
    bid_space : {"discrete", "box"}, default "discrete"
    bids : array_like of shape (n_bids,), optional
        The bid grid (discrete bids): contains 0, sorted, distinct.
    n_bids : int, optional
        Size of the default grid (default 21).
    max_bid : float, optional
        The largest bid (default: the highest value).
    observe_price : bool, default False
        Append the last round's price to the observation.
    max_cycles : int, default 100
        Rounds per episode.
    render_mode : {None, "ansi", "human", "rgb_array"}

    The auction arguments are those of :class:`mechsim.auctions.RepeatedAuction`, which checks them.
    """

    metadata = {"name": "auction_v0", "render_modes": ["human", "ansi", "rgb_array"], "is_parallelizable": True,
                "render_fps": 1}

    def __init__(self, n_bidders: int = 2, format: str = "first", reserve: float = 0.0, values=None, prior=None,
                 low: float | None = None, high: float | None = None, bid_space: str = "discrete", bids=None,
                 n_bids: int | None = None, max_bid: float | None = None, observe_price: bool = False,
                 max_cycles: int = 100, render_mode: str | None = None):
        self.auction = RepeatedAuction(n_bidders=n_bidders, format=format, reserve=reserve, values=values,
                                       prior=prior, low=low, high=high, bid_space=bid_space, bids=bids,
                                       n_bids=n_bids, max_bid=max_bid)
        if not isinstance(observe_price, (bool, np.bool_)):
            raise InvalidInstanceError(f"observe_price: expected True or False, found {_describe(observe_price)}",
                                       argument="observe_price")
        self.observe_price = bool(observe_price)
        self.max_cycles = check_integer("max_cycles", max_cycles, minimum=1)
        self.render_mode = check_render_mode(render_mode, self.metadata)
        n = self.auction.n_bidders
        self._block = block_rows(n)
        check_allocation("n_bidders", float(n) * (_BYTES_PER_BIDDER + _BYTES_PER_BUFFERED * self._block),
                         f"an environment of {n} bidders")
        self.possible_agents = [f"bidder_{i}" for i in range(n)]
        self.agents: list[str] = []
        lo, hi = self.auction.value_range
        top_bid = self.auction.max_bid
        if self.observe_price:
            observation_space = spaces.Box(np.array([lo, 0.0], np.float32), np.array([hi, top_bid], np.float32),
                                           dtype=np.float32)
        else:
            observation_space = spaces.Box(np.array([lo], np.float32), np.array([hi], np.float32), dtype=np.float32)
        self._discrete = self.auction.bid_space == "discrete"
        if self._discrete:
            action_space = spaces.Discrete(self.auction.n_bids)
            self._grid = self.auction.bids.tolist()
        else:
            action_space = spaces.Box(np.zeros(1, np.float32), np.array([top_bid], np.float32), dtype=np.float32)
        # One space object each, shared by every bidder (they are symmetric).
        self._set_spaces(observation_spaces=dict.fromkeys(self.possible_agents, observation_space),
                         action_spaces=dict.fromkeys(self.possible_agents, action_space))
        self.state_space = spaces.Box(np.array([lo] * n + [0.0], np.float32), np.array([hi] * n + [top_bid],
                                                                                        np.float32),
                                      dtype=np.float32)
        self._n = n
        self._agent_set = frozenset(self.possible_agents)
        self._values_rng = self._ties_rng = None
        self._values_block = self._obs_block = self._ties_block = None
        self._v = self._t = self._block
        self._current = None                   # (1, n) values of the coming round
        self._price = 0.0
        self._round = 0
        self._last = None                      # what _render_text shows

    # ---------------------------------------------------------------------------------------- streams
    def _next_values(self) -> None:
        """Move to the next row of the values stream (drawn ``_block`` rounds at a time)."""
        if self._v >= self._block:
            self._values_block = self.auction.sample_values(self._block, self._values_rng)
            self._obs_block = self._values_block.astype(np.float32)[:, :, None]
            self._v = 0
        v = self._v
        self._current = self._values_block[v:v + 1]
        self._current_obs = self._obs_block[v]
        self._v = v + 1

    def _next_tie(self) -> np.ndarray:
        if self._t >= self._block:
            self._ties_block = self._ties_rng.random((self._block, self._n))
            self._t = 0
        t = self._t
        self._t = t + 1
        return self._ties_block[t:t + 1]

    def _observations(self) -> dict:
        if self.observe_price:
            obs = np.empty((self._n, 2), np.float32)
            obs[:, :1] = self._current_obs
            obs[:, 1] = self._price
            return dict(zip(self.agents, obs))
        return dict(zip(self.agents, self._current_obs))

    @property
    def current_values(self) -> np.ndarray:
        """The bidders' values (float64) for the coming round, shape ``(n_bidders,)``; observations are float32."""
        if self._current is None:
            raise EpisodeOverError("current_values read before reset(): call reset() first")
        return self._current[0].copy()

    # -------------------------------------------------------------------------------------------- API
    def reset(self, seed=None, options=None):
        if self._reseed(seed):
            self._values_rng, self._ties_rng = RepeatedAuction.generators(self._rng)
            self._v = self._t = self._block
        self.agents = list(self.possible_agents)
        self._round = 0
        self._price = 0.0
        self._last = None
        self._next_values()
        return self._observations(), {a: {} for a in self.agents}

    def state(self) -> np.ndarray:
        """Every bidder's value for the coming round and the last price (an element of ``state_space``)."""
        if self._current is None:
            raise EpisodeOverError("state() called before reset(): call reset() first")
        return np.append(self._current[0], self._price).astype(np.float32)

    def step(self, actions):
        agents = self.agents
        if not agents:
            raise EpisodeOverError("step() called on a finished episode (or before reset()): call reset() first")
        try:
            acts = [actions[a] for a in agents]
            complete = len(actions) == self._n
        except (KeyError, TypeError):
            complete = False
        if not complete:
            self._check_keys(actions)
        bids = self._bids(acts)
        values = self._current
        out = self.auction._play_unchecked(np.array([bids]), values, self._next_tie())
        # One round: (1, n) arrays to Python numbers (tolist()[0] and item() are the cheapest conversions).
        allocation = out.allocation.tolist()[0]
        payments = out.payments.tolist()[0]
        utilities = out.utilities.tolist()[0]
        winner = out.winner.item()
        price = out.price.item()
        revenue = out.revenue.item()
        vals = values.tolist()[0]
        infos = {a: {"value": vals[i], "bid": bids[i], "allocation": allocation[i], "payment": payments[i],
                     "price": price, "revenue": revenue, "winner": winner} for i, a in enumerate(agents)}
        rewards = dict(zip(agents, utilities))
        self._price = price
        self._round += 1
        self._last = (vals, bids, winner, price, payments)
        self._next_values()
        observations = self._observations()
        done = self._round >= self.max_cycles
        return self._finish_parallel_step(agents, done, observations, rewards, infos)

    # --------------------------------------------------------------------------------- action checks
    def _check_keys(self, actions) -> None:
        if not isinstance(actions, Mapping):
            raise InvalidInstanceError(f"actions: expected a dict of one bid per bidder, found {_describe(actions)}",
                                       argument="actions")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise InvalidInstanceError(f"actions: expected a bid for every bidder, missing {missing[:3]}",
                                       argument="actions")
        unknown = [a for a in actions if a not in self._agent_set]
        raise InvalidInstanceError(f"actions: expected keys among bidder_0..bidder_{self._n - 1}, found "
                                   f"{unknown[:3]!r}", argument="actions")

    def _bids(self, acts: list) -> list[float]:
        """The bid amounts of the actions, in agent order (every action checked)."""
        if self._discrete:
            grid = self._grid
            try:
                picks = [index(x) for x in acts]
                if min(picks) >= 0:
                    return [grid[k] for k in picks]
            except (TypeError, IndexError):
                pass
            self._invalid(acts)
        top = self.auction.max_bid
        bids = [_box_amount(x) for x in acts]
        if not all(0.0 <= b <= top for b in bids):  # NaN fails too
            self._invalid(acts)
        return bids

    def _invalid(self, acts: list):
        """Raise an :class:`InvalidInstanceError` naming ``actions`` and the first bidder whose bid is invalid."""
        for a, x in zip(self.agents, acts):
            if self._discrete:
                try:
                    k = index(x)
                except TypeError:
                    k = None
                if k is None or not 0 <= k < self.auction.n_bids:
                    raise InvalidInstanceError(f"actions[{a!r}]: expected a bid index (an integer) in "
                                               f"0..{self.auction.n_bids - 1}, found {_describe(x)}",
                                               argument="actions")
            else:
                b = _box_amount(x)
                if not 0.0 <= b <= self.auction.max_bid:
                    raise InvalidInstanceError(f"actions[{a!r}]: expected a bid in [0, {self.auction.max_bid:.9g}] "
                                               f"(a number or an array of shape (1,)), found {_describe(x)}",
                                               argument="actions")
        raise InvalidInstanceError("actions: expected a bid in the action space of every bidder",
                                   argument="actions")  # pragma: no cover

    # ------------------------------------------------------------------------------------ rendering
    def _render_text(self) -> str:
        head = f"{self.auction.format}-price auction, reserve {self.auction.reserve:g}"
        if self._last is None:
            return f"{head}: round {self._round}/{self.max_cycles}, no bids yet"
        vals, bids, winner, price, payments = self._last
        who = "no sale" if winner < 0 else f"bidder_{winner} wins at {price:.4g}"
        shown = ", ".join(f"{v:.3g}->{b:.3g}" for v, b in zip(vals[:8], bids[:8]))
        more = ", ..." if len(vals) > 8 else ""
        return (f"{head}: round {self._round}/{self.max_cycles}, value->bid [{shown}{more}], {who}, "
                f"revenue {sum(payments):.4g}")


raw_parallel_env = AuctionParallelEnv
raw_env = aec_view(AuctionParallelEnv)
env = classic_env(raw_env)
parallel_env = parallel_factory(AuctionParallelEnv)
