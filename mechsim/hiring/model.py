r"""Hiring several agents to acquire costly information: the model.

The setting of Cacciamani, Castiglioni and Gatti, "Online Information Acquisition: Hiring Multiple Agents"
(ICLR 2024).

A principal hires agents :math:`i = 0, \dots, n-1`.  Agent *i* picks an effort :math:`b_i \in \{0,
\dots, |B_i| - 1\}` at cost :math:`c_i(b_i) \ge 0`; a state :math:`\theta \sim \mu` is drawn, and
the agents observe a signal profile :math:`s = (s_0, \dots, s_{n-1})` drawn from a *joint* law
:math:`P(s \mid b, \theta)` (signals may be correlated given the state).  The principal takes an
action :math:`a` with utility :math:`u(a, \theta) \in [0, 1]` and pays agent *i* :math:`0 \le
\gamma_i \le M_i` (limited liability and a cap per agent; usually one common cap :math:`M`).  Everything the
mathematics needs is the joint

.. math::  q_b(s, \theta) = \mu(\theta) \, P(s \mid b, \theta).

A (correlated) mechanism is a triple :math:`(\phi, \pi, \gamma)`: a distribution :math:`\phi` over
recommended effort profiles, a decision :math:`\pi(a \mid b, \hat s)` and payments
:math:`\gamma_i(b, \hat s, \theta)` from the recommended profile, all reports and the realised
state.  Under obedience and truthful reporting the principal earns

.. math::  \sum_b \phi(b) \sum_{s, \theta} q_b(s, \theta)
           \Big[\sum_a \pi(a \mid b, s) u(a, \theta) - \sum_i \gamma_i(b, s, \theta)\Big].

The Bayes decision :math:`\arg\max_a \sum_\theta q_b(s, \theta) u(a, \theta)` maximises the first
term, and gives the value of information :math:`V(b) = \sum_s \max_a \sum_\theta q_b(s, \theta) u(a,
\theta)`.

This module holds the two data types, :class:`HiringInstance` and :class:`Mechanism`; incentive
audits live in :mod:`mechsim.hiring.audit`, optimal mechanisms in :mod:`mechsim.solvers.hiring_lp`.

Array conventions (``n`` agents, ``n_efforts = (|B_0|, ...)``, ``n_signals = (|S_0|, ...)``):

- ``prior``: ``(n_states,)``
- ``costs``: tuple of ``n`` arrays, ``costs[i]`` of shape ``(n_efforts[i],)``
- ``signal_law``, ``joint``: ``(*n_efforts, *n_signals, n_states)``
- ``utility``: ``(n_actions, n_states)``
- ``Mechanism.recommendation``: ``(*n_efforts,)``; ``payments``: ``(n_agents, *n_efforts,
  *n_signals, n_states)``; ``decision``: ``(*n_efforts, *n_signals, n_actions)``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.hiring.incentive_rows import csr_from_blocks, deviation_rows, truthful_rows
from mechsim.validation import (
    PROBABILITY_ATOL,
    as_generator,
    check_allocation,
    check_array,
    check_in_range,
    check_integer,
    check_nonnegative,
    check_positive,
    check_probability_vector,
    check_shape,
    check_stochastic,
)

__all__ = ["HiringInstance", "Mechanism", "bayes_decision", "value_of_information", "check_payment_caps"]

#: Most agents an instance can have: its signal law has ``2 n + 1`` axes and numpy arrays at most 64.
MAX_AGENTS = 31


def check_unit_interval(name: str, value) -> float:
    """A real number in ``[0, 1]`` (a string such as ``"0.5"`` is refused, not converted)."""
    x = check_nonnegative(name, value)
    if not x <= 1.0:
        raise InvalidInstanceError(f"{name}: expected a number in [0, 1], found {value!r}", argument=name)
    return x


def _type_name(value) -> str:
    return "None" if value is None else f"{type(value).__name__} {value!r}"[:120]


def check_profile(name: str, profile, n_efforts: Sequence[int]) -> tuple[int, ...]:
    """An effort profile: one integer ``0 <= b_i < n_efforts[i]`` per agent (negative indices do not wrap)."""
    n = len(n_efforts)
    if isinstance(profile, np.ndarray) and profile.ndim != 1 or isinstance(profile, (str, bytes)) \
            or not isinstance(profile, (Sequence, np.ndarray)):
        raise InvalidInstanceError(f"{name}: expected a sequence of {n} effort levels (one integer per agent), "
                                   f"found {_type_name(profile)}", argument=name)
    if len(profile) != n:
        raise InvalidInstanceError(f"{name}: expected {n} effort levels, found {len(profile)}", argument=name)
    return tuple(check_integer(f"{name}[{i}]", v, minimum=0, maximum=n_efforts[i] - 1)
                 for i, v in enumerate(profile))


def _check_joint(joint, utility, n_agents=None) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate a non-negative joint ``(*n_efforts, *n_signals, n_states)`` and a utility ``(n_actions, n_states)``."""
    q = check_array("joint", joint)
    if n_agents is None:
        n = (q.ndim - 1) // 2
        if q.ndim < 3 or q.ndim % 2 == 0:
            raise InvalidInstanceError(f"joint: expected an array of shape (*n_efforts, *n_signals, n_states) "
                                       f"(an odd number >= 3 of dimensions), found shape {q.shape}", argument="joint")
    else:
        n = check_integer("n_agents", n_agents, minimum=1, maximum=MAX_AGENTS)
        if q.ndim != 2 * n + 1:
            raise InvalidInstanceError(f"joint: expected {2 * n + 1} dimensions (*n_efforts, *n_signals, n_states) "
                                       f"for n_agents={n}, found shape {q.shape}", argument="joint")
    if q.size == 0:
        raise InvalidInstanceError(f"joint: expected at least one effort, signal and state per agent, found shape "
                                   f"{q.shape}", argument="joint")
    if q.min() < 0:
        raise InvalidInstanceError(f"joint: expected non-negative probabilities, found {q.min():.6g}", argument="joint")
    u = check_array("utility", utility, ndim=2)
    if u.shape[0] < 1 or u.shape[1] != q.shape[-1]:
        raise InvalidInstanceError(f"utility: expected shape (n_actions, n_states) with n_actions >= 1 and the "
                                   f"n_states = {q.shape[-1]} of joint, found shape {u.shape}", argument="utility")
    return q, u, n


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr = np.array(arr, dtype=float, copy=True)
    arr.setflags(write=False)
    return arr


class _LargestCap(float):
    """The largest of several per-agent payment caps, as a float that also remembers all of them.

    :attr:`HiringInstance.payment_cap` is this when the caps differ, so that code written for one common cap
    keeps working (it sees the largest cap), and so that handing ``payment_cap`` back to the constructor (as
    ``dataclasses.replace`` does) keeps the caps per agent.  Arithmetic gives plain floats.
    """

    def __new__(cls, value, per_agent=()):
        out = super().__new__(cls, value)
        out.per_agent = tuple(float(c) for c in per_agent)
        return out

    def __repr__(self):
        return float.__repr__(self)

    __str__ = __repr__


def check_payment_caps(name: str, value, n_agents: int) -> np.ndarray:
    """Payment caps ``M_i > 0``: one positive number for everybody, or a sequence of ``n_agents`` of them.

    Returns a read-only float array of shape ``(n_agents,)``.  A :attr:`HiringInstance.payment_cap` with
    per-agent caps gives those caps back.

    Raises
    ------
    InvalidInstanceError
        Naming ``name`` (``name[i]`` for a bad entry): not a finite positive number, or a sequence of the
        wrong length, dimension or type (strings, ``None`` entries).
    """
    if isinstance(value, _LargestCap) and value.per_agent:
        value = value.per_agent
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) \
            or isinstance(value, np.ndarray) and value.ndim == 0:
        caps = np.full(n_agents, check_positive(name, value))
    else:
        caps = check_array(name, value)
        if caps.ndim != 1 or caps.size != n_agents:
            raise InvalidInstanceError(f"{name}: expected a positive number or a sequence of {n_agents} positive "
                                       f"numbers (one cap per agent), found shape {caps.shape}", argument=name)
        bad = np.flatnonzero(~(caps > 0))
        if bad.size:
            raise InvalidInstanceError(f"{name}[{bad[0]}]: expected a positive number (agent {bad[0]}'s payment "
                                       f"cap), found {float(caps[bad[0]])!r}", argument=name)
    return _readonly(caps)


def _cap_value(caps: np.ndarray):
    """What :attr:`HiringInstance.payment_cap` holds for ``caps``: the common cap, or the largest one."""
    top = float(caps.max())
    return top if np.all(caps == top) else _LargestCap(top, caps)


def _per_agent(name: str, value, n_agents: int, minimum: int) -> tuple[int, ...]:
    """An int (same for every agent) or a sequence of ``n_agents`` ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (check_integer(name, value, minimum=minimum),) * n_agents
    if isinstance(value, Sequence) or isinstance(value, np.ndarray):
        values = tuple(value)
        if len(values) != n_agents:
            raise InvalidInstanceError(
                f"{name}: expected an integer or a sequence of {n_agents} integers "
                "(one per agent), "
                f"found a sequence of length {len(values)}",
                argument=name,
            )
        return tuple(
            check_integer(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(values)
        )
    raise InvalidInstanceError(
        f"{name}: expected an integer or a sequence of {n_agents} integers, "
        f"found {type(value).__name__}",
        argument=name,
    )


def value_of_information(joint: np.ndarray, utility: np.ndarray, n_agents: int) -> np.ndarray:
    r"""Value of information :math:`V(b) = \sum_s \max_a \sum_\theta q_b(s,\theta) u(a,\theta)`.

    Parameters
    ----------
    joint : ndarray, shape ``(*n_efforts, *n_signals, n_states)``
        :math:`q_b(s, \theta)` (need not be normalised; estimates are accepted).
    utility : ndarray, shape ``(n_actions, n_states)``
    n_agents : int

    Returns
    -------
    ndarray, shape ``(*n_efforts,)``

    Raises
    ------
    InvalidInstanceError
        ``joint`` is not a non-negative array with ``2 n_agents + 1`` axes, or ``utility`` does not have one
        column per state.
    """
    n_agents = check_integer("n_agents", n_agents, minimum=1, maximum=MAX_AGENTS)
    return _value_of_information(*_check_joint(joint, utility, n_agents))


def _value_of_information(joint: np.ndarray, utility: np.ndarray, n_agents: int) -> np.ndarray:
    """:func:`value_of_information` of validated arrays (the inner loops' version)."""
    expected = joint @ utility.T  # (*n_efforts, *n_signals, n_actions)
    best = expected.max(axis=-1)
    return best.sum(axis=tuple(range(n_agents, 2 * n_agents)))


def bayes_decision(joint: np.ndarray, utility: np.ndarray) -> np.ndarray:
    r"""Deterministic Bayes decision as a one-hot distribution over actions.

    For every profile ``b`` and report profile ``s`` the action maximising :math:`\sum_\theta
    q_b(s,\theta) u(a,\theta)` gets probability one (ties: lowest action index). Zero-probability
    report profiles get the prior-optimal action of that zero column, i.e. action 0 when every
    action scores 0.

    Returns
    -------
    ndarray, shape ``(*n_efforts, *n_signals, n_actions)``

    Raises
    ------
    InvalidInstanceError
        As :func:`value_of_information`.
    """
    joint, utility, _ = _check_joint(joint, utility)
    return _bayes_decision(joint, utility)


def _bayes_decision(joint: np.ndarray, utility: np.ndarray) -> np.ndarray:
    """:func:`bayes_decision` of validated arrays (the inner loops' version)."""
    expected = joint @ utility.T
    best = expected.argmax(axis=-1)
    decision = np.zeros(expected.shape)
    np.put_along_axis(decision, best[..., None], 1.0, axis=-1)
    return decision


@dataclass(frozen=True, eq=False)
class HiringInstance:
    r"""A hiring problem: prior, effort costs, joint signal law, utility and payment caps.

    Parameters
    ----------
    prior : array_like, shape ``(n_states,)``
        Prior :math:`\mu` over states (sums to 1 within 1e-9).
    costs : sequence of ``n_agents`` array_like
        ``costs[i]`` has shape ``(n_efforts_i,)``: non-negative effort costs :math:`c_i(b_i)`.
    signal_law : array_like, shape ``(*n_efforts, *n_signals, n_states)``
        :math:`P(s \mid b, \theta)`; every ``(b, theta)`` slice sums to 1 over the signal axes.
    utility : array_like, shape ``(n_actions, n_states)``
        :math:`u(a, \theta) \in [0, 1]`.
    payment_cap : float or sequence of ``n_agents`` floats, default 1.0
        Limited-liability caps: one cap ``M > 0`` for everybody (payments lie in ``[0, M]``), or one cap
        ``M_i > 0`` per agent (agent *i*'s payments lie in ``[0, M_i]``).

    Attributes
    ----------
    payment_caps : ndarray, shape ``(n_agents,)``
        The cap of every agent, :math:`M_i` (read-only; all equal for a common cap).
    payment_cap : float
        The common cap when there is one (exactly the number given), else the largest cap
        :math:`\max_i M_i`, so that code written for one cap sees a bound on every payment.  With per-agent caps
        it is a ``float`` that also remembers them: ``HiringInstance(..., payment_cap=instance.payment_cap)``
        and ``dataclasses.replace`` keep the caps per agent (arithmetic on it gives a plain float).

    All arrays are copied and made read-only.  Raises :class:`~mechsim.errors.InvalidInstanceError`
    (a ``ValueError``) naming the argument on any inconsistency.

    Examples
    --------
    >>> inst = HiringInstance.random(2, 2, 2, 2, 2, correlation=0.5, seed=0)
    >>> inst.n_agents, inst.n_efforts, inst.joint.shape
    (2, (2, 2), (2, 2, 2, 2, 2))
    >>> capped = HiringInstance(inst.prior, inst.costs, inst.signal_law, inst.utility, payment_cap=[0.5, 1.0])
    >>> capped.payment_caps.tolist(), capped.payment_cap
    ([0.5, 1.0], 1.0)
    """

    prior: np.ndarray
    costs: tuple
    signal_law: np.ndarray
    utility: np.ndarray
    payment_cap: float = 1.0
    payment_caps: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        prior = check_probability_vector("prior", self.prior)
        if isinstance(self.costs, (str, bytes)) or not isinstance(
            self.costs, (Sequence, np.ndarray)
        ):
            raise InvalidInstanceError(
                "costs: expected a sequence with one 1-D cost array per agent, "
                f"found {type(self.costs).__name__}",
                argument="costs",
            )
        n = len(self.costs)
        if n < 1:
            raise InvalidInstanceError(
                "costs: expected at least one agent, found an empty sequence", argument="costs"
            )
        costs = []
        for i, c in enumerate(self.costs):
            arr = check_array(f"costs[{i}]", c, ndim=1)
            if arr.size < 1:
                raise InvalidInstanceError(
                    f"costs[{i}]: expected at least one effort level, found none", argument="costs"
                )
            check_in_range(f"costs[{i}]", arr, low=0.0)
            costs.append(_readonly(arr))
        n_efforts = tuple(c.size for c in costs)
        law = check_array("signal_law", self.signal_law)
        if law.ndim != 2 * n + 1:
            raise InvalidInstanceError(
                f"signal_law: expected {2 * n + 1} dimensions (*n_efforts, *n_signals, n_states) "
                f"for {n} "
                f"agents, found shape {law.shape}",
                argument="signal_law",
            )
        check_shape("signal_law", law, (*n_efforts, *([None] * n), prior.size))
        check_stochastic("signal_law", law, axis=tuple(range(n, 2 * n)))
        utility = check_array("utility", self.utility, ndim=2, shape=(None, prior.size))
        if utility.shape[0] < 1:
            raise InvalidInstanceError(
                "utility: expected at least one action row, found none", argument="utility"
            )
        check_in_range("utility", utility, low=0.0, high=1.0)
        caps = check_payment_caps("payment_cap", self.payment_cap, n)
        object.__setattr__(self, "prior", _readonly(prior))
        object.__setattr__(self, "costs", tuple(costs))
        object.__setattr__(self, "signal_law", _readonly(law))
        object.__setattr__(self, "utility", _readonly(utility))
        object.__setattr__(self, "payment_cap", _cap_value(caps))
        object.__setattr__(self, "payment_caps", caps)

    # ------------------------------------------------------------------ sizes
    @property
    def n_agents(self) -> int:
        """Number of agents ``n``."""
        return len(self.costs)

    @property
    def n_efforts(self) -> tuple[int, ...]:
        """Effort levels per agent ``(|B_0|, ..., |B_{n-1}|)``."""
        return tuple(c.size for c in self.costs)

    @property
    def n_signals(self) -> tuple[int, ...]:
        """Signals per agent ``(|S_0|, ..., |S_{n-1}|)``."""
        n = self.n_agents
        return tuple(self.signal_law.shape[n : 2 * n])

    @property
    def n_states(self) -> int:
        """Number of states ``|Theta|``."""
        return self.prior.size

    @property
    def n_actions(self) -> int:
        """Number of principal actions."""
        return self.utility.shape[0]

    @property
    def n_profiles(self) -> int:
        """Number of effort profiles ``|B| = prod_i |B_i|``."""
        return int(np.prod(self.n_efforts))

    @property
    def has_common_cap(self) -> bool:
        """Whether every agent has the same payment cap (then :attr:`payment_cap` is that cap)."""
        return bool(np.all(self.payment_caps == self.payment_caps[0]))

    # --------------------------------------------------------------- derived
    @cached_property
    def joint(self) -> np.ndarray:
        r""":math:`q_b(s, \theta) = \mu(\theta) P(s \mid b, \theta)`.

        Shape ``(*n_efforts, *n_signals, n_states)``.
        """
        return _readonly(self.signal_law * self.prior)

    @cached_property
    def value_of_information(self) -> np.ndarray:
        r""":math:`V(b) = \sum_s \max_a \sum_\theta q_b(s,\theta) u(a,\theta)`, by profile."""
        return _readonly(_value_of_information(self.joint, self.utility, self.n_agents))

    def bayes_decision(self) -> np.ndarray:
        """The one-hot Bayes decision, ``(*n_efforts, *n_signals, n_actions)``."""
        return _bayes_decision(self.joint, self.utility)

    def marginal(self, i: int) -> np.ndarray:
        r"""Agent *i*'s signal marginal :math:`P_i(s_i \mid b, \theta)`.

        Returns
        -------
        ndarray, shape ``(*n_efforts, n_signals[i], n_states)``
            Depends on the whole profile ``b`` in general; see :meth:`own_marginal`.
        """
        i = self._agent(i)
        n = self.n_agents
        others = tuple(n + j for j in range(n) if j != i)
        return self.signal_law.sum(axis=others)

    def own_marginal(self, i: int, atol: float = PROBABILITY_ATOL) -> np.ndarray:
        r"""Agent *i*'s marginal as a function of its own effort, :math:`P_i(s_i \mid b_i, \theta)`.

        Returns
        -------
        ndarray, shape ``(n_efforts[i], n_signals[i], n_states)``

        Raises
        ------
        InvalidInstanceError
            If the marginal depends on other agents' efforts by more than ``atol``.
        """
        i = self._agent(i)
        atol = check_nonnegative("atol", atol)
        marg = np.moveaxis(self.marginal(i), i, 0)
        flat = marg.reshape(marg.shape[0], -1, *marg.shape[-2:])
        dev = np.abs(flat - flat[:, :1]).max(initial=0.0)
        if dev > atol:
            raise InvalidInstanceError(
                f"signal_law: expected agent {i}'s signal marginal to depend on its own effort "
                "only "
                f"(within {atol:g}), found a dependence on other agents' efforts of {dev:.3g}",
                argument="signal_law",
            )
        return flat[:, 0]

    @cached_property
    def has_own_effort_marginals(self) -> bool:
        """Whether each agent's signal marginal depends on its own effort only (online model)."""
        try:
            for i in range(self.n_agents):
                self.own_marginal(i)
        except InvalidInstanceError:
            return False
        return True

    def cost_differences(self, i: int) -> np.ndarray:
        """``C_i[b, b'] = c_i(b) - c_i(b')``, shape ``(n_efforts[i], n_efforts[i])``."""
        c = self.costs[self._agent(i)]
        return c[:, None] - c[None, :]

    def _agent(self, i, name: str = "i") -> int:
        return check_integer(name, i, minimum=0, maximum=self.n_agents - 1)

    # ------------------------------------------------------------ equality
    def __eq__(self, other):
        if not isinstance(other, HiringInstance):
            return NotImplemented
        return (
            self.n_efforts == other.n_efforts
            and np.array_equal(self.payment_caps, other.payment_caps)
            and np.array_equal(self.prior, other.prior)
            and all(np.array_equal(a, b) for a, b in zip(self.costs, other.costs))
            and self.signal_law.shape == other.signal_law.shape
            and np.array_equal(self.signal_law, other.signal_law)
            and np.array_equal(self.utility, other.utility)
        )

    __hash__ = None

    def __repr__(self):
        return (
            f"HiringInstance(n_agents={self.n_agents}, n_efforts={self.n_efforts}, "
            f"n_signals={self.n_signals}, n_states={self.n_states}, n_actions={self.n_actions}, "
            + (f"payment_cap={self.payment_cap:g})" if self.has_common_cap
               else f"payment_caps=({', '.join(f'{c:g}' for c in self.payment_caps)}))")
        )

    # ------------------------------------------------------------ permutation
    def permute_agents(self, order: Sequence[int]) -> "HiringInstance":
        """The same instance with agents relabelled: new agent ``j`` is old agent ``order[j]``."""
        n = self.n_agents
        order = [
            check_integer(f"order[{j}]", o, minimum=0, maximum=n - 1) for j, o in enumerate(order)
        ]
        if sorted(order) != list(range(n)):
            raise InvalidInstanceError(
                f"order: expected a permutation of 0..{n - 1}, found {order}", argument="order"
            )
        axes = [*order, *(n + o for o in order), 2 * n]
        return HiringInstance(
            self.prior,
            [self.costs[o] for o in order],
            np.transpose(self.signal_law, axes),
            self.utility,
            self.payment_cap if self.has_common_cap else self.payment_caps[order],
        )

    def scale_costs(self, factor: float) -> "HiringInstance":
        """The same instance with every effort cost multiplied by ``factor >= 0``.

        Lower costs make hiring worth its price more often (see :meth:`random`); scaling the costs and
        the inducing rules together keeps every effort inducible, with the margin scaled by ``factor``.
        """
        factor = check_nonnegative("factor", factor)
        return HiringInstance(self.prior, [c * factor for c in self.costs], self.signal_law, self.utility,
                              self.payment_cap if self.has_common_cap else self.payment_caps)

    # ------------------------------------------------------------ generators
    @classmethod
    def noisy_bits(cls, n_agents: int = 2, accuracy: Sequence[float] = (0.52, 0.95),
                   costs: Sequence[float] = (0.0, 0.08), payment_cap=1.0) -> "HiringInstance":
        r"""Agents that each observe a noisy copy of one bit of the state; the principal guesses the state.

        The state :math:`\theta \in \{0, \dots, 2^n - 1\}` is uniform; its binary digits (agent 0's the
        most significant) are independent fair bits.  Agent *i* at effort *e* sees its own bit correctly
        with probability ``accuracy[e]`` (independently of the others), at cost ``costs[e]``.  The
        principal's action is a guess of the state, :math:`u(a, \theta) = [a = \theta]`.  Signals are
        conditionally independent, so correlated and uncorrelated mechanisms are worth the same.

        Parameters
        ----------
        n_agents : int
        accuracy : sequence of float in [0, 1]
            One entry per effort level.
        costs : sequence of float
            One entry per effort level.
        payment_cap : float or sequence of ``n_agents`` floats
            The common cap, or one cap per agent (as in :class:`HiringInstance`).
        """
        n = check_integer("n_agents", n_agents, minimum=1, maximum=MAX_AGENTS)
        caps = check_payment_caps("payment_cap", payment_cap, n)
        acc = check_array("accuracy", accuracy, ndim=1)
        if acc.size < 1:
            raise InvalidInstanceError("accuracy: expected at least one effort level, found an empty array",
                                       argument="accuracy")
        check_in_range("accuracy", acc, 0.0, 1.0)
        cost = check_array("costs", costs, shape=(acc.size,))
        n_states = 2 ** n
        shape = (acc.size,) * n + (2,) * n + (n_states,)
        # the law and its running product, and the (n_states, n_states) utility
        check_allocation("n_agents", 8 * (2 * acc.size ** n * 4 ** n * n_states + n_states ** 2),
                         f"a signal law of shape {shape} and a ({n_states}, {n_states}) utility")
        bits = (np.arange(n_states)[None, :] >> (n - 1 - np.arange(n))[:, None]) & 1        # (n, n_states)
        law = np.ones([1] * (2 * n + 1))
        for i in range(n):
            # agent i's factor (effort, signal, state): acc[e] if the signal is the state's bit i, else 1 - acc[e]
            hit = np.arange(2)[:, None] == bits[i][None, :]                                 # (2, n_states)
            factor = np.where(hit[None], acc[:, None, None], 1 - acc[:, None, None])
            place = [1] * (2 * n + 1)
            place[i], place[n + i], place[2 * n] = factor.shape
            law = law * factor.reshape(place)
        return cls(np.full(n_states, 1.0 / n_states), [cost] * n, law, np.eye(n_states), _cap_value(caps))

    @classmethod
    def random(
        cls,
        n_agents: int,
        n_efforts,
        n_signals,
        n_states: int,
        n_actions: int,
        correlation: float = 0.0,
        seed=None,
        *,
        payment_cap=1.0,
        cost_margin: float = 0.25,
        min_informativeness: float = 0.3,
        max_informativeness: float = 1.0,
        concentration: float = 0.5,
        alignment: float = 3.0,
        cost_level: float = 1.0,
    ) -> "HiringInstance":
        r"""Draw a random instance whose signals get more informative with effort.

        Agent *i*'s marginal at effort *k* is a Blackwell garbling of its marginal at effort *k+1*:

        .. math::  P_i(\cdot \mid k, \theta) = (1 - w_k)\, U + w_k\, D_i(\cdot \mid \theta),

        with :math:`U` uniform over signals, informativeness :math:`w_k` evenly spaced from
        ``min_informativeness`` to ``max_informativeness``, and
        :math:`D_i(\cdot\mid\theta) \sim \text{Dirichlet}(\alpha + a\,[s \leftrightarrow \theta])`,
        where each signal is aligned with one state (``s mod n_states``) and ``alignment`` :math:`a`
        boosts it, so that different states leave different traces.

        Costs: :math:`c_i(0) = 0`, and the other costs are random among those under which every
        effort can be made the agent's unique best response (exerting it and reporting truthfully
        beats every other effort and reporting map, with payments in ``[0, M_i]``) with a margin of at
        least ``cost_margin`` times the best margin any cost vector allows.  This is computed with two
        small LPs per agent (``scipy.optimize.linprog``); the draw is the mixture, with a uniform weight, of the
        margin-maximising costs and a random vertex of that set.  When no cost vector separates the
        efforts (a single signal or state), costs are increasing random numbers below ``0.1 M_i``.
        Finally all costs are multiplied by ``cost_level``; scaling the costs and the separating
        rules together keeps every effort inducible (with the margin scaled by ``cost_level``), and
        lower costs make hiring worth its price more often: with the default ``cost_level=1`` the
        principal's best choice on small instances is often to hire nobody.

        Signals are coupled across agents by mixing the product of the marginals with their
        comonotone coupling (``s_i = F_i^{-1}(U)`` for one common uniform ``U``):

        .. math::  P(s \mid b, \theta) = (1-\kappa) \prod_i P_i(s_i \mid b_i, \theta)
                   + \kappa\, \mathrm{Comon}(P_0, \dots, P_{n-1})(s),

        which preserves every marginal, so ``correlation=0`` (:math:`\kappa`) gives conditionally
        independent signals, and every agent's marginal depends only on its own effort.

        The utility is half uniform noise, half a reward for the action matching the state
        (``a mod n_states == theta``), so information is worth acquiring.

        Parameters
        ----------
        n_agents : int
        n_efforts, n_signals : int or sequence of int
            Per agent (an int means the same for everybody), each ``>= 1``.
        n_states, n_actions : int
        correlation : float in [0, 1]
            Weight :math:`\kappa` of the comonotone coupling.
        seed : None, int or numpy.random.Generator
        payment_cap : float or sequence of ``n_agents`` floats
            ``M``, or one cap ``M_i`` per agent (which also bounds the rules that the cost draw of agent *i*
            may use).  The draws do not depend on the form: ``payment_cap=M`` and ``[M] * n_agents`` give the
            same instance.
        cost_margin : float in [0, 1]
            See above; 1 gives the margin-maximising costs.
        min_informativeness, max_informativeness : float
            :math:`w_0` and :math:`w_{K-1}` with ``0 < min <= max <= 1``.
        concentration, alignment : float
            Dirichlet base parameter and the extra weight on each state's aligned signal.
        cost_level : float in (0, 1]
            Multiplies every cost (see above).
        """
        n = check_integer("n_agents", n_agents, minimum=1, maximum=MAX_AGENTS)
        efforts = _per_agent("n_efforts", n_efforts, n, 1)
        signals = _per_agent("n_signals", n_signals, n, 1)
        n_states = check_integer("n_states", n_states, minimum=1)
        n_actions = check_integer("n_actions", n_actions, minimum=1)
        correlation = check_unit_interval("correlation", correlation)
        cost_margin = check_unit_interval("cost_margin", cost_margin)
        min_informativeness = check_positive("min_informativeness", min_informativeness)
        max_informativeness = check_unit_interval("max_informativeness", max_informativeness)
        if not min_informativeness <= max_informativeness:
            raise InvalidInstanceError(
                f"max_informativeness: expected a number in [min_informativeness, 1] = [{min_informativeness:g}, 1], "
                f"found {max_informativeness!r}", argument="max_informativeness")
        concentration = check_positive("concentration", concentration)
        alignment = check_nonnegative("alignment", alignment)
        cost_level = check_unit_interval("cost_level", cost_level)
        check_positive("cost_level", cost_level)
        caps = check_payment_caps("payment_cap", payment_cap, n)
        _check_random_sizes(efforts, signals, n_states, n_actions)
        rng = as_generator(seed)

        prior = rng.dirichlet(np.full(n_states, 2.0))
        # Half noise, half "match the state": information is worth acquiring.
        matches = (np.arange(n_actions)[:, None] % n_states) == np.arange(n_states)[None, :]
        utility = 0.5 * rng.uniform(0.0, 1.0, size=(n_actions, n_states)) + 0.5 * matches
        marginals, costs = [], []
        for i in range(n):
            k_i, m_i = efforts[i], signals[i]
            w = (
                np.linspace(min_informativeness, max_informativeness, k_i)
                if k_i > 1
                else np.array([max_informativeness])
            )
            aligned = (
                (np.arange(m_i)[:, None] % n_states == np.arange(n_states)[None, :])
                if m_i >= n_states
                else (np.arange(n_states)[None, :] % m_i == np.arange(m_i)[:, None])
            )
            informative = np.stack(
                [rng.dirichlet(concentration + alignment * aligned[:, t]) for t in range(n_states)],
                axis=1,
            )  # (m_i, n_states)
            marg = (1 - w)[:, None, None] / m_i + w[:, None, None] * informative[None]
            marginals.append(marg)
            costs.append(cost_level * _inducible_costs(marg * prior, float(caps[i]), float(cost_margin), rng))
        law = _couple(marginals, efforts, signals, n_states, float(correlation))
        return cls(prior, costs, law, utility, _cap_value(caps))


def _inducible_lp_size(K: int, S: int, T: int) -> tuple[int, int]:
    """Rows and columns of the dense matrix of :func:`_inducible_costs` (``K`` efforts, ``S`` signals, ``T`` states)."""
    if K == 1:
        return 0, 0
    pairs = K * (K - 1)
    return pairs + pairs * S * S + K * S * (S - 1), K + K * S * T + pairs * S + 1


def _check_random_sizes(efforts, signals, n_states: int, n_actions: int) -> None:
    """Refuse, before drawing anything, sizes whose arrays do not fit in memory (:func:`check_allocation`)."""
    check_allocation("n_actions and n_states", 8 * 3 * n_actions * n_states, f"a ({n_actions}, {n_states}) utility")
    entries = int(np.prod([*efforts, *signals, n_states], dtype=object))
    # the product of the marginals, the comonotone coupling, its bounds and the mixture: about six copies
    check_allocation("n_efforts, n_signals and n_states", 8 * 6 * entries,
                     f"a signal law of shape {(*efforts, *signals, n_states)}")
    for K, S in zip(efforts, signals):
        rows, cols = _inducible_lp_size(K, S, n_states)
        check_allocation("n_efforts, n_signals and n_states", 8 * (rows * cols + K * S * n_states),
                         f"the dense ({rows}, {cols}) matrix of the cost sampler's LP for {K} efforts and {S} signals")


def _inducible_costs(
    q: np.ndarray, cap: float, keep: float, rng: np.random.Generator
) -> np.ndarray:
    """Random costs under which every effort is inducible with margin >= ``keep`` x the best margin.

    ``q[k]`` is the agent's joint ``mu(theta) P(s | k, theta)``, shape ``(K, S, T)``.  Variables of
    the LP: costs ``c`` (``c_0 = 0``), one scoring rule ``g_k in [0, M]`` per effort, best-misreport
    values ``z[k, k', s]`` and the common margin ``iota``; the rows of
    :mod:`mechsim.hiring.incentive_rows` (those of
    :func:`mechsim.solvers.hiring_lp.inducing_scoring_rules`) with the costs moved to the left-hand side.
    The matrix is handed to ``scipy.optimize.linprog`` dense, as it always was, so that the draws (and every
    random instance) stay the same.
    """
    from scipy.optimize import linprog  # deferred: importing scipy.optimize takes a noticeable time

    K, S, T = q.shape
    if K == 1:
        return np.zeros(1)
    G = S * T
    g0, z0 = K, K + K * G
    n_pairs = K * (K - 1)
    n_cols = z0 + n_pairs * S + 1
    iota = n_cols - 1
    g_idx = g0 + np.arange(K * G).reshape(K, S, T)
    z_idx = z0 + np.arange(n_pairs * S).reshape(K, K - 1, S)
    blocks = []
    for k in range(K):
        deviations = [p for p in range(K) if p != k]
        rows = deviation_rows(q, k, deviations, g_idx[k], z_idx[k], iota)
        for p, ((cols, vals), misreport) in zip(deviations, rows):
            # the costs are unknowns here: c(k) - c(k') moves to the left-hand side
            blocks.append((np.concatenate([cols, [[k, p]]], axis=1),
                           np.concatenate([vals, [[-1.0, 1.0]]], axis=1)))
            blocks.append(misreport)
    blocks += [truthful_rows(q[k], g_idx[k], iota) for k in range(K)]
    A = -csr_from_blocks(blocks, n_cols).toarray()
    bounds = (
        [(0.0, 0.0)]
        + [(0.0, None)] * (K - 1)
        + [(0.0, cap)] * (K * G)
        + [(0.0, None)] * (n_pairs * S)
        + [(None, cap)]
    )
    objective = np.zeros(n_cols)
    objective[iota] = -1.0
    best = linprog(objective, A_ub=A, b_ub=np.zeros(A.shape[0]), bounds=bounds, method="highs")
    if best.status != 0 or -best.fun <= 1e-9:
        return np.concatenate(
            [[0.0], np.cumsum(np.sort(rng.uniform(0.0, 0.1 * cap / (K - 1), K - 1)))]
        )
    centre = best.x[:K]
    bounds[-1] = (keep * -best.fun, cap)
    direction = np.zeros(n_cols)
    direction[:K] = rng.standard_normal(K)
    vertex = linprog(direction, A_ub=A, b_ub=np.zeros(A.shape[0]), bounds=bounds, method="highs")
    corner = vertex.x[:K] if vertex.status == 0 else centre
    u = rng.uniform()
    return np.maximum(u * centre + (1 - u) * corner, 0.0)


def _couple(marginals, efforts, signals, n_states, kappa) -> np.ndarray:
    """``(1-kappa) * product + kappa * comonotone`` of per-agent marginals.

    ``marginals[i]`` has shape ``(n_efforts_i, n_signals_i, n_states)``.
    """
    n = len(marginals)
    ndim = 2 * n + 1

    def place(arr, i):  # put agent i's (effort, signal, state) axes at positions (i, n+i, 2n)
        shape = [1] * ndim
        shape[i], shape[n + i], shape[2 * n] = arr.shape
        return arr.reshape(shape)

    product = np.ones([1] * ndim)
    for i, m in enumerate(marginals):
        product = product * place(m, i)
    product = np.broadcast_to(product, (*efforts, *signals, n_states))
    if kappa == 0.0:
        return np.array(product)
    upper = lower = None
    for i, m in enumerate(marginals):
        hi = np.cumsum(m, axis=1)
        lo = hi - m
        hi, lo = place(hi, i), place(lo, i)
        upper = hi if upper is None else np.minimum(upper, hi)
        lower = lo if lower is None else np.maximum(lower, lo)
    # Mass of the comonotone coupling on s: length of the intersection of the quantile intervals.
    comonotone = np.maximum(upper - lower, 0.0)
    comonotone = np.broadcast_to(comonotone, product.shape)
    return (1 - kappa) * product + kappa * comonotone


@dataclass(frozen=True, eq=False)
class Mechanism:
    r"""A correlated mechanism :math:`(\phi, \pi, \gamma)` and its value.

    Parameters
    ----------
    recommendation : array_like, shape ``(*n_efforts,)``
        :math:`\phi(b)`, a distribution over recommended effort profiles.
    payments : array_like, shape ``(n_agents, *n_efforts, *n_signals, n_states)``
        :math:`\gamma_i(b, \hat s, \theta)`: payment to agent *i* given the recommended profile, all
        reports and the state.  Entries for profiles with :math:`\phi(b) = 0` are never used.
    decision : array_like, shape ``(*n_efforts, *n_signals, n_actions)``
        :math:`\pi(a \mid b, \hat s)`, a distribution over actions.
    value : float
        The principal's expected utility under obedience and truthful reporting, as claimed by
        whoever built the mechanism; :func:`mechsim.hiring.audit.evaluate_mechanism` recomputes it.

    Shapes must agree among themselves; :meth:`check_compatible` checks them against an instance.
    Payments may be any finite numbers (an audit can examine mechanisms outside the
    limited-liability set); :meth:`respects_limits` says whether agent *i*'s lie in ``[0, M_i]``.
    Uncorrelated mechanisms (a point-mass recommendation, payments that depend on the agent's own
    report only) are built with :meth:`uncorrelated`.
    """

    recommendation: np.ndarray
    payments: np.ndarray
    decision: np.ndarray
    value: float

    def __post_init__(self):
        rec = check_array("recommendation", self.recommendation)
        n = rec.ndim
        if n < 1:
            raise InvalidInstanceError(
                "recommendation: expected an array with one axis per agent, found a scalar",
                argument="recommendation",
            )
        if rec.size == 0 or rec.min() < 0:
            raise InvalidInstanceError(
                "recommendation: expected non-negative probabilities, found "
                + ("an empty array" if rec.size == 0 else f"minimum {rec.min():.6g}"),
                argument="recommendation",
            )
        if abs(rec.sum() - 1.0) > PROBABILITY_ATOL:
            raise InvalidInstanceError(
                f"recommendation: expected probabilities summing to 1 within {PROBABILITY_ATOL:g}, "
                f"found sum {rec.sum():.12g}",
                argument="recommendation",
            )
        pay = check_array("payments", self.payments)
        if pay.ndim != 2 * n + 2:
            raise InvalidInstanceError(
                f"payments: expected {2 * n + 2} dimensions "
                "(n_agents, *n_efforts, *n_signals, n_states) "
                f"for {n} agents (one axis each in recommendation, shape {rec.shape}), found shape {pay.shape}",
                argument="payments",
            )
        check_shape("payments", pay, (n, *rec.shape, *([None] * (n + 1))))
        n_signals = pay.shape[n + 1 : 2 * n + 1]
        dec = check_array("decision", self.decision)
        check_shape("decision", dec, (*rec.shape, *n_signals, None))
        check_stochastic("decision", dec, axis=-1)
        value = check_array("value", self.value, ndim=0)
        object.__setattr__(self, "recommendation", _readonly(rec))
        object.__setattr__(self, "payments", _readonly(pay))
        object.__setattr__(self, "decision", _readonly(dec))
        object.__setattr__(self, "value", float(value))

    @property
    def n_agents(self) -> int:
        return self.recommendation.ndim

    def check_compatible(self, instance: HiringInstance) -> "Mechanism":
        """Raise :class:`~mechsim.errors.InvalidInstanceError` unless the shapes fit."""
        n = check_hiring_instance("instance", instance).n_agents
        if self.n_agents != n:
            raise InvalidInstanceError(
                f"mechanism: expected a mechanism for {n} agents, found one for {self.n_agents}",
                argument="mechanism",
            )
        check_shape("mechanism.recommendation", self.recommendation, instance.n_efforts)
        check_shape(
            "mechanism.payments",
            self.payments,
            (n, *instance.n_efforts, *instance.n_signals, instance.n_states),
        )
        check_shape(
            "mechanism.decision",
            self.decision,
            (*instance.n_efforts, *instance.n_signals, instance.n_actions),
        )
        return self

    def respects_limits(self, instance: HiringInstance, atol: float = 1e-9) -> bool:
        """Whether agent *i*'s payments on recommended profiles lie in ``[0, M_i]``, for every *i* (within ``atol``).

        :attr:`IncentiveAudit.limit_excess <mechsim.hiring.audit.IncentiveAudit>` says by how much and for whom
        they do not.
        """
        self.check_compatible(instance)
        atol = check_nonnegative("atol", atol)
        return bool(limit_excess(instance, self)[0] <= atol)

    @property
    def support(self) -> np.ndarray:
        """Recommended profiles with positive probability, shape ``(k, n_agents)``."""
        return np.argwhere(self.recommendation > 0)

    @property
    def is_deterministic(self) -> bool:
        """Whether the recommendation is a point mass."""
        return bool(np.count_nonzero(self.recommendation) == 1)

    def __eq__(self, other):
        if not isinstance(other, Mechanism):
            return NotImplemented
        return self.value == other.value and all(
            a.shape == b.shape and np.array_equal(a, b)
            for a, b in (
                (self.recommendation, other.recommendation),
                (self.payments, other.payments),
                (self.decision, other.decision),
            )
        )

    __hash__ = None

    def __repr__(self):
        return (
            f"Mechanism(n_agents={self.n_agents}, n_efforts={self.recommendation.shape}, "
            f"support={len(self.support)} profile(s), value={self.value:.6g})"
        )

    # -------------------------------------------------------------- builders
    @classmethod
    def build(
        cls, instance: HiringInstance, recommendation, payments, decision=None
    ) -> "Mechanism":
        """A mechanism for ``instance`` whose ``value`` is computed exactly.

        ``decision=None`` uses the Bayes decision (the principal's best action given the reports).
        """
        instance = check_hiring_instance("instance", instance)
        n = instance.n_agents
        rec = check_array("recommendation", recommendation, shape=instance.n_efforts)
        pay = check_array("payments", payments,
                          shape=(n, *instance.n_efforts, *instance.n_signals, instance.n_states))
        dec = instance.bayes_decision() if decision is None else check_array(
            "decision", decision, shape=(*instance.n_efforts, *instance.n_signals, instance.n_actions))
        value = _principal_value(instance, rec, pay, dec)
        return cls(rec, pay, dec, value).check_compatible(instance)

    @classmethod
    def uncorrelated(
        cls, instance: HiringInstance, profile: Sequence[int], scoring_rules, decision=None
    ) -> "Mechanism":
        r"""Recommend ``profile`` for sure and pay agent *i* with its own scoring rule.

        Parameters
        ----------
        profile : sequence of int
            The recommended effort profile ``b``.
        scoring_rules : sequence of ``n_agents`` array_like
            ``scoring_rules[i]`` has shape ``(n_signals[i], n_states)``: :math:`g_i(\hat s_i,
            \theta)`, paid whatever the others report.  The same rule is used at every profile.
        """
        instance = check_hiring_instance("instance", instance)
        n = instance.n_agents
        b = check_profile("profile", profile, instance.n_efforts)
        if isinstance(scoring_rules, (str, bytes)) or not isinstance(scoring_rules, (Sequence, np.ndarray)) \
                or isinstance(scoring_rules, np.ndarray) and scoring_rules.ndim == 0:
            raise InvalidInstanceError(f"scoring_rules: expected {n} arrays (one per agent), found "
                                       f"{_type_name(scoring_rules)}", argument="scoring_rules")
        if len(scoring_rules) != n:
            raise InvalidInstanceError(
                f"scoring_rules: expected {n} arrays (one per agent), found {len(scoring_rules)}",
                argument="scoring_rules",
            )
        rec = np.zeros(instance.n_efforts)
        rec[b] = 1.0
        payments = np.zeros((n, *instance.n_efforts, *instance.n_signals, instance.n_states))
        for i, rule in enumerate(scoring_rules):
            g = check_array(
                f"scoring_rules[{i}]", rule, shape=(instance.n_signals[i], instance.n_states)
            )
            shape = [1] * (2 * n + 1)
            shape[n + i], shape[2 * n] = g.shape
            payments[i] = g.reshape(shape)
        return cls.build(instance, rec, payments, decision)

    def with_flat_fee(self, instance: HiringInstance, agent: int) -> "Mechanism":
        """The same mechanism, except that ``agent`` is paid a flat fee per recommended profile.

        The fee is the agent's expected payment under obedience and truthful reporting at that profile,
        so the principal's value is unchanged, but the agent's pay no longer depends on its reports, its
        effort goes unrewarded and the mechanism is typically not incentive compatible (a negative example
        for audits and learning agents).  The decision is kept.
        """
        self.check_compatible(instance)
        i = instance._agent(agent, "agent")
        n = instance.n_agents
        pay = np.array(self.payments)
        flat = self.expected_payments(instance)[i]
        pay[i] = flat.reshape(flat.shape + (1,) * (n + 1))
        return Mechanism.build(instance, self.recommendation, pay, self.decision)

    def expected_payments(self, instance: HiringInstance) -> np.ndarray:
        r"""Each agent's expected payment at each recommended profile under obedience and truthful reports.

        :math:`\sum_{s,\theta} q_b(s,\theta)\, \gamma_i(b,s,\theta)`, shape ``(n_agents, *n_efforts)``
        (not weighted by :math:`\phi(b)`).
        """
        self.check_compatible(instance)
        n = instance.n_agents
        axes = tuple(range(n, 2 * n + 1))
        return np.stack([(self.payments[i] * instance.joint).sum(axis=axes) for i in range(n)])


def limit_excess(instance: HiringInstance, mechanism: Mechanism) -> tuple[float, int]:
    """``(excess, agent)``: the most by which a payment on a recommended profile leaves ``[0, M_i]``.

    ``excess`` is ``max_i max(-gamma_i, gamma_i - M_i)`` over the profiles with positive recommendation
    probability (0 when every payment is within its agent's limits, and ``agent`` is then -1).  Shapes are
    the caller's to check.
    """
    used = mechanism.recommendation > 0
    if not used.any():
        return 0.0, -1
    n = instance.n_agents
    pay = mechanism.payments[:, used].reshape(n, -1)
    over = np.maximum(-pay.min(axis=1), pay.max(axis=1) - instance.payment_caps)
    agent = int(np.argmax(over))
    return (float(over[agent]), agent) if over[agent] > 0 else (0.0, -1)


def _principal_value(
    instance: HiringInstance, rec: np.ndarray, payments: np.ndarray, decision: np.ndarray
) -> float:
    """Principal's expected utility under obedience; see the module docstring."""
    q = instance.joint
    n = instance.n_agents
    info = np.einsum("...a,...t,at->...", decision, q, instance.utility)  # (*n_efforts, *n_signals)
    paid = np.einsum("i...,...->...", payments, q).sum(axis=-1) if payments.size else 0.0
    per_profile = (info - paid).sum(axis=tuple(range(n, 2 * n)))
    return float((rec * per_profile).sum())


def check_hiring_instance(name: str, value) -> HiringInstance:
    """``value`` if it is a :class:`HiringInstance`, else an :class:`InvalidInstanceError` naming ``name``."""
    if not isinstance(value, HiringInstance):
        raise InvalidInstanceError(f"{name}: expected a HiringInstance, found {_type_name(value)}", argument=name)
    return value


def check_mechanism(name: str, value) -> Mechanism:
    """``value`` if it is a :class:`Mechanism`, else an :class:`InvalidInstanceError` naming ``name``."""
    if not isinstance(value, Mechanism):
        raise InvalidInstanceError(f"{name}: expected a Mechanism, found {_type_name(value)}", argument=name)
    return value
