r"""Primal–dual Lagrangian and PID-Lagrangian learners for CMDPs.

Both optimise the saddle point of the Lagrangian

.. math::

    L(\pi, \lambda) = V_r^\pi - \sum_k \lambda_k (J_k^\pi - d_k), \qquad \lambda \ge 0,

alternating a policy step on the scalarised reward ``r - lambda . c`` with a multiplier update
(:mod:`mechsim.learners.multipliers`):

- **gradient** (classical primal–dual): ``lambda <- max(0, lambda + eta (J - d))``;
- **PID** (Stooke, Achiam & Abbeel 2020): ``Delta = J - d``, ``I <- max(0, I + K_I Delta)``,
  ``D = max(0, J - J_prev)``, ``lambda = max(0, K_P Delta + I + K_D D)`` (defaults ``K_P = 0.1``,
  ``K_I = 0.01``, ``K_D = 0.01``).

Policy steps:

- **tabular, exact** (``*_tabular``, on a known :class:`~mechsim.cmdp.FiniteCMDP`): the softmax natural
  policy gradient ``pi_{t+1}(a|s) ∝ pi_t(a|s) exp(eta A_L^{pi_t}(s, a))`` with the exact advantage of
  ``r - lambda . c``, or (``policy_update="best_response"``) the exact deterministic best response.  With best
  responses the last iterate oscillates (a deterministic policy cannot hit a randomised optimum); the
  average — the policy of the averaged occupancy measure, whose values are the averages of the iterates'
  values — converges to the LP optimum.
- **sample-based** (``*_sample``, on a Gymnasium env that reports ``info["costs"]``): actor-critic with a
  tabular or linear softmax policy, Monte Carlo returns per signal, one linear critic per signal as
  baseline and Adam steps (:mod:`mechsim.learners.policies`); ``J`` is estimated by the batch's mean
  discounted cost.

Values are discounted sums (no ``(1 - gamma)`` factor); the limits ``d`` are in the same units.  The
exact optimum the learners are measured against is the occupancy LP of :mod:`mechsim.solvers.cmdp_lp`.
The application is constrained short-video recommendation (Cai et al., *Two-Stage Constrained
Actor-Critic for Short Video Recommendation*, WWW 2023), where these are the baselines of TSCAC
(:mod:`mechsim.learners.tscac`).
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from mechsim.cmdp.model import (
    FiniteCMDP,
    _analyse,
    _check_cmdp,
    action_values,
    check_policy,
    evaluate_policy,
    uniform_policy,
)
from mechsim.cmdp.planning import log_softmax, optimal_policy
from mechsim.errors import InvalidInstanceError
from mechsim.learners.multipliers import GradientMultiplier, PIDMultiplier
from mechsim.learners.policies import (
    SoftmaxPolicy,
    check_batch_size,
    check_discrete_env,
    collect_episodes,
    policy_gradient_step,
    sample_discounts,
    sample_setup,
)
from mechsim.optim import Adam
from mechsim.validation import (
    as_generator,
    check_array,
    check_choice,
    check_integer,
    check_nonnegative,
    check_positive,
)

__all__ = [
    "GradientMultiplier",
    "PIDMultiplier",
    "SampleLearnerResult",
    "TabularLearnerResult",
    "averaged_occupancy_policy",
    "lagrangian_sample",
    "lagrangian_tabular",
    "pid_lagrangian_sample",
    "pid_lagrangian_tabular",
]


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class TabularLearnerResult:
    """Outcome of a tabular learner (all values exact, discounted sums).

    Attributes
    ----------
    method : str
    policy : ndarray (S, A)
        Last iterate.
    value, cost_values : float, ndarray (K,)
        Exact values of the last iterate.
    average_policy : ndarray (S, A)
        Policy of the averaged occupancy measure of all iterates (its values are the iterate averages).
    average_value, average_cost_values : float, ndarray (K,)
    multipliers, average_multipliers : ndarray (K,)
        Last and averaged multipliers (zeros for methods without multipliers).
    training_values : ndarray (T,)
        Exact main value of iterate ``t`` (the training curve).
    training_costs : ndarray (T, K)
        Exact constraint values of iterate ``t``.
    training_multipliers : ndarray (T, K)
        Multipliers used for the step after iterate ``t``.
    """

    method: str
    policy: np.ndarray
    value: float
    cost_values: np.ndarray
    average_policy: np.ndarray
    average_value: float
    average_cost_values: np.ndarray
    multipliers: np.ndarray
    average_multipliers: np.ndarray
    training_values: np.ndarray
    training_costs: np.ndarray
    training_multipliers: np.ndarray

    def violation_fraction(self, limits, atol: float = 1e-6) -> float:
        """Fraction of iterates that violate some constraint by more than ``atol``."""
        limits = np.asarray(limits, dtype=float)
        return float(np.mean((self.training_costs > limits + atol).any(axis=1)))


@dataclass(frozen=True)
class SampleLearnerResult:
    """Outcome of a sample-based learner (values are Monte Carlo estimates, discounted sums).

    Attributes
    ----------
    method : str
    policy : SoftmaxPolicy
        Final policy (``policy.table()`` for tabular observation spaces).
    average_policy : ndarray (S, A) or None
        For ``Discrete`` observations: the policy of the empirical discounted state-action visitation of
        all training episodes (the sample counterpart of the averaged occupancy); None otherwise.
    multipliers, average_multipliers : ndarray (K,)
    training_values : ndarray (T,)
        Mean discounted reward of the episodes of iteration ``t``.
    training_costs : ndarray (T, K)
        Mean discounted costs of the episodes of iteration ``t``.
    training_multipliers : ndarray (T, K)
    episodes : int
        Episodes used in total.
    """

    method: str
    policy: SoftmaxPolicy
    average_policy: np.ndarray | None
    multipliers: np.ndarray
    average_multipliers: np.ndarray
    training_values: np.ndarray
    training_costs: np.ndarray
    training_multipliers: np.ndarray
    episodes: int


def averaged_occupancy_policy(occupancy_sum: np.ndarray) -> np.ndarray:
    """``pi(a|s) = x(s,a) / sum_b x(s,b)``, uniform where ``x(s, .) = 0`` (``x`` finite, non-negative, ``(S, A)``)."""
    occupancy_sum = check_array("occupancy_sum", occupancy_sum, ndim=2)
    if 0 in occupancy_sum.shape or occupancy_sum.min() < 0:
        raise InvalidInstanceError(f"occupancy_sum: expected a non-empty (S, A) array of non-negative occupancies, "
                                   f"found shape {occupancy_sum.shape}, minimum "
                                   f"{occupancy_sum.min() if occupancy_sum.size else None}", "occupancy_sum")
    visits = occupancy_sum.sum(axis=1, keepdims=True)
    uniform = np.full_like(occupancy_sum, 1.0 / occupancy_sum.shape[1])
    return np.where(visits > 0, occupancy_sum / np.where(visits > 0, visits, 1.0), uniform)


# ---------------------------------------------------------------------- tabular
def _tabular_primal_dual(cmdp: FiniteCMDP, rule, method: str, iterations: int, policy_lr: float | None,
                         policy_update: str, initial_policy) -> TabularLearnerResult:
    cmdp = _check_cmdp(cmdp)
    K = cmdp.n_constraints
    T = check_batch_size("iterations", iterations, K)
    check_choice("policy_update", policy_update, ("npg", "best_response"))
    eta = (1.0 - cmdp.discount) if policy_lr is None else check_positive("policy_lr", policy_lr)
    policy = uniform_policy(cmdp) if initial_policy is None else np.array(
        check_policy(cmdp, initial_policy, name="initial_policy"))
    with np.errstate(divide="ignore"):
        logits = np.log(policy)
    state = rule.start(K)
    values = np.empty(T)
    costs = np.empty((T, K))
    lams = np.empty((T, K))
    occupancy_sum = np.zeros_like(policy)
    for t in range(T):
        policy = np.exp(log_softmax(logits, axis=1))
        state_values, occupancy = _analyse(cmdp, policy)
        totals = state_values @ cmdp.initial
        values[t], costs[t] = totals[0], totals[1:]
        occupancy_sum += occupancy
        lam = rule.update(state, costs[t].copy(), cmdp.limits)
        lams[t] = lam
        scalarised = cmdp.reward - np.tensordot(lam, cmdp.costs, axes=1)
        if policy_update == "npg":
            # Values are linear in the reward: V_{r - lam.c} = V_r - lam.V_c, no second solve needed.
            v_lagrangian = state_values[0] - lam @ state_values[1:]
            adv = action_values(cmdp, scalarised, v_lagrangian) - v_lagrangian[:, None]
            # Round-off in -inf logits (zero-probability actions) stays -inf; finite ones move by eta * A.
            logits = log_softmax(np.where(np.isfinite(logits), logits + eta * adv, -np.inf), axis=1)
        else:
            best, _ = optimal_policy(cmdp, scalarised)
            with np.errstate(divide="ignore"):
                logits = np.log(best)
    policy = np.exp(log_softmax(logits, axis=1))
    last = evaluate_policy(cmdp, policy)
    avg_policy = averaged_occupancy_policy(occupancy_sum / T)
    avg = evaluate_policy(cmdp, avg_policy)
    return TabularLearnerResult(
        method=method, policy=policy, value=last.value, cost_values=last.cost_values,
        average_policy=avg_policy, average_value=avg.value, average_cost_values=avg.cost_values,
        multipliers=lams[-1].copy(), average_multipliers=lams.mean(axis=0), training_values=values,
        training_costs=costs, training_multipliers=lams)


def lagrangian_tabular(cmdp: FiniteCMDP, *, iterations: int = 500, multiplier_lr: float = 0.1,
                       policy_lr: float | None = None, policy_update: str = "npg",
                       initial_policy=None) -> TabularLearnerResult:
    """Primal–dual Lagrangian with exact gradients on a known CMDP.

    Parameters
    ----------
    cmdp : FiniteCMDP
    iterations : int
        Number of primal–dual steps ``T``.
    multiplier_lr : float
        ``eta`` in ``lambda <- max(0, lambda + eta (J - d))``.
    policy_lr : float, optional
        Natural-gradient step ``pi <- pi exp(policy_lr * A)``; default ``1 - gamma``.
    policy_update : {"npg", "best_response"}
        Softmax natural policy gradient, or the exact deterministic best response to ``r - lambda c``.
    initial_policy : array_like (S, A), optional
        Default uniform.

    Returns
    -------
    TabularLearnerResult
        Last iterate, occupancy-averaged policy and the exact training curves.
    """
    rule = GradientMultiplier(check_positive("multiplier_lr", multiplier_lr))
    return _tabular_primal_dual(cmdp, rule, "lagrangian", iterations, policy_lr, policy_update, initial_policy)


def pid_lagrangian_tabular(cmdp: FiniteCMDP, *, iterations: int = 500, kp: float = 0.1, ki: float = 0.01,
                           kd: float = 0.01, policy_lr: float | None = None, policy_update: str = "npg",
                           initial_policy=None) -> TabularLearnerResult:
    """PID Lagrangian with exact gradients on a known CMDP (see the module docstring for the update).

    Parameters are those of :func:`lagrangian_tabular` with the PID gains ``kp``, ``ki``, ``kd`` in place of
    ``multiplier_lr``.

    Notes
    -----
    The gains act on constraint violations in discounted-sum units.  The defaults (0.1, 0.01, 0.01) are those
    of Stooke et al.; on small CMDPs whose violations are O(0.1) they converge slowly, and gains such as
    ``kp=1, ki=0.1, kd=0`` with ``policy_lr=0.5`` reach the LP saddle point (value, policy and multiplier to
    1e-6) in a few hundred iterations (see ``tests/test_cmdp_learners.py``).
    """
    rule = PIDMultiplier(kp, ki, kd)
    return _tabular_primal_dual(cmdp, rule, "pid-lagrangian", iterations, policy_lr, policy_update,
                                initial_policy)


# ---------------------------------------------------------------------- sample-based
def _sample_primal_dual(env, limits, rule, method, *, iterations, episodes_per_iteration, discount, lr,
                        max_steps, seed, entropy) -> SampleLearnerResult:
    check_discrete_env(env)
    limits = check_array("limits", limits, ndim=1)
    K = limits.size
    T = check_batch_size("iterations", iterations, K)
    E = check_batch_size("episodes_per_iteration", episodes_per_iteration, K)
    discounts = sample_discounts(discount, 1 + K)
    entropy = check_nonnegative("entropy", entropy)
    if max_steps is not None:
        max_steps = check_integer("max_steps", max_steps, minimum=1)
    rng = as_generator(seed)
    phi, F, A, tabular, max_steps = sample_setup(env, discounts, max_steps)
    weights = np.zeros((A, F))
    adam = Adam([np.zeros(weights.shape)], check_positive("lr", lr))
    state = rule.start(K)
    values, costs, lams = np.empty(T), np.empty((T, K)), np.empty((T, K))
    visitation = np.zeros((F, A)) if tabular else None
    for t in range(T):
        policy = SoftmaxPolicy(weights.copy(), tabular)
        # collect_episodes checks that info["costs"] has K entries (len(discounts) == 1 + K).
        batch = collect_episodes(env, policy, phi, E, discounts, rng, max_steps)
        values[t] = batch.episode_returns[:, 0].mean()
        costs[t] = batch.episode_returns[:, 1:].mean(axis=0)
        lam = rule.update(state, costs[t], limits)
        lams[t] = lam
        if tabular:
            states = batch.features.argmax(axis=1)
            np.add.at(visitation, (states, batch.actions), discounts[0] ** batch.steps)
        coefficients = np.concatenate([[1.0], -lam])
        weights = weights + adam.increments([policy_gradient_step(batch, policy, coefficients, entropy)])[0]
    return SampleLearnerResult(
        method=method, policy=SoftmaxPolicy(weights, tabular),
        average_policy=averaged_occupancy_policy(visitation) if tabular else None,
        multipliers=lams[-1].copy(), average_multipliers=lams.mean(axis=0), training_values=values,
        training_costs=costs, training_multipliers=lams, episodes=T * E)


def lagrangian_sample(env: gym.Env, limits, *, iterations: int = 200, episodes_per_iteration: int = 16,
                      discount=0.99, lr: float = 0.05, multiplier_lr: float = 0.05, max_steps: int | None = None,
                      entropy: float = 0.0, seed=None) -> SampleLearnerResult:
    """Sample-based primal–dual Lagrangian (actor-critic) on a Gymnasium CMDP environment.

    Parameters
    ----------
    env : gymnasium.Env
        ``Discrete`` actions; ``Discrete`` (tabular softmax) or ``Box`` (linear softmax) observations;
        ``info["costs"]`` (or a scalar ``info["cost"]``) at every step.
    limits : array_like (K,)
        Limits on the discounted costs (limits live in the algorithm's configuration, not the env).
    iterations, episodes_per_iteration : int
        ``T`` updates, each from a fresh batch of episodes.
    discount : float or array_like (1 + K,)
        Discount of the reward and of each cost.
    lr : float
        Adam step size of the policy.
    multiplier_lr : float
        Multiplier step ``lambda <- max(0, lambda + multiplier_lr (J_hat - d))``.
    max_steps : int, optional
        Cap on episode length (default ``10 / (1 - gamma)``) for envs without a time limit.
    entropy : float
        Entropy bonus coefficient.
    seed : int or Generator
        Seeds the episode resets and action sampling; same seed, same result.
    """
    rule = GradientMultiplier(check_positive("multiplier_lr", multiplier_lr))
    return _sample_primal_dual(env, limits, rule, "lagrangian", iterations=iterations,
                               episodes_per_iteration=episodes_per_iteration, discount=discount, lr=lr,
                               max_steps=max_steps, seed=seed, entropy=entropy)


def pid_lagrangian_sample(env: gym.Env, limits, *, iterations: int = 200, episodes_per_iteration: int = 16,
                          discount=0.99, lr: float = 0.05, kp: float = 0.1, ki: float = 0.01, kd: float = 0.01,
                          max_steps: int | None = None, entropy: float = 0.0, seed=None) -> SampleLearnerResult:
    """Sample-based PID Lagrangian; parameters as :func:`lagrangian_sample` with PID gains."""
    rule = PIDMultiplier(kp, ki, kd)
    return _sample_primal_dual(env, limits, rule, "pid-lagrangian", iterations=iterations,
                               episodes_per_iteration=episodes_per_iteration, discount=discount, lr=lr,
                               max_steps=max_steps, seed=seed, entropy=entropy)
