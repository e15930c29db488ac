r"""Finite (tabular) Markov decision processes: exact policy evaluation, occupancy measures and planning.

**Model.**  States ``s = 0..S-1``, actions ``a = 0..A-1``, transition law ``P(s' | s, a)`` given either as a
dense array of shape ``(S, A, S)`` or as a sparse matrix of shape ``(S*A, S)`` whose row ``s*A + a`` is
``P(. | s, a)``.  A *signal* is a table ``x(s, a)`` of shape ``(S, A)`` (a reward), or a stack of ``K``
signals of shape ``(S, A, K)`` (say a reward and ``K - 1`` costs), each with its own discount
``gamma_k in [0, 1]``.  A stationary randomised policy is a row-stochastic table ``pi(a | s)`` of shape
``(S, A)``; a time-indexed one, ``pi_t(a | s)``, has shape ``(H, S, A)``.  Under ``pi``

.. math::

    P_\pi(s, s') = \sum_a \pi(a|s) P(s'|s, a), \qquad x_\pi(s) = \sum_a \pi(a|s)\, x(s, a).

**Terminal states.**  An optional mask marks states that end the episode on entry: their values are zero,
``V(s) = 0`` and ``Q(s, .) = 0``.  ``N`` denotes the other (non-terminal) states.

**Infinite-horizon evaluation.**  The value ``V(s) = E[sum_{t < tau} gamma^t x(s_t, a_t) | s_0 = s]``
(``tau`` the time a terminal state is entered, ``tau = inf`` without terminal states) solves the linear
system

.. math::

    (I - \gamma P_\pi[N, N])\, V_N = x_\pi[N], \qquad V = 0 \text{ off } N,

which is non-singular when ``gamma < 1``, and when ``gamma = 1`` exactly if the policy is *proper* (it
reaches a terminal state with probability one from every state of ``N``).  With ``gamma = 1`` and no
terminal states ``I - P_pi`` is singular, so a terminal mask is required.  Up to
:data:`DENSE_SOLVE_MAX_STATES` unknowns the system is solved by a dense LU factorisation, with all signals
that share a discount as right-hand sides of one factorisation; larger (sparse) systems whose chain is
triangular (an acyclic model numbered in topological order, :func:`triangular_side`) by exact sparse
substitution, other larger (sparse) systems by BiCGSTAB —
the spectrum of ``I - gamma P_pi`` lies in the disc of radius ``gamma`` around 1, so Krylov iterations
converge fast, whereas a sparse LU of a well-mixing chain fills in — with the residual checked and a
sparse LU as fall-back.

**Finite-horizon evaluation** (horizon ``H``) is the backward recursion

.. math::

    V_H = 0, \qquad V_t = \sum_a \pi_t(a|s)\,\big[x(s, a) + \gamma \sum_{s'} P(s'|s, a) V_{t+1}(s')\big],
    \quad t = H-1, \dots, 0.

**Action values** are one Bellman backup of state values, ``Q(s, a) = x(s, a) + gamma sum_s' P(s'|s,a)
V(s')`` (for a finite horizon ``H``: act once, then follow the policy for ``H`` steps).

**Occupancy.**  The expected discounted number of visits ``d(s) = sum_{t < tau} gamma^t Pr(s_t = s)``
from an initial law ``mu0`` solves the transposed system ``(I - gamma P_pi[N, N])^T d_N = mu0[N]``; the
state-action occupancy is ``x(s, a) = d(s) pi(a|s)`` and ``sum_{s,a} x(s, a) r(s, a) = mu0 . V_r``
(Altman, *Constrained Markov Decision Processes*, 1999).  Without terminal states ``d`` sums to
``1 / (1 - gamma)``; with ``gamma = 1`` it sums to the expected episode length.

**Planning** (Puterman, *Markov Decision Processes*, 1994), optionally over a mask of allowed actions:

- value iteration ``V <- max_a [x + gamma P V]`` to a sup-norm change below ``tol`` (a ``gamma``-contraction
  for ``gamma < 1``; with ``gamma = 1`` it converges when every policy is proper);
- backward induction for a finite horizon, ``Q_t = x + gamma P V_{t+1}``, ``V_t = max_a Q_t``, ``V_H = 0``;
- Howard's policy iteration (Howard, *Dynamic Programming and Markov Processes*, 1960): exact evaluation,
  then a switch to the greedy action wherever it improves ``Q`` by more than ``atol + rtol |Q(s, pi(s))|``
  (so that ties cannot make it cycle); values improve monotonically, so it stops after finitely many steps;
- soft (entropy-regularised) value iteration ``V(s) = tau log sum_a exp(Q(s, a) / tau)``,
  ``Q = x + gamma P V``, a ``gamma``-contraction whose fixed point gives the policy
  ``pi(a|s) ∝ exp(Q(s, a) / tau)`` maximising ``E[sum_t gamma^t (x(s_t, a_t) + tau H(pi(.|s_t)))]``
  (Ziebart, 2010; Haarnoja et al., 2017).

Every value is a discounted *sum* (no ``(1 - gamma)`` factor).  Every function checks its arguments (shapes,
dtypes, finiteness, stochastic policies, discounts in ``[0, 1]``) and raises
:class:`~mechsim.errors.InvalidInstanceError` naming the argument.  The functions that solve or iterate also
check the transition probabilities (one pass over the entries); ``validate=False`` skips that pass for callers
whose models validated them once, on construction (:mod:`mechsim.cmdp.model`, :mod:`mechsim.cmdp.planning`,
:mod:`mechsim.debate.icu_sepsis` and :mod:`mechsim.debate.oberst_sontag` are thin adapters over this module).
The light-weight building blocks (:func:`expected_next`, :func:`action_values`,
:func:`policy_transition_matrix`) do not scan the transitions but refuse a non-finite result.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.special import logsumexp

from mechsim.errors import SolverError
from mechsim.validation import (
    PROBABILITY_ATOL,
    _fail,
    check_allocation,
    check_array,
    check_integer,
    check_nonnegative,
    check_positive,
    check_probability_vector,
)

__all__ = [
    "DENSE_SOLVE_MAX_STATES",
    "ITERATIVE_RTOL",
    "RESIDUAL_RTOL",
    "PlanningResult",
    "PolicyEvaluation",
    "action_values",
    "backward_induction",
    "deterministic_policy",
    "evaluate_policy",
    "expected_next",
    "flat_transitions",
    "log_softmax",
    "mdp_shape",
    "occupancy_measure",
    "policy_iteration",
    "policy_reward",
    "policy_transition_matrix",
    "soft_value_iteration",
    "solve_bellman",
    "state_occupancy",
    "state_values",
    "triangular_side",
    "value_iteration",
]

#: Up to this many unknowns the Bellman system is solved by a dense LU factorisation.
DENSE_SOLVE_MAX_STATES = 1500
#: Relative residual demanded from the iterative solver on larger systems.
ITERATIVE_RTOL = 1e-13
#: A checked solve fails when ``max |(I - gamma P) X - b| > RESIDUAL_RTOL * max(1, max |X|)``.
RESIDUAL_RTOL = 1e-8


# ------------------------------------------------------------------------------------------------ results
@dataclass(frozen=True, eq=False)
class PolicyEvaluation:
    """Exact values of one policy.

    Signal 0 (the only one for an ``(S, A)`` signal) is the *main* signal; the ``signal_*`` fields hold every
    signal of a stack.

    Attributes
    ----------
    value : float
        ``J = mu0 . V`` of the main signal.
    state_values : ndarray of shape (S,)
        ``V(s)`` of the main signal (zero on terminal states).
    q_values : ndarray of shape (S, A) or None
        ``Q = x + gamma P V`` of the main signal (zero rows on terminal states); ``None`` if not computed.
    signal_values : ndarray of shape (K,)
        ``J_k`` of every signal (``signal_values[0] == value``).
    signal_state_values : ndarray of shape (S, K)
        ``V_k(s)`` of every signal.
    discounts : ndarray of shape (K,)
        Discount of each signal.
    horizon : int or None
        The finite horizon, or ``None`` for the infinite-horizon value.
    """

    value: float
    state_values: np.ndarray
    q_values: np.ndarray | None = None
    signal_values: np.ndarray | None = None
    signal_state_values: np.ndarray | None = None
    discounts: np.ndarray | None = None
    horizon: int | None = None

    def __post_init__(self):
        if self.signal_values is None:
            object.__setattr__(self, "signal_values", np.array([self.value], dtype=float))
        if self.signal_state_values is None:
            object.__setattr__(self, "signal_state_values", np.asarray(self.state_values)[:, None])

    @classmethod
    def from_result(cls, result: PolicyEvaluation):
        """The same evaluation as an instance of ``cls`` (a subclass that adds a domain's vocabulary)."""
        return _retype(cls, PolicyEvaluation, result)


@dataclass(frozen=True, eq=False)
class PlanningResult:
    """Optimal values and a greedy optimal deterministic policy.

    For backward induction every array gains a leading time axis: ``q_values`` ``(H, S, A)``,
    ``state_values`` ``(H + 1, S)`` and ``policy`` ``(H, S)``.

    Attributes
    ----------
    q_values : ndarray of shape (S, A)
        Optimal action values (zero rows on terminal states; disallowed actions keep their value).
    state_values : ndarray of shape (S,)
        Optimal state values.
    policy : ndarray of int, shape (S,)
        Greedy action of every state (lowest index on ties, among the allowed actions).
    value : float
        ``mu0 . V`` (``nan`` when no initial law was given).
    n_iterations : int
        Sweeps (value iteration), improvement steps (policy iteration) or the horizon (backward induction).
    """

    q_values: np.ndarray
    state_values: np.ndarray
    policy: np.ndarray
    value: float
    n_iterations: int

    @classmethod
    def from_result(cls, result: PlanningResult):
        """The same result as an instance of ``cls`` (a subclass that adds a domain's vocabulary)."""
        return _retype(cls, PlanningResult, result)


def _retype(cls, base, result):
    """``result``'s fields in an instance of ``cls``, a subclass of ``base`` without fields of its own; no copy
    and no second ``__init__`` (the domain adapters call this on every evaluation of tiny models too)."""
    if not isinstance(result, base) or fields(cls) != fields(base):
        raise TypeError(f"{cls.__name__}.from_result: expected a {base.__name__}, and a subclass without new "
                        f"fields, found {type(result).__name__}")
    out = object.__new__(cls)
    out.__dict__.update(vars(result))
    return out


# ------------------------------------------------------------------------------------------------- shapes
def _sparse_shape(transitions) -> tuple[int, int]:
    if transitions.dtype.kind not in "biuf":
        raise _fail("transitions", "a sparse matrix of real probabilities", f"dtype {transitions.dtype}")
    rows, S = transitions.shape
    if S == 0 or rows == 0 or rows % S:
        raise _fail("transitions", "a sparse matrix of shape (S*A, S)", f"shape {transitions.shape}")
    return S, rows // S


def _dense_shape(arr: np.ndarray) -> tuple[int, int]:
    shape = arr.shape
    if len(shape) != 3 or shape[0] != shape[2] or 0 in shape:
        raise _fail("transitions", "an array of shape (S, A, S) or a sparse matrix of shape (S*A, S)",
                    f"shape {shape}")
    return shape[0], shape[1]


def mdp_shape(transitions) -> tuple[int, int]:
    """``(S, A)`` of transitions given as a dense ``(S, A, S)`` array or a sparse ``(S*A, S)`` matrix."""
    if sp.issparse(transitions):
        return _sparse_shape(transitions)
    return _dense_shape(check_array("transitions", transitions, finite=False))


def _transitions(transitions, *, values: bool = True):
    """``(transitions, S, A)``: a float ``(S, A, S)`` array or the sparse matrix itself.

    Shapes and dtypes are always checked; with ``values`` also the probabilities
    (:func:`_check_probabilities`).
    """
    if sp.issparse(transitions):
        S, A = _sparse_shape(transitions)
    else:
        transitions = check_array("transitions", transitions, finite=False)
        S, A = _dense_shape(transitions)
    if values:
        _check_probabilities(transitions, S, A)
    return transitions, S, A


def _check_probabilities(transitions, S: int, A: int, terminal=None) -> None:
    """Finite, non-negative, and every row of a non-terminal state summing to one within ``PROBABILITY_ATOL``:
    one pass over the entries."""
    data = transitions.data if sp.issparse(transitions) else transitions
    if data.size and not np.all(np.isfinite(data)):
        raise _fail("transitions", "finite probabilities", "a NaN or an infinity")
    if data.size and data.min() < 0:
        raise _fail("transitions", "non-negative probabilities", f"{data.min():.6g}")
    sums = np.asarray(transitions.sum(axis=1)).reshape(S, A) if sp.issparse(transitions) else transitions.sum(axis=2)
    _check_rows(sums, terminal)


def _check_rows(sums: np.ndarray, terminal) -> None:
    dev = np.abs(sums - 1.0)
    if terminal is not None:
        dev[terminal] = 0.0  # rows of terminal states are never used
    if dev.max() > PROBABILITY_ATOL:
        s, a = np.unravel_index(np.argmax(dev), dev.shape)
        raise _fail("transitions", f"rows P(. | s, a) summing to 1 within {PROBABILITY_ATOL:g}",
                    f"sum {sums[s, a]:.12g} at (state {s}, action {a})")


def flat_transitions(transitions):
    """Transitions as rows ``s*A + a``: the sparse matrix itself, or an ``(S*A, S)`` view of a dense array."""
    transitions, S, A = _transitions(transitions, values=False)
    return _flat(transitions, S, A)


def _flat(transitions, S: int, A: int):
    return transitions if sp.issparse(transitions) else np.asarray(transitions, dtype=float).reshape(S * A, S)


def _finite_result(out, names: str):
    """Raise unless ``out`` (a result computed from finite inputs ``names``) is finite: then the transitions
    held a NaN or an infinity (they are not scanned on the light-weight paths)."""
    data = out.data if sp.issparse(out) else out
    if not np.all(np.isfinite(data)):
        raise _fail("transitions", f"finite probabilities (with finite {names}, the result has a non-finite "
                    "entry)", "a NaN or an infinity")
    return out


def _discounts(discount, n_signals: int | None) -> np.ndarray:
    """Discounts as a float array: shape ``()`` for one signal, ``(K,)`` for a stack; each in ``[0, 1]``."""
    if isinstance(discount, float) and n_signals is None and 0.0 <= discount <= 1.0:
        return np.asarray(discount)
    if isinstance(discount, numbers.Real) and not isinstance(discount, bool):
        gammas = np.asarray(float(discount))
    elif isinstance(discount, (bool, np.bool_)) or discount is None or isinstance(discount, (str, bytes)):
        raise _fail("discount", "a number in [0, 1] or an array of them", f"{type(discount).__name__} {discount!r}")
    else:
        gammas = check_array("discount", discount, finite=False)
    if n_signals is None and gammas.ndim != 0:
        raise _fail("discount", "a number for an (S, A) signal", f"shape {gammas.shape}")
    if n_signals is not None:
        if gammas.ndim == 0:
            gammas = np.full(n_signals, float(gammas))
        elif gammas.shape != (n_signals,):
            raise _fail("discount", f"a number or one discount per signal, shape ({n_signals},)",
                        f"shape {gammas.shape}")
    if not np.all((gammas >= 0.0) & (gammas <= 1.0)):
        raise _fail("discount", "values in [0, 1]", f"{gammas}")
    return gammas


def _signal(name: str, reward, S: int, A: int) -> np.ndarray:
    reward = check_array(name, reward)
    if reward.shape[:2] != (S, A) or reward.ndim not in (2, 3):
        raise _fail(name, f"shape (S, A) = ({S}, {A}) or (S, A, K)", f"shape {reward.shape}")
    return reward


def _values(name: str, values, S: int) -> np.ndarray:
    values = check_array(name, values)
    if values.ndim not in (1, 2) or values.shape[0] != S:
        raise _fail(name, f"shape (S,) or (S, K) with S = {S}", f"shape {values.shape}")
    return values


def _policy(policy, S: int, A: int, horizon: int | None = None, terminal=None) -> np.ndarray:
    """A stochastic ``(S, A)`` table (or ``(H, S, A)`` with a horizon); rows of terminal states are not used."""
    policy = check_array("policy", policy)
    shapes = ((S, A),) if horizon is None else ((S, A), (horizon, S, A))
    if policy.shape not in shapes:
        expected = f"shape (S, A) = ({S}, {A})" + ("" if horizon is None else
                                                   f" or (H, S, A) = ({horizon}, {S}, {A})")
        raise _fail("policy", expected, f"shape {policy.shape}")
    if policy.min() < 0:
        where = tuple(int(i) for i in np.unravel_index(np.argmin(policy), policy.shape))
        raise _fail("policy", "non-negative probabilities", f"{policy.min():.6g} at index {where}")
    dev = np.abs(policy.sum(axis=-1) - 1.0)
    if terminal is not None:
        dev[..., terminal] = 0.0
    if dev.max() > PROBABILITY_ATOL:
        where = tuple(int(i) for i in np.unravel_index(np.argmax(dev), dev.shape))
        raise _fail("policy", f"rows pi(. | s) summing to 1 within {PROBABILITY_ATOL:g}", f"a row at {where} "
                    f"summing to {policy.sum(axis=-1)[where]:.12g}")
    return policy


def _initial(initial, S: int) -> np.ndarray:
    initial = check_probability_vector("initial", initial)
    if initial.shape != (S,):
        raise _fail("initial", f"shape ({S},)", f"shape {initial.shape}")
    return initial


def _mask(name: str, mask, shape) -> np.ndarray | None:
    if mask is None:
        return None
    arr = mask if isinstance(mask, np.ndarray) else np.asarray(mask) if _plain_sequence(mask) else None
    if arr is None or not (arr.dtype.kind == "b" or (arr.dtype.kind in "iu" and np.isin(arr, (0, 1)).all())):
        raise _fail(name, "a boolean array (or integers 0 and 1)",
                    f"dtype {arr.dtype}" if arr is not None else type(mask).__name__)
    mask = arr.astype(bool, copy=False)
    if mask.shape != tuple(shape):
        raise _fail(name, f"a boolean array of shape {tuple(shape)}", f"shape {mask.shape}")
    return mask


def _plain_sequence(value) -> bool:
    return isinstance(value, (list, tuple))


def _allowed_actions(allowed, terminal, S: int, A: int) -> np.ndarray | None:
    """The allowed-action mask with terminal rows fully allowed (their values are zero anyway)."""
    allowed = _mask("allowed", allowed, (S, A))
    if allowed is None:
        return None
    empty = ~allowed.any(axis=1)
    if terminal is not None:
        empty &= ~terminal
    if empty.any():
        raise _fail("allowed", "at least one allowed action in every non-terminal state",
                    f"none in state {int(np.argmax(empty))}")
    if terminal is not None and terminal.any():
        allowed = allowed.copy()
        allowed[terminal] = True
    return allowed


def _check_episodic(gammas: np.ndarray, terminal) -> None:
    episodic = float(gammas) >= 1.0 if gammas.ndim == 0 else bool(gammas.max() >= 1.0)
    if episodic and (terminal is None or not terminal.any()):
        raise _fail("discount", "values below 1, or terminal states (with discount 1 and no terminal state "
                    "I - P_pi is singular)", f"{gammas} without terminal states")


def _values_at(values: np.ndarray, initial) -> np.ndarray:
    return _initial(initial, values.shape[0]) @ values


# -------------------------------------------------------------------------------------- policy's chain
def deterministic_policy(actions, n_actions: int) -> np.ndarray:
    """One-hot ``(S, A)`` policy of integer actions ``(S,)``."""
    n_actions = check_integer("n_actions", n_actions, minimum=1)
    actions = np.asarray(actions) if isinstance(actions, (np.ndarray, list, tuple)) else None
    if actions is None or actions.ndim != 1 or actions.dtype.kind not in "iu":
        raise _fail("actions", "a 1-d array of integer actions",
                    f"shape {actions.shape}, dtype {actions.dtype}" if actions is not None else "not an array")
    if actions.size and (actions.min() < 0 or actions.max() >= n_actions):
        raise _fail("actions", f"actions in 0..{n_actions - 1}", f"values in {actions.min()}..{actions.max()}")
    check_allocation("n_actions", 8.0 * actions.size * n_actions, f"a ({actions.size}, {n_actions}) float64 policy")
    policy = np.zeros((actions.shape[0], n_actions))
    policy[np.arange(actions.shape[0]), actions] = 1.0
    return policy


def policy_transition_matrix(transitions, policy, *, dense: bool | None = None):
    """State-to-state matrix ``P_pi(s, s') = sum_a pi(a|s) P(s'|s, a)`` of a policy ``(S, A)``.

    Parameters
    ----------
    transitions : ndarray (S, A, S) or sparse (S*A, S)
    policy : array_like of shape (S, A)
    dense : bool, optional
        ``True`` gives an ``(S, S)`` ndarray, ``False`` a sparse CSC array; by default the form of
        ``transitions``: dense for dense transitions up to :data:`DENSE_SOLVE_MAX_STATES` states, else sparse.

    Returns
    -------
    ndarray or scipy.sparse.csc_array of shape (S, S)
    """
    transitions, S, A = _transitions(transitions, values=False)
    policy = _policy(policy, S, A)
    return _finite_result(_chain(transitions, policy, S, A, dense), "policy")


def _chain(transitions, policy: np.ndarray, S: int, A: int, dense: bool | None = None):
    if dense is None:
        dense = not sp.issparse(transitions) and S <= DENSE_SOLVE_MAX_STATES
    if not sp.issparse(transitions):
        p_pi = np.einsum("sa,sat->st", policy, transitions)
        return p_pi if dense else sp.csc_array(p_pi)
    # The selector holds pi(a|s) at (s, s*A + a): selector @ P sums over actions without densifying P.  It
    # has P's sparse class (a mixed matrix/array product converts P first).
    kind = sp.csr_array if isinstance(transitions, sp.sparray) else sp.csr_matrix
    selector = kind((policy.ravel(), np.arange(S * A), np.arange(0, S * A + 1, A)), shape=(S, S * A))
    product = selector @ transitions
    return product.toarray() if dense else product.tocsc()


def policy_reward(reward, policy) -> np.ndarray:
    """``x_pi(s) = sum_a pi(a|s) x(s, a)``: shape ``(S,)`` for an ``(S, A)`` signal, ``(S, K)`` for a stack."""
    policy = check_array("policy", policy, ndim=2)
    S, A = policy.shape
    if S == 0 or A == 0:
        raise _fail("policy", "at least one state and one action", f"shape {policy.shape}")
    reward = check_array("reward", reward)
    if reward.shape[:2] != (S, A) or reward.ndim not in (2, 3):
        raise _fail("reward", f"shape (S, A) = ({S}, {A}) matching policy's, or (S, A, K)", f"shape {reward.shape}")
    return _policy_reward(reward, _policy(policy, S, A))


def _policy_reward(reward: np.ndarray, policy: np.ndarray) -> np.ndarray:
    if reward.ndim == 2:
        return np.einsum("sa,sa->s", policy, reward)
    # Signal-first operand: a stack stored signal-first (K, S, A) and viewed as (S, A, K) is summed in its
    # memory order, with the same rounding as a direct evaluation of the (K, S, A) array.
    return np.einsum("ksa,sa->sk", reward.transpose(2, 0, 1), policy)


def expected_next(transitions, values) -> np.ndarray:
    """``sum_s' P(s'|s, a) V(s')`` for every ``(s, a)``: shape ``(S, A)`` for ``V`` of shape ``(S,)``, and
    ``(S, A, K)`` for ``(S, K)``."""
    transitions, S, A = _transitions(transitions, values=False)
    values = _values("values", values, S)
    return _finite_result(_next(_flat(transitions, S, A), values, S, A), "values")


def _next(flat, values: np.ndarray, S: int, A: int) -> np.ndarray:
    return (flat @ values).reshape((S, A) + values.shape[1:])


def action_values(transitions, reward, values, discount, *, terminal=None) -> np.ndarray:
    """One Bellman backup ``Q(s, a) = x(s, a) + gamma sum_s' P(s'|s, a) V(s')``.

    Parameters
    ----------
    transitions : ndarray (S, A, S) or sparse (S*A, S)
    reward : array_like of shape (S, A), or (S, A, K) with ``values`` of shape (S, K)
    values : array_like of shape (S,) or (S, K)
    discount : float or array_like of shape (K,)
        Broadcast over the signal axis.
    terminal : array_like of bool, shape (S,), optional
        Rows of terminal states are set to zero.

    Returns
    -------
    ndarray of shape (S, A) or (S, A, K)
    """
    transitions, S, A = _transitions(transitions, values=False)
    reward = _signal("reward", reward, S, A)
    values = _values("values", values, S)
    stacked = reward.ndim == 3
    if stacked != (values.ndim == 2) or (stacked and values.shape[1] != reward.shape[2]):
        raise _fail("values", f"shape (S,) for an (S, A) reward, (S, K) for an (S, A, K) one (reward has shape "
                    f"{reward.shape})", f"shape {values.shape}")
    gamma = _discounts(discount, reward.shape[2] if stacked else None)
    terminal = _mask("terminal", terminal, (S,))
    # Checked before terminal rows are zeroed: a NaN in any row of the transitions is refused.
    q = reward + gamma * _finite_result(_next(_flat(transitions, S, A), values, S, A), "values")
    if terminal is not None:
        q[terminal] = 0.0
    return q


def _backup(flat, reward, values: np.ndarray, discount, terminal, S: int, A: int) -> np.ndarray:
    q = reward + discount * _next(flat, values, S, A)
    if terminal is not None:
        q[terminal] = 0.0
    return q


# ------------------------------------------------------------------------------------------ linear solve
def _restrict(p_pi, keep: np.ndarray):
    if isinstance(p_pi, np.ndarray):
        return p_pi[keep][:, keep]  # two boolean selections: a quarter of the time of p_pi[np.ix_(keep, keep)]
    p_pi = sp.csr_array(p_pi)[keep]
    return sp.csc_array(p_pi)[:, keep]


def _residual_check(system, x: np.ndarray, rhs: np.ndarray) -> None:
    residual = float(np.abs(system @ x - rhs).max())
    if not np.all(np.isfinite(x)) or residual > RESIDUAL_RTOL * max(1.0, float(np.abs(x).max())):
        raise SolverError("solve_bellman: ill-conditioned system I - gamma P_pi (a policy close to never "
                          "terminating)", status="ill-conditioned", residual=residual)


def _singular(exc) -> SolverError:
    return SolverError("solve_bellman: singular system I - gamma P_pi (the policy never terminates from some "
                       "state); use a discount below 1 or a finite horizon", status="singular", error=str(exc))


def _solve(p_pi, rhs: np.ndarray, gamma: float, transpose: bool, check: bool) -> np.ndarray:
    n = p_pi.shape[0]
    if gamma == 0.0:
        return rhs.copy()
    dense = isinstance(p_pi, np.ndarray)
    if dense or n <= DENSE_SOLVE_MAX_STATES:
        if dense:
            # I - gamma P without an identity matrix (-(gamma p) + 1 rounds exactly as 1 - gamma p), in P_pi's
            # memory order; the diagonal is every (n + 1)-th element in either order.
            system = p_pi * -gamma
            system.ravel(order="K")[:: n + 1] += 1.0
        else:
            # Assembled on the non-zeros, then densified (same values as the dense assembly); CSC densifies to
            # the column-major layout LAPACK factorises.
            system = (sp.identity(n, format="csc") - gamma * p_pi).tocsc().toarray()
        if transpose:
            system = system.T
        try:
            x = np.linalg.solve(system, rhs)
        except np.linalg.LinAlgError as exc:
            raise _singular(exc) from None
    else:
        system = sp.identity(n, format="csc") - gamma * p_pi
        if transpose:
            system = system.T
        system = system.tocsr()
        side = triangular_side(system)
        if side is not None:
            x = _solve_triangular(system, rhs, side)
            if check:
                _residual_check(system, x, rhs)
            return x
        columns = rhs.reshape(n, -1)
        out = np.empty_like(columns)
        for j in range(columns.shape[1]):
            b = columns[:, j]
            scale = float(np.abs(b).max())
            if scale == 0.0:
                out[:, j] = 0.0
                continue
            x, info = _bicgstab(system, b, gamma)
            if info != 0 or np.abs(system @ x - b).max() > 1e-10 * scale:
                try:
                    x = spla.splu(system.tocsc()).solve(b)
                except RuntimeError as exc:  # splu: "Factor is exactly singular"
                    raise _singular(exc) from None
            out[:, j] = x
        x = out.reshape(rhs.shape)
    if check:
        _residual_check(system, x, rhs)
    return x


#: Iteration cap of BiCGSTAB before the sparse LU takes over (it converges in tens of iterations on the
#: chains it suits; on nearly triangular, slowly leaking chains it breaks down or stalls).
KRYLOV_MAXITER = 1000


class _Diverged(Exception):
    pass


def _bicgstab(system, b: np.ndarray, gamma: float, *, x0=None, rtol: float = ITERATIVE_RTOL,
              maxiter: int = KRYLOV_MAXITER, counter=None):
    """BiCGSTAB on ``(I - gamma P) x = b`` (or its transpose), abandoned (``info = -1``, ``x = None``) as soon as
    an iterate leaves ``1e3`` times the a-priori bound ``|x| <= |b|_1 / (1 - gamma)`` that holds for the values
    and the occupancies of a sub-stochastic chain; ``counter(1)`` is called once per iteration."""
    bound = 1e3 * float(np.abs(b).sum()) / (1.0 - gamma) if gamma < 1.0 else np.inf

    def watch(xk):
        if counter is not None:
            counter(1)
        if not np.abs(xk).max() <= bound:
            raise _Diverged

    try:
        with np.errstate(all="ignore"):   # a diverging iteration overflows before it reports failure
            x, info = spla.bicgstab(system, b, x0=b if x0 is None else x0, rtol=rtol, atol=0.0, maxiter=maxiter,
                                    callback=watch)
    except _Diverged:
        return None, -1
    if not np.all(np.isfinite(x)):
        return None, -1
    return x, info


def triangular_side(matrix) -> str | None:
    """``"upper"`` if every stored entry of the sparse square ``matrix`` has column >= row, ``"lower"`` if every
    one has column <= row, else ``None`` (one pass over the entries; the diagonal counts for both).

    The chain of an acyclic model whose states are numbered in a topological order (every transition goes to
    a state of at least the same index, as in the fine-grained recommender twin, where fatigue only grows) is
    upper triangular; its Bellman system is then solved exactly by back substitution."""
    csr = sp.csr_array(matrix)
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    cols = csr.indices
    if np.all(cols >= rows):
        return "upper"
    if np.all(cols <= rows):
        return "lower"
    return None


def _solve_triangular(system, rhs: np.ndarray, side: str) -> np.ndarray:
    """Back (or forward) substitution on a triangular sparse system, O(non-zeros) per right-hand side."""
    try:
        return spla.spsolve_triangular(sp.csr_array(system), rhs, lower=side == "lower")
    except np.linalg.LinAlgError as exc:   # a zero on the diagonal: gamma = 1 and an absorbing state
        raise _singular(exc) from None


def solve_bellman(p_pi, rhs, discount: float, *, transpose: bool = False, terminal=None,
                  check: bool = False) -> np.ndarray:
    """Solve ``(I - gamma P_pi[N, N]) X_N = b_N`` (or its transpose), ``X = 0`` on terminal states.

    Parameters
    ----------
    p_pi : ndarray or sparse matrix of shape (S, S)
        A policy's chain (:func:`policy_transition_matrix`).
    rhs : array_like of shape (S,) or (S, m)
        One or several right-hand sides (one factorisation for all on the dense path).
    discount : float
        ``gamma`` in ``[0, 1]``; with ``1`` the chain restricted to ``N`` must be sub-stochastic.
    transpose : bool
        Solve the transposed system (occupancy measures).
    terminal : array_like of bool, shape (S,), optional
        States whose unknowns are fixed to zero.
    check : bool
        Also fail on a large residual (an ill-conditioned, nearly improper chain).

    Returns
    -------
    ndarray with the shape of ``rhs``

    Raises
    ------
    SolverError
        If the system is singular (status ``"singular"``) or, with ``check``, ill-conditioned
        (``"ill-conditioned"``).
    """
    p_pi = _chain_matrix(p_pi)
    n = p_pi.shape[0]
    rhs = check_array("rhs", rhs)
    if rhs.ndim not in (1, 2) or rhs.shape[0] != n:
        raise _fail("rhs", f"shape ({n},) or ({n}, m), one row per state of p_pi", f"shape {rhs.shape}")
    gamma = float(_discounts(discount, None))
    terminal = _mask("terminal", terminal, (n,))
    if terminal is None and gamma >= 1.0:
        _check_episodic(np.asarray(gamma), None)
    return _solve_bellman(p_pi, rhs, gamma, transpose=transpose, terminal=terminal, check=check)


def _chain_matrix(p_pi):
    """A validated ``(n, n)`` sub-stochastic matrix (dense float array or sparse)."""
    if sp.issparse(p_pi):
        if p_pi.dtype.kind not in "biuf":
            raise _fail("p_pi", "a sparse matrix of real probabilities", f"dtype {p_pi.dtype}")
        data = p_pi.data
    else:
        p_pi = check_array("p_pi", p_pi, ndim=2)
        data = p_pi
    if p_pi.ndim != 2 or p_pi.shape[0] != p_pi.shape[1] or p_pi.shape[0] == 0:
        raise _fail("p_pi", "a square (S, S) matrix with S >= 1", f"shape {p_pi.shape}")
    if data.size and not np.all(np.isfinite(data)):
        raise _fail("p_pi", "finite probabilities", "a non-finite entry")
    if data.size and data.min() < 0:
        raise _fail("p_pi", "non-negative probabilities", f"{data.min():.6g}")
    sums = np.asarray(p_pi.sum(axis=1)).ravel()
    if sums.max() > 1.0 + PROBABILITY_ATOL:
        raise _fail("p_pi", f"rows summing to at most 1 (within {PROBABILITY_ATOL:g})",
                    f"sum {sums.max():.12g} in row {int(np.argmax(sums))}")
    return p_pi


def _solve_bellman(p_pi, rhs: np.ndarray, gamma: float, *, transpose: bool = False, terminal=None,
                   check: bool = False) -> np.ndarray:
    """Unvalidated :func:`solve_bellman` (``terminal`` a boolean mask or None)."""
    if terminal is None:
        return _solve(p_pi, rhs, gamma, transpose, check)
    keep = ~terminal
    out = np.zeros_like(rhs)
    if keep.any():
        out[keep] = _solve(_restrict(p_pi, keep), rhs[keep], gamma, transpose, check)
    return out


# ------------------------------------------------------------------------------------------ evaluation
def _state_values(transitions, S, A, policy, reward, gammas, terminal, horizon, check) -> np.ndarray:
    """Unvalidated :func:`state_values`: ``gammas`` has shape ``()`` or ``(K,)`` matching ``reward``."""
    if horizon is not None:
        flat = _flat(transitions, S, A)
        values = np.zeros(reward.shape[:1] + reward.shape[2:])
        for t in range(horizon - 1, -1, -1):
            q = _backup(flat, reward, values, gammas, terminal, S, A)
            values = _policy_reward(q, policy[t] if policy.ndim == 3 else policy)
        return values
    p_pi = _chain(transitions, policy, S, A)
    per_state = _policy_reward(reward, policy)
    if reward.ndim == 2:
        return _solve_bellman(p_pi, per_state, float(gammas), terminal=terminal, check=check)
    values = np.empty_like(per_state)
    for gamma in np.unique(gammas):
        cols = np.flatnonzero(gammas == gamma)
        values[:, cols] = _solve_bellman(p_pi, per_state[:, cols], float(gamma), terminal=terminal,
                                         check=check).reshape(-1, cols.size)
    return values


def _evaluation_inputs(transitions, policy, reward, discount, terminal, horizon, validate=True):
    transitions, S, A = _transitions(transitions, values=False)
    terminal = _mask("terminal", terminal, (S,))
    if validate:
        _check_probabilities(transitions, S, A, terminal)
    reward = _signal("reward", reward, S, A)
    gammas = _discounts(discount, reward.shape[2] if reward.ndim == 3 else None)
    if horizon is None:
        _check_episodic(gammas, terminal)
    else:
        if isinstance(horizon, bool) or not isinstance(horizon, numbers.Integral) or horizon < 0:
            raise _fail("horizon", "a non-negative integer or None", repr(horizon))
        horizon = int(horizon)
    policy = _policy(policy, S, A, horizon, terminal)
    return transitions, S, A, reward, gammas, terminal, policy, horizon


def state_values(transitions, policy, reward, discount, *, terminal=None, horizon: int | None = None,
                 check: bool = False, validate: bool = True) -> np.ndarray:
    """Exact values ``V^pi`` of one signal or a stack of signals.

    Parameters
    ----------
    transitions : ndarray (S, A, S) or sparse (S*A, S)
    policy : array_like of shape (S, A), or (H, S, A) with a horizon
        ``policy[s, a] = pi(a | s)`` (``policy[t]`` at decision time ``t``).
    reward : array_like of shape (S, A) or (S, A, K)
    discount : float or array_like of shape (K,)
        ``gamma`` in ``[0, 1]`` (per signal for a stack); ``1`` needs terminal states or a horizon.
    terminal : array_like of bool, shape (S,), optional
        States that end the episode on entry (value zero).
    horizon : int, optional
        Finite horizon ``H`` (backward recursion); ``None`` solves the infinite-horizon linear system.
    check : bool
        Fail on an ill-conditioned system as well as on a singular one.
    validate : bool
        Check that the transitions are probabilities (finite, non-negative, rows of non-terminal states summing
        to one): one pass over their entries.  ``False`` skips it for callers that validated them once (the
        shapes, the policy and the signals are always checked).

    Returns
    -------
    ndarray of shape (S,) or (S, K)

    Raises
    ------
    SolverError
        If the policy never terminates from some state (``gamma = 1``; status ``"singular"``), or, with
        ``check``, nearly so (``"ill-conditioned"``).
    """
    transitions, S, A, reward, gammas, terminal, policy, horizon = _evaluation_inputs(
        transitions, policy, reward, discount, terminal, horizon, validate)
    return _state_values(transitions, S, A, policy, reward, gammas, terminal, horizon, check)


def evaluate_policy(transitions, policy, reward, discount, *, initial, terminal=None, horizon: int | None = None,
                    with_q: bool = True, check: bool = False, validate: bool = True) -> PolicyEvaluation:
    """Exact values of a policy from an initial law (see :func:`state_values` for the parameters).

    Parameters
    ----------
    initial : array_like of shape (S,)
        Initial state distribution ``mu0``.
    with_q : bool
        Also compute the main signal's action values (one more backup).

    Returns
    -------
    PolicyEvaluation
    """
    transitions, S, A, reward, gammas, terminal, policy, horizon = _evaluation_inputs(
        transitions, policy, reward, discount, terminal, horizon, validate)
    initial = _initial(initial, S)
    values = _state_values(transitions, S, A, policy, reward, gammas, terminal, horizon, check)
    totals = _values_at(values, initial)
    if reward.ndim == 2:
        main, main_reward, main_gamma = values, reward, gammas
        value = float(totals)
        totals, stack = np.array([value]), values[:, None]
    else:
        main, main_reward, main_gamma = np.ascontiguousarray(values[:, 0]), reward[..., 0], gammas[0]
        value, stack = float(totals[0]), values
    q = _backup(_flat(transitions, S, A), main_reward, main, main_gamma, terminal, S, A) if with_q else None
    return PolicyEvaluation(value=value, state_values=main, q_values=q, signal_values=totals,
                            signal_state_values=stack, discounts=gammas if gammas.ndim else gammas[None],
                            horizon=horizon)


def state_occupancy(transitions, policy, initial, discount: float, *, terminal=None, check: bool = False,
                    validate: bool = True) -> np.ndarray:
    """Expected discounted visits ``d(s) = sum_{t < tau} gamma^t Pr(s_t = s)`` from ``initial``, shape ``(S,)``.

    Zero on terminal states; sums to ``1 / (1 - gamma)`` without terminal states and to the expected
    episode length when ``gamma = 1``.  ``validate`` as for :func:`state_values`.
    """
    return _state_occupancy(transitions, policy, initial, discount, terminal, check, validate)[0]


def _state_occupancy(transitions, policy, initial, discount, terminal, check, validate):
    transitions, S, A = _transitions(transitions, values=False)
    terminal = _mask("terminal", terminal, (S,))
    if validate:
        _check_probabilities(transitions, S, A, terminal)
    gamma = float(_discounts(discount, None))
    _check_episodic(np.asarray(gamma), terminal)
    initial = _initial(initial, S)
    policy = _policy(policy, S, A, None, terminal)
    d = _solve_bellman(_chain(transitions, policy, S, A), initial, gamma, transpose=True, terminal=terminal,
                       check=check)
    return d, policy


def occupancy_measure(transitions, policy, initial, discount: float, *, terminal=None,
                      check: bool = False, validate: bool = True) -> np.ndarray:
    """State-action occupancy ``x(s, a) = d(s) pi(a|s)`` (see :func:`state_occupancy`), shape ``(S, A)``.

    ``sum(x * signal)`` is the signal's value ``mu0 . V``.
    """
    d, policy = _state_occupancy(transitions, policy, initial, discount, terminal, check, validate)
    return d[:, None] * policy


# ------------------------------------------------------------------------------------------------ planning
def _planning_inputs(transitions, reward, discount, terminal, allowed, validate=True):
    transitions, S, A = _transitions(transitions, values=False)
    terminal = _mask("terminal", terminal, (S,))
    if validate:
        _check_probabilities(transitions, S, A, terminal)
    reward = _signal("reward", reward, S, A)
    if reward.ndim != 2:
        raise _fail("reward", f"shape (S, A) = ({S}, {A}) (planning optimises one signal)", f"shape {reward.shape}")
    gamma = float(_discounts(discount, None))
    return transitions, S, A, reward, gamma, terminal, _allowed_actions(allowed, terminal, S, A)


def _masked(q: np.ndarray, allowed) -> np.ndarray:
    return q if allowed is None else np.where(allowed, q, -np.inf)


def value_iteration(transitions, reward, discount: float, *, terminal=None, allowed=None, initial=None,
                    tol: float = 1e-10, max_iter: int = 100_000, validate: bool = True) -> PlanningResult:
    """Optimal values by value iteration ``V <- max_a [x + gamma P V]`` until the sup-norm change is below ``tol``.

    With ``gamma = 1`` the Bellman equation can have spurious fixed points when some action keeps the
    process among non-terminal states forever; use ``gamma < 1`` or :func:`policy_iteration` there.

    Parameters
    ----------
    transitions : ndarray (S, A, S) or sparse (S*A, S)
    reward : array_like of shape (S, A)
    discount : float
        ``gamma`` in ``[0, 1]``.
    terminal : array_like of bool, shape (S,), optional
        States that end the episode on entry (value zero).
    allowed : array_like of bool, shape (S, A), optional
        Actions the maximum ranges over (every non-terminal state needs one).
    initial : array_like of shape (S,), optional
        Initial law for :attr:`PlanningResult.value`.
    tol : float
        Positive.
    max_iter : int
    validate : bool
        Check that the transitions are probabilities (see :func:`state_values`).

    Raises
    ------
    SolverError
        If ``max_iter`` sweeps do not reach ``tol`` (status ``"max_iter"``).
    """
    transitions, S, A, reward, gamma, terminal, allowed = _planning_inputs(transitions, reward, discount, terminal,
                                                                           allowed, validate)
    tol = check_positive("tol", tol)
    max_iter = check_integer("max_iter", max_iter, minimum=1)
    if initial is not None:
        initial = _initial(initial, S)
    flat = _flat(transitions, S, A)
    values = np.zeros(S)
    delta, it = np.inf, 0
    while it < max_iter:
        it += 1
        new = _masked(reward + gamma * _next(flat, values, S, A), allowed).max(axis=1)
        if terminal is not None:
            new[terminal] = 0.0
        delta = np.abs(new - values).max()
        values = new
        if delta < tol:
            break
    if not delta < tol:
        raise SolverError(f"value_iteration: no convergence to tol={tol:g} in {max_iter} sweeps",
                          status="max_iter", last_change=float(delta))
    q = _backup(flat, reward, values, gamma, terminal, S, A)
    policy = np.argmax(_masked(q, allowed), axis=1)
    value = float(_values_at(values, initial)) if initial is not None else float("nan")
    return PlanningResult(q, values, policy, value, it)


def backward_induction(transitions, reward, horizon: int, discount: float = 1.0, *, terminal=None, allowed=None,
                       initial=None, validate: bool = True) -> PlanningResult:
    """Finite-horizon optimal values ``Q_t = x + gamma P V_{t+1}``, ``V_t = max_a Q_t``, ``V_H = 0``.

    Returns
    -------
    PlanningResult
        ``q_values`` ``(H, S, A)``, ``state_values`` ``(H + 1, S)``, ``policy`` ``(H, S)`` (the greedy
        action at each decision time), ``value = mu0 . V_0`` and ``n_iterations = H``.
    """
    transitions, S, A, reward, gamma, terminal, allowed = _planning_inputs(transitions, reward, discount, terminal,
                                                                           allowed, validate)
    horizon = check_integer("horizon", horizon, minimum=0)
    check_allocation("horizon", 8.0 * (horizon * S * A + (horizon + 1) * S + horizon * S),
                     f"({horizon}, {S}, {A}) action values, ({horizon + 1}, {S}) state values and a policy")
    if initial is not None:
        initial = _initial(initial, S)
    flat = _flat(transitions, S, A)
    q = np.zeros((horizon, S, A))
    v = np.zeros((horizon + 1, S))
    for t in range(horizon - 1, -1, -1):
        q[t] = _backup(flat, reward, v[t + 1], gamma, terminal, S, A)
        v[t] = _masked(q[t], allowed).max(axis=1)
    policy = np.argmax(_masked(q, allowed), axis=2)
    value = float(_values_at(v[0], initial)) if initial is not None else float("nan")
    return PlanningResult(q, v, policy, value, int(horizon))


def policy_iteration(transitions, reward, discount: float, *, initial_policy=None, terminal=None, allowed=None,
                     initial=None, atol: float = 1e-12, rtol: float = 0.0, max_iter: int = 1000,
                     check: bool = False, validate: bool = True) -> PlanningResult:
    """Optimal deterministic policy by Howard's policy iteration (exact evaluation, greedy improvement).

    An action is switched only when the greedy one improves ``Q`` by more than ``atol + rtol |Q(s, pi(s))|``,
    so that ties and round-off cannot make the iteration cycle; ties go to the lowest action index.

    Parameters
    ----------
    transitions, reward, discount, terminal, allowed, initial
        As for :func:`value_iteration`.
    initial_policy : array_like of int, shape (S,), optional
        Starting actions (default: the allowed action of largest immediate reward).  With ``gamma = 1`` it
        must be proper.
    atol, rtol : float
        Improvement threshold.
    max_iter : int
        Improvement steps.
    check : bool
        Fail on ill-conditioned evaluations (see :func:`solve_bellman`).
    validate : bool
        Check that the transitions are probabilities (see :func:`state_values`).

    Raises
    ------
    SolverError
        If an evaluated policy never terminates (``gamma = 1``), or ``max_iter`` steps do not suffice
        (status ``"max_iter"``).
    """
    transitions, S, A, reward, gamma, terminal, allowed = _planning_inputs(transitions, reward, discount, terminal,
                                                                           allowed, validate)
    atol = check_nonnegative("atol", atol)
    rtol = check_nonnegative("rtol", rtol)
    max_iter = check_integer("max_iter", max_iter, minimum=1)
    if initial is not None:
        initial = _initial(initial, S)
    if initial_policy is None:
        policy = np.argmax(_masked(reward, allowed), axis=1)
    else:
        policy = np.asarray(initial_policy) if isinstance(initial_policy, (np.ndarray, list, tuple)) else np.array(())
        if policy.shape != (S,) or policy.dtype.kind not in "iu" or policy.min() < 0 or policy.max() >= A:
            raise _fail("initial_policy", f"integer actions in 0..{A - 1} of shape ({S},)",
                        f"shape {policy.shape}, dtype {policy.dtype}")
    gammas = np.asarray(gamma)
    _check_episodic(gammas, terminal)
    flat = _flat(transitions, S, A)
    rows = np.arange(S)
    for it in range(1, max_iter + 1):
        values = _state_values(transitions, S, A, deterministic_policy(policy, A), reward, gammas, terminal, None,
                               check)
        q = _backup(flat, reward, values, gamma, terminal, S, A)
        masked = _masked(q, allowed)
        best = np.argmax(masked, axis=1)
        current = masked[rows, policy]
        improve = masked[rows, best] > current + (atol + rtol * np.abs(current))
        if terminal is not None:
            improve &= ~terminal
        if not improve.any():
            value = float(_values_at(values, initial)) if initial is not None else float("nan")
            return PlanningResult(q, values, policy, value, it)
        policy = np.where(improve, best, policy)
    raise SolverError(f"policy_iteration: no convergence in {max_iter} improvement steps", status="max_iter")


def log_softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log softmax`` along ``axis``, stable for any magnitude of ``logits``.

    Entries may be ``-inf`` (probability zero), but not NaN, not ``+inf`` and not ``-inf`` along a whole slice
    (no distribution has all probabilities zero).
    """
    logits = check_array("logits", logits, finite=False)
    if np.isnan(logits).any() or np.isposinf(logits).any():
        raise _fail("logits", "real numbers or -inf", "a NaN or +inf")
    out = logits - logsumexp(logits, axis=axis, keepdims=True)
    if logits.size and np.isneginf(logits).all(axis=axis).any():
        raise _fail("logits", f"at least one finite entry along axis {axis}", "a slice of -inf only")
    return out


def soft_value_iteration(transitions, reward, discount: float, temperature: float, *, tol: float = 1e-12,
                         max_iter: int = 100_000, validate: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Entropy-regularised optimal policy ``pi(a|s) ∝ exp(Q_soft(s, a) / tau)`` by soft value iteration.

    ``V(s) = tau log sum_a exp(Q(s, a) / tau)`` with ``Q = x + gamma P V`` is iterated from ``V = 0`` until
    the sup-norm change is below ``tol * (1 + max |V|)`` (or for ``max_iter`` sweeps).

    Returns
    -------
    log_policy : ndarray of shape (S, A)
        ``log pi`` (full support, finite).
    soft_values : ndarray of shape (S,)
    """
    transitions, S, A = _transitions(transitions, values=validate)
    reward = _signal("reward", reward, S, A)
    if reward.ndim != 2:
        raise _fail("reward", f"shape (S, A) = ({S}, {A}) (planning optimises one signal)", f"shape {reward.shape}")
    gamma = float(_discounts(discount, None))
    tau = check_positive("temperature", temperature)
    tol = check_nonnegative("tol", tol)
    max_iter = check_integer("max_iter", max_iter, minimum=1)
    flat = _flat(transitions, S, A)
    values = np.zeros(S)
    for _ in range(max_iter):
        q = _backup(flat, reward, values, gamma, None, S, A)
        new = tau * logsumexp(q / tau, axis=1)
        done = np.abs(new - values).max() <= tol * (1.0 + np.abs(new).max())
        values = new
        if done:
            break
    q = _backup(flat, reward, values, gamma, None, S, A)
    return log_softmax(q / tau, axis=1), values
