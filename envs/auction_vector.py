r"""Batched ``mechsim/Auction-v0``: ``N`` copies of the repeated single-item auction stepped as arrays.

:class:`AuctionVectorEnv` runs ``num_envs`` independent copies of
:class:`~mechsim.envs.auction.AuctionParallelEnv` (its module docstring states the game: each round every
bidder's private value is drawn i.i.d., the bidders bid, the highest eligible bid wins, ties broken uniformly at
random, and bidder *i* gets :math:`v_i x_i - p_i` under first-price, second-price or all-pay rules with a
reserve).  One step resolves the round of every copy with one call of the rules of
:class:`~mechsim.auctions.RepeatedAuction` (the code the single environment runs for one round) on
``(N, n_bidders)`` arrays.

Layout (:mod:`mechsim.envs.ma_vector`): ``observations[bidder]`` is a float32 array ``(N, 1)`` of values for the
coming round (``(N, 2)`` with ``observe_price=True``: value and last price); ``actions[bidder]`` an integer array
``(N,)`` of grid indices (``bid_space="discrete"``) or a real array ``(N, 1)`` (or ``(N,)``) of bids in
``[0, max_bid]`` (``"box"``); rewards ``(N,)``.  After a step ``infos[bidder]`` holds the single environment's
keys as arrays ``(N,)``: ``"value"``, ``"bid"``, ``"payment"``, ``"price"``, ``"revenue"`` (float64),
``"allocation"`` and ``"winner"`` (int64), with their ``"_key"`` masks False for copies being autoreset (whose
infos, as after ``reset``, are empty).  ``state()`` is ``(N, n_bidders + 1)``, row ``c`` the single environment's
``state()`` of copy ``c``; ``current_values`` the float64 values ``(N, n_bidders)`` of the coming round.

**Seeding.**  Copy ``c`` owns the two generators (values, ties) that an ``AuctionParallelEnv`` makes on
``reset(seed=s + c)`` (:meth:`~mechsim.auctions.RepeatedAuction.generators`) and draws from them in the same
blocks (:func:`~mechsim.envs.auction.block_rows` rounds) and order: one row of values at a reset, one row of
values and one of tie-break uniforms at a step.  So it reproduces that environment's episodes exactly, through
unseeded resets and autoresets (tested seed by seed).

Every action entry is checked (also for copies being autoreset, whose actions are ignored); anything outside
the batched action space raises :class:`~mechsim.errors.InvalidInstanceError` naming ``actions`` and the
bidder.  No rendering: render single copies with ``Auction-v0``.  The bidders share their spaces, so
:func:`~mechsim.envs.ma_vector.as_vector_env` gives the SuperSuit-compatible vector view (one slot per
(copy, bidder)) on which a parameter-shared policy trains.

Examples
--------
>>> import numpy as np
>>> from mechsim.envs.auction_vector import AuctionVectorEnv
>>> envs = AuctionVectorEnv(16, n_bidders=3, format="second")
>>> obs, infos = envs.reset(seed=0)
>>> obs["bidder_0"].shape
(16, 1)
>>> truthful = {a: np.rint(o[:, 0] * 20).astype(np.int64) for a, o in obs.items()}   # grid step 1/20
>>> obs, rewards, terminations, truncations, infos = envs.step(truthful)
>>> bool((rewards["bidder_0"] >= -1e-6).all()), infos["bidder_0"]["winner"].shape
(True, (16,))
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from gymnasium.vector import AutoresetMode

from mechsim.auctions.repeated import RepeatedAuction
from mechsim.envs.auction import AuctionParallelEnv, block_rows
from mechsim.envs.ma_vector import BatchedParallelEnv, RowStream, masked, spread
from mechsim.errors import EpisodeOverError
from mechsim.validation import _describe, _fail, check_allocation, check_integer

__all__ = ["AuctionVectorEnv"]

#: Bytes per copy and bidder: two buffered streams of ``block`` rounds (float64), and the per-step arrays.
_BYTES_PER_ROUND = 16
_BYTES_PER_COPY_BIDDER = 512


class AuctionVectorEnv(BatchedParallelEnv):
    """``num_envs`` copies of :class:`~mechsim.envs.auction.AuctionParallelEnv` stepped as arrays.

    Parameters
    ----------
    num_envs : int
        ``N``, the number of copies.
    n_bidders, format, reserve, values, prior, low, high, bid_space, bids, n_bids, max_bid, observe_price, \
max_cycles
        As :class:`~mechsim.envs.auction.AuctionParallelEnv` (which checks them).

    See the module docstring for the layout, seeding and autoreset.
    """

    metadata: ClassVar[dict[str, Any]] = {"name": "auction_v0", "render_modes": [], "is_parallelizable": True,
                                          "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int, n_bidders: int = 2, format: str = "first", reserve: float = 0.0, values=None,
                 prior=None, low: float | None = None, high: float | None = None, bid_space: str = "discrete",
                 bids=None, n_bids: int | None = None, max_bid: float | None = None, observe_price: bool = False,
                 max_cycles: int = 100):
        N = check_integer("num_envs", num_envs, minimum=1)
        env = AuctionParallelEnv(n_bidders=n_bidders, format=format, reserve=reserve, values=values, prior=prior,
                                 low=low, high=high, bid_space=bid_space, bids=bids, n_bids=n_bids,
                                 max_bid=max_bid, observe_price=observe_price, max_cycles=max_cycles)
        auction = self.auction = env.auction
        n = auction.n_bidders
        block = block_rows(n)
        check_allocation("num_envs", float(N) * n * (2 * _BYTES_PER_ROUND * block + _BYTES_PER_COPY_BIDDER),
                         f"the state of num_envs={N} copies of {n} bidders")
        self._init_batch(N, env)
        self.observe_price, self.max_cycles = env.observe_price, env.max_cycles
        self._n = n
        self._discrete = auction.bid_space == "discrete"
        self._values_rngs: list = [None] * N
        self._ties_rngs: list = [None] * N
        self._values = RowStream(N, block, (n,), 1, lambda c: auction.sample_values(block, self._values_rngs[c]))
        self._ties = RowStream(N, block, (n,), 1, lambda c: self._ties_rngs[c].random((block, n)))
        self._current = np.zeros((N, n))            # the values of the coming round
        self._price = np.zeros(N)
        self._round = np.zeros(N, dtype=np.int64)

    @property
    def current_values(self) -> np.ndarray:
        """Every copy's values (float64) for the coming round, ``(N, n_bidders)``; observations are float32."""
        if not self._started:
            raise EpisodeOverError("current_values read before reset(): call reset() first")
        return self._current.copy()

    def state(self) -> np.ndarray:
        """Every copy's global state, ``(N, n_bidders + 1)`` float32: rows of ``AuctionParallelEnv.state()`` (the
        values for the coming round and the last price)."""
        if not self._started:
            raise EpisodeOverError("state() called before reset(): call reset() first")
        return np.concatenate([self._current, self._price[:, None]], axis=1).astype(np.float32)

    # ------------------------------------------------------------------------------ internals
    def _reseeded(self, c: int) -> None:
        self._values_rngs[c], self._ties_rngs[c] = RepeatedAuction.generators(self._rngs[c])
        self._values.discard(c)
        self._ties.discard(c)

    def _next_values(self, counts) -> None:
        """Move the copies with ``counts`` 1 (or all, for ``counts=1``) to their next row of values."""
        stream = self._values
        stream.ensure()
        nxt = stream.peek()
        if np.ndim(counts) == 0:
            self._current = nxt
        else:                       # a new array: earlier infos hold the old one
            current = self._current.copy()
            current[counts] = nxt[counts]
            self._current = current
        stream.advance(counts)

    def _observe(self) -> dict:
        n, N = self._n, self.num_envs
        if self.observe_price:
            obs = np.empty((n, N, 2), np.float32)
            obs[:, :, 0] = self._current.T
            obs[:, :, 1] = self._price
        else:
            obs = self._current.T.astype(np.float32)[:, :, None]
        return self._per_agent(list(obs))

    def _reset_copies(self, idx: np.ndarray, mask: np.ndarray):
        self._next_values(mask)
        self._price[idx] = 0.0
        self._round[idx] = 0
        return self._observe(), {a: {} for a in self.possible_agents}

    def _bids(self, actions) -> np.ndarray:
        """The bid amounts ``(N, n_bidders)`` of the actions (every entry checked)."""
        arrays = self._action_arrays(actions)
        N, n = self.num_envs, self._n
        out = np.empty((N, n))
        auction = self.auction
        for j, (a, x) in enumerate(zip(self.possible_agents, arrays)):
            arr = x if isinstance(x, np.ndarray) else np.asarray(x) if isinstance(x, (list, tuple)) else None
            if self._discrete:
                if arr is None or arr.dtype.kind not in "iu" or arr.shape != (N,):
                    raise _fail(f"actions[{a!r}]", f"an integer array of shape ({N},), bid indices in "
                                f"0..{auction.n_bids - 1}", _describe(x))
                if arr.min() < 0 or arr.max() >= auction.n_bids:
                    bad = arr.min() if arr.min() < 0 else arr.max()
                    raise _fail(f"actions[{a!r}]", f"bid indices in 0..{auction.n_bids - 1}", f"{bad}")
                out[:, j] = auction.bids[arr]
            else:
                if arr is None or arr.dtype.kind not in "fiu" or arr.shape not in ((N, 1), (N,)):
                    raise _fail(f"actions[{a!r}]", f"a real array of shape ({N}, 1), bids in "
                                f"[0, {auction.max_bid:.9g}]", _describe(x))
                b = arr.reshape(N).astype(np.float64)
                ok = (b >= 0.0) & (b <= auction.max_bid)        # NaN fails too
                if not ok.all():
                    c = int(np.argmin(ok))
                    raise _fail(f"actions[{a!r}]", f"bids in [0, {auction.max_bid:.9g}]",
                                f"{float(b[c]):.9g} in copy {c}")
                out[:, j] = b
        return out

    # ------------------------------------------------------------------------------------ step
    def _step(self, actions):
        bids = self._bids(actions)
        N = self.num_envs
        pending = self._autoreset
        live = ~pending
        everyone = not pending.any()
        ties = self._ties
        ties.ensure()
        u = ties.peek()
        ties.advance(live)
        values = self._current
        if everyone:
            out = self.auction._play_unchecked(bids, values, u)
        else:
            out = self.auction._play_unchecked(bids[live], values[live], u[live])
        rows = slice(None) if everyone else live
        if not everyone:
            values, bids = values[live], bids[live]
        columns = {"value": spread(values, rows, N), "bid": spread(bids, rows, N),
                   "allocation": spread(out.allocation, rows, N, np.int64), "payment": spread(out.payments, rows, N)}
        shared = {"price": spread(out.price, rows, N), "revenue": spread(out.revenue, rows, N),
                  "winner": spread(out.winner, rows, N, np.int64)}
        utilities = spread(out.utilities, rows, N)
        for value in shared.values():
            value.setflags(write=False)          # one array for every bidder's info
        self._price[live] = out.price
        self._round[live] += 1
        done = live & (self._round >= self.max_cycles)
        # Every copy reads its next row of values: the next round's, or its reset's (next-step autoreset).
        self._next_values(1)
        if not everyone:
            self._price[pending] = 0.0
            self._round[pending] = 0
        self._autoreset = done
        infos = {}
        for j, a in enumerate(self.possible_agents):
            own = {key: col[:, j] for key, col in columns.items()}
            own.update(shared)
            infos[a] = masked(own, live) if live.any() else {}
        terminations, truncations = self._done(done)
        return self._observe(), self._per_agent(list(utilities.T)), terminations, truncations, infos
