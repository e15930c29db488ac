r"""Finite constrained Markov decision processes and exact policy evaluation.

A finite CMDP has states ``s = 0..S-1``, actions ``a = 0..A-1``, transition law ``P(s' | s, a)``, a reward
``r(s, a)``, ``K`` cost signals ``c_k(s, a)`` (any sign), limits ``d_k``, an initial distribution ``mu0``
and a discount ``gamma`` in ``[0, 1)``.  For a stationary randomised policy ``pi(a | s)``

.. math::

    V_r^\pi = E\Big[\sum_{t \ge 0} \gamma^t r(s_t, a_t)\Big], \qquad
    J_k^\pi = E\Big[\sum_{t \ge 0} \gamma^t c_k(s_t, a_t)\Big], \qquad s_0 \sim \mu_0,\ a_t \sim \pi(\cdot|s_t),

and the constrained problem is

.. math::

    \max_\pi V_r^\pi \quad \text{subject to} \quad J_k^\pi \le d_k, \quad k = 1..K.

**Units.** Every value in this package is a *discounted sum* — there is no ``(1 - gamma)`` normalising
factor.  A constant per-step cost ``c`` therefore has value ``c / (1 - gamma)``, and the limits ``d_k`` are in
the same units.

**Cost convention.** Constraints are always "discounted cost <= limit".  Costs may have any sign in a
:class:`FiniteCMDP` (the LP and the learners accept them), but mechsim's environments and the tabular twin
follow Safety-Gymnasium's convention of non-negative costs.  There a *lower* bound ``E[V_x] >= C`` on an
auxiliary signal ``x`` in ``[0, 1]`` (likes, follows, ...) is the cost of the *missed* signal ``c = 1 - x``,
charged in every state (also after the session has ended), so that ``J_c = 1/(1 - gamma) - V_x`` for every
policy and the bound is the limit ``d = 1/(1 - gamma) - C``: the same constraint as the signed cost ``-x``
with limit ``-C`` (both sides moved by the constant ``1/(1 - gamma)``; same optimal policies, values and
multipliers).

Policy evaluation solves the linear system ``(I - gamma P_pi) V = r_pi`` exactly, with
``P_pi(s, s') = sum_a pi(a|s) P(s'|s, a)`` and ``r_pi(s) = sum_a pi(a|s) r(s, a)``; each signal may use its own
discount (TSCAC evaluates every signal with its own ``gamma_i``).  The mathematics and the solvers (dense LU
up to ``DENSE_SOLVE_MAX_STATES`` states, BiCGSTAB with a sparse-LU fall-back above) live in
:mod:`mechsim.tabular_mdp`; this module adds the CMDP's validation and its reward/cost vocabulary.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from mechsim import tabular_mdp
from mechsim.tabular_mdp import DENSE_SOLVE_MAX_STATES
from mechsim.tabular_mdp import ITERATIVE_RTOL as ITERATIVE_RTOL  # re-exported: the iterative solver's tolerance
from mechsim.validation import (
    PROBABILITY_ATOL,
    _fail,
    check_array,
    check_probability_vector,
    check_stochastic,
)

__all__ = [
    "CMDPStructure",
    "FiniteCMDP",
    "PolicyEvaluation",
    "action_values",
    "check_policy",
    "cmdp_structure",
    "evaluate_policy",
    "occupancy_measure",
    "policy_transition_matrix",
    "uniform_policy",
]


def _readonly(arr: np.ndarray) -> np.ndarray:
    arr = np.array(arr, dtype=float, copy=True)
    arr.setflags(write=False)
    return arr


#: Largest discount a :class:`FiniteCMDP` accepts.  Measured: the occupancy LP with exact verification
#: solves every random model tried at ``1 - 1e-7`` and fails (raising, never returning a wrong answer) on a
#: quarter of them at ``1 - 1e-8``; ``1 - 1e-6`` leaves a factor of ten.
MAX_DISCOUNT = 1.0 - 1e-6


@dataclass(frozen=True, eq=False)
class FiniteCMDP:
    """A finite discounted CMDP: maximise discounted reward s.t. discounted costs <= limits.

    Values are discounted sums ``E[sum_t gamma^t x_t]`` (no ``(1 - gamma)`` factor).

    Parameters
    ----------
    transitions : array_like of shape (S, A, S), or scipy.sparse matrix of shape (S*A, S)
        ``transitions[s, a, s2] = P(s2 | s, a)``.  The sparse form stores the pair ``(s, a)`` in row
        ``s*A + a`` so that large sparse models fit in memory.  Every row must be a probability vector
        (non-negative, summing to 1 within 1e-9).
    reward : array_like of shape (S, A)
        Reward ``r(s, a)`` (the main objective, maximised).
    costs : array_like of shape (K, S, A)
        Cost signals ``c_k(s, a)``; any sign is allowed (Safety-Gymnasium learners expect non-negative costs: a
        lower bound on a signal ``x <= 1`` is the cost ``1 - x`` with limit ``1/(1 - gamma) - floor``, see the
        module docstring).  ``K = 0`` gives an unconstrained MDP.
    limits : array_like of shape (K,)
        Limits ``d_k``; the constraints are ``J_k^pi <= d_k`` in discounted-sum units.
    initial : array_like of shape (S,)
        Initial state distribution ``mu0``.
    discount : float
        Discount ``gamma`` in ``[0, MAX_DISCOUNT]`` (``MAX_DISCOUNT = 1 - 1e-6``: beyond it float64 cannot
        verify exact values; long horizons are better modelled with an absorbing terminal state).
    constraint_names : sequence of str, optional
        One name per constraint, used in messages and reports (default ``"constraint 0"``, ...).

    Notes
    -----
    The dataclass is frozen and its arrays are read-only copies.  ``transition_matrix`` always gives the
    ``(S*A, S)`` CSR form; ``dense_transitions()`` the ``(S, A, S)`` array.

    Examples
    --------
    The textbook one-state CMDP (optimum 5 with ``pi = (0.5, 0.5)``):

    >>> import numpy as np
    >>> m = FiniteCMDP(np.ones((1, 2, 1)), [[1.0, 0.0]], [[[1.0, 0.0]]], [5.0], [1.0], 0.9)
    >>> round(evaluate_policy(m, [[0.5, 0.5]]).value, 12)
    5.0
    """

    transitions: object
    reward: np.ndarray
    costs: np.ndarray
    limits: np.ndarray
    initial: np.ndarray
    discount: float
    constraint_names: tuple[str, ...] | None = field(default=None)

    def __post_init__(self):
        reward = check_array("reward", self.reward, ndim=2)
        S, A = reward.shape
        if S == 0 or A == 0:
            raise _fail("reward", "at least one state and one action", f"shape {reward.shape}")
        transitions = self.transitions
        if sp.issparse(transitions):
            if transitions.shape != (S * A, S):
                raise _fail("transitions", f"a sparse matrix of shape (S*A, S) = ({S * A}, {S}) "
                            f"matching reward's shape (S, A) = ({S}, {A})", f"shape {transitions.shape}")
            matrix = sp.csr_array(transitions, dtype=float, copy=True)
            matrix.sum_duplicates()
            matrix.eliminate_zeros()
            data = matrix.data
            if data.size and not np.all(np.isfinite(data)):
                raise _fail("transitions", "finite probabilities", "a non-finite entry")
            if data.size and data.min() < 0:
                k = int(np.argmin(data))
                row = int(np.searchsorted(matrix.indptr, k, side="right") - 1)
                raise _fail("transitions", "non-negative probabilities",
                            f"{data[k]:.6g} at (state {row // A}, action {row % A}, next state "
                            f"{int(matrix.indices[k])})")
            sums = np.asarray(matrix.sum(axis=1)).ravel()
            dev = np.abs(sums - 1.0)
            if dev.max() > PROBABILITY_ATOL:
                row = int(np.argmax(dev))
                raise _fail("transitions", f"rows summing to 1 within {PROBABILITY_ATOL:g}",
                            f"sum {sums[row]:.12g} at (state {row // A}, action {row % A})")
            matrix.data.setflags(write=False)
            stored = matrix
        else:
            dense = check_array("transitions", transitions, ndim=3)
            if dense.shape != (S, A, S):
                raise _fail("transitions", f"shape (S, A, S) = ({S}, {A}, {S}) matching reward's shape "
                            f"(S, A) = ({S}, {A})", f"shape {dense.shape}")
            check_stochastic("transitions", dense, axis=2)
            stored = _readonly(dense)
        costs = check_array("costs", self.costs, ndim=3)
        if costs.shape[1:] != (S, A):
            raise _fail("costs", f"shape (K, S, A) = (K, {S}, {A})", f"shape {costs.shape}")
        K = costs.shape[0]
        limits = check_array("limits", self.limits, ndim=1)
        if limits.shape != (K,):
            raise _fail("limits", f"shape (K,) = ({K},), one limit per cost signal (costs has shape {costs.shape})",
                        f"shape {limits.shape}")
        initial = check_probability_vector("initial", self.initial, size=None)
        if initial.shape != (S,):
            raise _fail("initial", f"shape (S,) = ({S},)", f"shape {initial.shape}")
        gamma = self.discount
        if isinstance(gamma, bool) or not isinstance(gamma, (numbers.Real, np.floating, np.integer)):
            raise _fail("discount", "a real number in [0, 1)", f"{type(gamma).__name__} {gamma!r}")
        gamma = float(gamma)
        if not (0.0 <= gamma < 1.0):
            raise _fail("discount", "a number in [0, 1)", repr(self.discount))
        if gamma > MAX_DISCOUNT:
            raise _fail("discount", f"a number in [0, 1 - {1 - MAX_DISCOUNT:.0e}] (an effective horizon "
                        f"1/(1 - discount) of at most {1 / (1 - MAX_DISCOUNT):.0e} steps)",
                        f"{gamma!r}: closer to 1 the evaluation "
                        "(I - discount P)^-1 has a condition number up to 1/(1 - discount), so float64 can no longer "
                        "verify a policy's values to mechsim's tolerance; model a long horizon with an absorbing "
                        "terminal state instead")
        names = self.constraint_names
        if names is None:
            names = tuple(f"constraint {k}" for k in range(K))
        else:
            if isinstance(names, str):
                names = (names,)
            if not isinstance(names, (tuple, list, np.ndarray)):
                raise _fail("constraint_names", f"a sequence of {K} names", f"{type(names).__name__} {names!r}")
            names = tuple(str(n) for n in names)
            if len(names) != K:
                raise _fail("constraint_names", f"{K} names (one per cost signal)", f"{len(names)} names")
        object.__setattr__(self, "transitions", stored)
        object.__setattr__(self, "reward", _readonly(reward))
        object.__setattr__(self, "costs", _readonly(costs))
        object.__setattr__(self, "limits", _readonly(limits))
        object.__setattr__(self, "initial", _readonly(initial))
        object.__setattr__(self, "discount", gamma)
        object.__setattr__(self, "constraint_names", names)

    # ------------------------------------------------------------------ shapes
    @property
    def n_states(self) -> int:
        """Number of states ``S``."""
        return self.reward.shape[0]

    @property
    def n_actions(self) -> int:
        """Number of actions ``A``."""
        return self.reward.shape[1]

    @property
    def n_constraints(self) -> int:
        """Number of cost constraints ``K``."""
        return self.costs.shape[0]

    @property
    def is_sparse(self) -> bool:
        """Whether the transitions were given (and are stored) as a sparse ``(S*A, S)`` matrix."""
        return sp.issparse(self.transitions)

    @cached_property
    def transition_matrix(self) -> sp.csr_array:
        """Transitions as a CSR array of shape ``(S*A, S)``; row ``s*A + a`` is ``P(. | s, a)``."""
        if self.is_sparse:
            return self.transitions
        S, A = self.n_states, self.n_actions
        return sp.csr_array(self.transitions.reshape(S * A, S))

    def dense_transitions(self) -> np.ndarray:
        """Transitions as a dense ``(S, A, S)`` array (allocates ``S*A*S`` floats for sparse models)."""
        if not self.is_sparse:
            return self.transitions
        S, A = self.n_states, self.n_actions
        return self.transitions.toarray().reshape(S, A, S)

    def signals(self) -> np.ndarray:
        """Reward and costs stacked as ``(1 + K, S, A)``: index 0 is the reward, ``1 + k`` cost ``k``."""
        return np.concatenate([self.reward[None], self.costs], axis=0)

    def with_limits(self, limits) -> FiniteCMDP:
        """The same CMDP with other limits (shape ``(K,)``)."""
        return FiniteCMDP(self.transitions, self.reward, self.costs, limits, self.initial, self.discount,
                          self.constraint_names)

    def without_constraints(self) -> FiniteCMDP:
        """The unconstrained MDP with the same dynamics and reward."""
        S, A = self.n_states, self.n_actions
        return FiniteCMDP(self.transitions, self.reward, np.zeros((0, S, A)), np.zeros(0), self.initial,
                          self.discount, ())

    def __repr__(self) -> str:
        kind = "sparse" if self.is_sparse else "dense"
        return (f"FiniteCMDP(n_states={self.n_states}, n_actions={self.n_actions}, "
                f"n_constraints={self.n_constraints}, discount={self.discount}, transitions={kind})")


# ---------------------------------------------------------------------- policies
def _check_signal(cmdp: FiniteCMDP, signal, name: str = "signal") -> np.ndarray:
    """Validate a finite signal of shape ``(S, A)`` or a stack ``(m, S, A)``."""
    signal = check_array(name, signal)
    S, A = cmdp.n_states, cmdp.n_actions
    if signal.ndim not in (2, 3) or signal.shape[-2:] != (S, A):
        raise _fail(name, f"shape (S, A) = ({S}, {A}) or (m, S, A)", f"shape {signal.shape}")
    return signal


def _one_discount(cmdp: FiniteCMDP, discount, *, high: float = MAX_DISCOUNT) -> float:
    """``discount`` checked to be a number in ``[0, high]``; ``None`` gives the CMDP's discount."""
    if discount is None:
        return cmdp.discount
    if isinstance(discount, bool) or not isinstance(discount, (numbers.Real, np.floating, np.integer)):
        raise _fail("discount", "None or a real number in [0, 1)", f"{type(discount).__name__} {discount!r}")
    gamma = float(discount)
    if not 0.0 <= gamma <= high:
        raise _fail("discount", f"a number in [0, {high:.12g}]", repr(discount))
    return gamma


def _check_cmdp(cmdp) -> FiniteCMDP:
    """Raise :class:`~mechsim.errors.InvalidInstanceError` unless ``cmdp`` is a :class:`FiniteCMDP`."""
    if not isinstance(cmdp, FiniteCMDP):
        raise _fail("cmdp", "a FiniteCMDP", type(cmdp).__name__)
    return cmdp


def _chain_transitions(cmdp: FiniteCMDP):
    """The transitions in the form a policy's chain is built from fastest: the dense array up to
    ``DENSE_SOLVE_MAX_STATES`` states, otherwise the cached ``(S*A, S)`` CSR matrix."""
    if not cmdp.is_sparse and cmdp.n_states <= DENSE_SOLVE_MAX_STATES:
        return cmdp.transitions
    return cmdp.transition_matrix


def uniform_policy(cmdp: FiniteCMDP) -> np.ndarray:
    """The uniformly random policy, shape ``(S, A)``."""
    _check_cmdp(cmdp)
    return np.full((cmdp.n_states, cmdp.n_actions), 1.0 / cmdp.n_actions)


def check_policy(cmdp: FiniteCMDP, policy, name: str = "policy") -> np.ndarray:
    """Validate a stationary randomised policy of shape ``(S, A)`` (rows are probability vectors)."""
    _check_cmdp(cmdp)
    return check_stochastic(name, policy, axis=1, shape=(cmdp.n_states, cmdp.n_actions))


def policy_transition_matrix(cmdp: FiniteCMDP, policy):
    """State-to-state transition matrix ``P_pi`` of a validated policy.

    A dense ``(S, S)`` array for dense models with at most ``DENSE_SOLVE_MAX_STATES`` states, otherwise a
    sparse CSC array (:func:`mechsim.tabular_mdp.policy_transition_matrix`).
    """
    policy = check_policy(cmdp, policy)
    return tabular_mdp.policy_transition_matrix(
        _chain_transitions(cmdp), policy, dense=not cmdp.is_sparse and cmdp.n_states <= DENSE_SOLVE_MAX_STATES)


@dataclass(frozen=True, eq=False)
class PolicyEvaluation(tabular_mdp.PolicyEvaluation):
    """Exact discounted values of a policy: a :class:`mechsim.tabular_mdp.PolicyEvaluation` whose signals are
    the reward (signal 0) and the costs (signals ``1..K``).

    Attributes
    ----------
    value : float
        ``V_r^pi = mu0 . V_r`` (discounted sum of rewards).
    cost_values : ndarray of shape (K,)
        ``J_k^pi`` for each cost.
    state_values : ndarray of shape (S,)
        ``V_r^pi(s)``.
    cost_state_values : ndarray of shape (K, S)
        ``J_k^pi(s)``.
    discounts : ndarray of shape (1 + K,)
        Discount used for the reward (index 0) and each cost.
    """

    @property
    def cost_values(self) -> np.ndarray:
        """``J_k^pi`` for each cost, shape ``(K,)``."""
        return self.signal_values[1:]

    @property
    def cost_state_values(self) -> np.ndarray:
        """``J_k^pi(s)``, shape ``(K, S)``."""
        return self.signal_state_values[:, 1:].T

    def satisfies(self, limits, atol: float = 1e-7) -> np.ndarray:
        """Boolean ``(K,)``: which constraints ``J_k <= d_k + atol`` hold."""
        return self.cost_values <= np.asarray(limits, dtype=float) + atol


def _signal_discounts(cmdp: FiniteCMDP, discounts) -> np.ndarray:
    K = cmdp.n_constraints
    if discounts is None:
        return np.full(1 + K, cmdp.discount)
    if isinstance(discounts, numbers.Real) and not isinstance(discounts, bool):
        discounts = np.full(1 + K, float(discounts))
    arr = check_array("discounts", discounts, ndim=1)
    if arr.shape != (1 + K,):
        raise _fail("discounts", f"shape (1 + K,) = ({1 + K},): the reward's discount then one per cost",
                    f"shape {arr.shape}")
    if arr.min() < 0 or arr.max() > MAX_DISCOUNT:
        raise _fail("discounts", f"values in [0, 1 - {1 - MAX_DISCOUNT:.0e}] (see FiniteCMDP's discount)", f"{arr}")
    return arr


def _signal_stack(cmdp: FiniteCMDP) -> np.ndarray:
    """Reward and costs as the core's ``(S, A, 1 + K)`` stack (a view of :meth:`FiniteCMDP.signals`)."""
    return cmdp.signals().transpose(1, 2, 0)


def evaluate_policy(cmdp: FiniteCMDP, policy, discounts=None) -> PolicyEvaluation:
    """Exact discounted reward and cost values of a stationary policy.

    Solves ``(I - gamma_i P_pi) V_i = x_pi`` for the reward and each cost ``x``, one factorisation per
    distinct discount (:func:`mechsim.tabular_mdp.evaluate_policy`).

    Parameters
    ----------
    cmdp : FiniteCMDP
    policy : array_like of shape (S, A)
        ``policy[s, a] = pi(a | s)``.
    discounts : float or array_like of shape (1 + K,), optional
        Per-signal discounts (reward first, then each cost); default ``cmdp.discount`` for all.

    Returns
    -------
    PolicyEvaluation
        Discounted-sum values (no ``(1 - gamma)`` factor).
    """
    policy = check_policy(cmdp, policy)
    gammas = _signal_discounts(cmdp, discounts)
    result = tabular_mdp.evaluate_policy(_chain_transitions(cmdp), policy, _signal_stack(cmdp), gammas,
                                         initial=cmdp.initial, with_q=False, validate=False)
    return PolicyEvaluation.from_result(result)


def occupancy_measure(cmdp: FiniteCMDP, policy) -> np.ndarray:
    """Discounted state-action occupancy ``x(s, a) = sum_t gamma^t Pr(s_t = s, a_t = a)``, shape ``(S, A)``.

    ``x`` sums to ``1 / (1 - gamma)``, and ``sum(x * signal)`` is that signal's discounted value.
    """
    policy = check_policy(cmdp, policy)
    return tabular_mdp.occupancy_measure(_chain_transitions(cmdp), policy, cmdp.initial, cmdp.discount,
                                         validate=False)


def action_values(cmdp: FiniteCMDP, signal, state_values, discount: float | None = None) -> np.ndarray:
    """One Bellman backup ``Q(s, a) = signal(s, a) + gamma sum_s' P(s'|s,a) V(s')``, shape ``(S, A)``.

    ``signal`` may also be a stack ``(m, S, A)`` with ``state_values`` ``(m, S)``; ``discount`` defaults to the
    CMDP's.
    """
    _check_cmdp(cmdp)
    gamma = _one_discount(cmdp, discount, high=1.0)
    signal = _check_signal(cmdp, signal)
    values = check_array("state_values", state_values)
    expected = signal.shape[:-1]
    if values.shape != expected:
        per = "signal and state" if signal.ndim == 3 else "state"
        raise _fail("state_values", f"shape {expected} (one value per {per})", f"shape {values.shape}")
    if signal.ndim == 2:
        return tabular_mdp.action_values(cmdp.transitions, signal, values, gamma)
    q = tabular_mdp.action_values(cmdp.transitions, signal.transpose(1, 2, 0), np.atleast_2d(values).T, gamma)
    return np.ascontiguousarray(q.transpose(2, 0, 1))


def _analyse(cmdp: FiniteCMDP, policy: np.ndarray):
    """State values of every signal ``(1 + K, S)`` and the occupancy ``(S, A)`` with one ``P_pi``.

    Internal fast path for the learners (no validation; common discount).
    """
    p_pi = tabular_mdp.policy_transition_matrix(_chain_transitions(cmdp), policy)
    per_state = tabular_mdp.policy_reward(_signal_stack(cmdp), policy)
    values = tabular_mdp.solve_bellman(p_pi, per_state, cmdp.discount).reshape(cmdp.n_states, -1).T
    state_occ = tabular_mdp.solve_bellman(p_pi, cmdp.initial, cmdp.discount, transpose=True)
    return values, state_occ[:, None] * policy


# ---------------------------------------------------------------------- structure
@dataclass(frozen=True)
class CMDPStructure:
    """Graph structure of a CMDP's transitions (edge ``s -> s'`` if some action moves there).

    Attributes
    ----------
    reachable : ndarray of bool, shape (S,)
        States reachable from the support of ``initial`` under some policy.
    classes : tuple of frozenset
        Communicating classes (strongly connected components of the state graph).
    closed_classes : tuple of frozenset
        Classes no action can leave.
    """

    reachable: np.ndarray
    classes: tuple
    closed_classes: tuple

    @property
    def n_reachable(self) -> int:
        return int(self.reachable.sum())

    @property
    def is_communicating(self) -> bool:
        """True if every state can reach every other one."""
        return len(self.classes) == 1


def cmdp_structure(cmdp: FiniteCMDP) -> CMDPStructure:
    """Reachability and communicating classes of a CMDP, computed with networkx."""
    import networkx as nx

    _check_cmdp(cmdp)
    S, A = cmdp.n_states, cmdp.n_actions
    coo = cmdp.transition_matrix.tocoo()
    graph = nx.DiGraph()
    graph.add_nodes_from(range(S))
    edges = np.unique(np.stack([coo.row // A, coo.col], axis=1), axis=0)
    graph.add_edges_from(map(tuple, edges.tolist()))
    reachable = np.zeros(S, dtype=bool)
    for s in np.flatnonzero(cmdp.initial > 0):
        if not reachable[s]:
            reachable[list(nx.descendants(graph, int(s)))] = True
            reachable[s] = True
    classes = tuple(frozenset(c) for c in nx.strongly_connected_components(graph))
    condensed = nx.condensation(graph, scc=[set(c) for c in classes])
    closed = tuple(frozenset(condensed.nodes[n]["members"]) for n in condensed.nodes
                   if condensed.out_degree(n) == 0)
    return CMDPStructure(reachable=reachable, classes=classes, closed_classes=closed)
