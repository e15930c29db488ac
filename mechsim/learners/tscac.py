r"""Two-Stage Constrained Actor-Critic (TSCAC; Cai et al., *Two-Stage Constrained Actor-Critic for Short Video
Recommendation*, WWW 2023).

Signals: the main reward ``r`` (watch time) and ``K`` auxiliary signals.  In a
:class:`~mechsim.cmdp.FiniteCMDP` the auxiliaries are the costs, so the auxiliary *signal* ``i`` is ``-c_i``;
with the recommender's non-negative missed-interaction costs ``c = 1 - x`` (:mod:`mechsim.cmdp.tabular_twin`,
:mod:`mechsim.envs.recommender`) that is ``x - 1``, the interaction up to a constant, which changes no policy
(stage one's entropy-regularised optimum and stage two's closed form are invariant to a constant added to a
signal).  Each signal may have its own discount ``gamma_i``.

**Stage one.** For each auxiliary ``i`` an entropy-regularised policy optimising ``-c_i`` alone:
``pi_i = argmax_pi E[sum_t gamma_i^t (-c_i + tau H(pi(.|s_t)))]`` (full support, so stage two is not pinned).

**Stage two.** Per state, maximise the main advantage while staying close to every auxiliary policy:

.. math::

    \max_{\pi(\cdot|s)} \; E_{a \sim \pi}[A_1(s, a)] - \sum_i \lambda_i \, KL(\pi(\cdot|s) \,\|\, \pi_i(\cdot|s)),

whose stationarity condition gives the closed form (:func:`tscac_target`)

.. math::

    \pi^*(a|s) \propto \prod_i \pi_i(a|s)^{\lambda_i / \Lambda} \exp(A_1(s, a) / \Lambda),
    \qquad \Lambda = \sum_i \lambda_i,

computed in log space (``exp(A / Lambda)`` overflows for small ``Lambda``).  The weights ``lambda_i`` are
hyper-parameters; the limits of the CMDP are never used, so TSCAC carries no feasibility guarantee.

**Tabular version** (:func:`tscac_tabular`): exact stage one by soft value iteration, then the damped
fixed-point iteration ``log pi_{k+1} = (1 - alpha) log pi_k + alpha log pi*[A_1^{pi_k}]`` with exact policy
evaluation of ``A_1`` under the main discount.

**Sample-based version** (:func:`tscac_sample`): stage one trains one entropy-regularised actor-critic per
auxiliary signal (own critic, own discount); stage two fits a linear Q-critic of the main signal (own
discount) and moves the actor toward ``pi*`` at the visited states by minimising
``KL(pi*(.|s) || pi_theta(.|s))`` — the weighted maximum-likelihood step of the paper, with the weights
``pi*(a|s)`` known exactly for all actions of a discrete action space.

Values are discounted sums (no ``(1 - gamma)`` factor).
"""

from __future__ import annotations

from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from mechsim.cmdp.model import MAX_DISCOUNT, FiniteCMDP, _analyse, _check_cmdp, action_values, evaluate_policy
from mechsim.cmdp.planning import advantages, log_softmax, soft_optimal_policy
from mechsim.errors import InvalidInstanceError
from mechsim.learners.policies import (
    SoftmaxPolicy,
    check_batch_size,
    check_discrete_env,
    collect_episodes,
    fit_linear_critic,
    policy_gradient_step,
    sample_discounts,
    sample_setup,
)
from mechsim.optim import Adam
from mechsim.validation import (
    as_generator,
    check_allocation,
    check_array,
    check_in_range,
    check_integer,
    check_nonnegative,
    check_positive,
)

__all__ = ["TSCACResult", "TSCACSampleResult", "tscac_sample", "tscac_tabular", "tscac_target"]


def tscac_target(advantage, aux_log_policies, weights) -> np.ndarray:
    """Stage-two closed form ``log pi* = sum_i (lambda_i/Lambda) log pi_i + A / Lambda - log Z``.

    Parameters
    ----------
    advantage : array_like (..., A)
        Main-signal advantages ``A_1(s, a)`` (any leading shape, e.g. ``(S, A)`` or ``(A,)``).
    aux_log_policies : array_like (m, ..., A)
        ``log pi_i`` of the ``m`` auxiliary policies (finite: full support).
    weights : array_like (m,)
        ``lambda_i > 0``.

    Returns
    -------
    ndarray (..., A)
        ``log pi*``, normalised over the last axis.
    """
    adv = check_array("advantage", advantage)
    logs = check_array("aux_log_policies", aux_log_policies)
    lam = check_array("weights", weights, ndim=1)
    if logs.shape != (lam.size,) + adv.shape:
        raise InvalidInstanceError(
            f"aux_log_policies: expected shape {(lam.size,) + adv.shape} (one log-policy per entry of weights, "
            f"shape {lam.shape}, each shaped like advantage), found {logs.shape}", "aux_log_policies")
    if lam.size == 0 or lam.min() <= 0:
        raise InvalidInstanceError(f"weights: expected at least one weight, all > 0, found {lam}", "weights")
    total = lam.sum()
    mixed = np.tensordot(lam / total, logs, axes=1)
    return log_softmax(mixed + adv / total, axis=-1)


@dataclass(frozen=True)
class TSCACResult:
    """Outcome of :func:`tscac_tabular` (exact values under the CMDP's common discount).

    Attributes
    ----------
    policy : ndarray (S, A)
    value, cost_values : float, ndarray (K,)
    aux_policies : ndarray (K, S, A)
        Stage-one entropy-regularised auxiliary policies.
    training_values, training_costs : ndarray (T,), (T, K)
        Exact values of the stage-two iterates.
    converged : bool
        Whether the fixed point was reached (policy change below ``tol``).
    weights : ndarray (K,)
    """

    policy: np.ndarray
    value: float
    cost_values: np.ndarray
    aux_policies: np.ndarray
    training_values: np.ndarray
    training_costs: np.ndarray
    converged: bool
    weights: np.ndarray

    method: str = "tscac"


def _weights(weights, K: int) -> np.ndarray:
    if weights is None or isinstance(weights, (bool, np.bool_, str, bytes)):
        raise InvalidInstanceError(f"weights: expected a positive number or {K} of them, found "
                                   f"{type(weights).__name__} {weights!r}", "weights")
    lam = check_array("weights", weights)
    if lam.ndim == 0:
        lam = np.full(K, float(lam))
    lam = check_array("weights", lam, shape=(K,))
    if K == 0 or lam.min() <= 0:
        raise InvalidInstanceError(f"weights: expected {K} positive weights (one per auxiliary signal), "
                                   f"found {lam}", "weights")
    return lam


def tscac_tabular(cmdp: FiniteCMDP, weights, *, temperature: float = 1.0, discounts=None,
                  iterations: int = 200, damping: float = 0.5, tol: float = 1e-10) -> TSCACResult:
    """Exact tabular TSCAC on a known CMDP.

    Parameters
    ----------
    cmdp : FiniteCMDP
        Auxiliary signals are ``-costs`` (for missed-interaction costs ``1 - x``: the interactions ``x`` up to a
        constant).
    weights : float or array_like (K,)
        ``lambda_i`` (a scalar is used for every auxiliary).  Large weights stay near the auxiliary policies;
        small ones approach the greedy (main-signal) policy.
    temperature : float
        Entropy coefficient ``tau`` of stage one.
    discounts : array_like (1 + K,), optional
        Per-signal discounts ``(gamma_1, gamma_2, ...)`` used for stage one and for ``A_1``; default the CMDP's.
    iterations : int
        Maximum stage-two iterations.
    damping : float in (0, 1]
        ``alpha`` of the damped fixed-point iteration in log space.
    tol : float
        Stop when ``max |pi_{k+1} - pi_k| < tol``.
    """
    cmdp = _check_cmdp(cmdp)
    K = cmdp.n_constraints
    lam = _weights(weights, K)
    tau = check_positive("temperature", temperature)
    alpha = check_positive("damping", damping)
    if not 1e-6 <= alpha <= 1.0:
        raise InvalidInstanceError(f"damping: expected a number in [1e-06, 1], found {damping!r}", "damping")
    T = check_integer("iterations", iterations, minimum=1)
    tol = check_nonnegative("tol", tol)
    gammas = np.full(1 + K, cmdp.discount) if discounts is None else check_array("discounts", discounts,
                                                                                   shape=(1 + K,))
    check_in_range("discounts", gammas, 0.0, MAX_DISCOUNT)
    aux = np.stack([soft_optimal_policy(cmdp, -cmdp.costs[i], tau, discount=gammas[1 + i])[0] for i in range(K)])
    log_pi = log_softmax(np.tensordot(lam / lam.sum(), aux, axes=1), axis=1)
    values, costs = [], []
    converged = False
    for _ in range(T):
        policy = np.exp(log_pi)
        state_values, _ = _analyse(cmdp, policy)
        totals = state_values @ cmdp.initial
        values.append(totals[0])
        costs.append(totals[1:])
        if gammas[0] == cmdp.discount:
            adv = action_values(cmdp, cmdp.reward, state_values[0]) - state_values[0][:, None]
        else:
            adv = advantages(cmdp, policy, cmdp.reward, gammas[0])
        target = tscac_target(adv, aux, lam)
        new = log_softmax((1 - alpha) * log_pi + alpha * target, axis=1)
        change = np.abs(np.exp(new) - policy).max()
        log_pi = new
        if change < tol:
            converged = True
            break
    policy = np.exp(log_pi)
    final = evaluate_policy(cmdp, policy)
    return TSCACResult(policy=policy, value=final.value, cost_values=final.cost_values, aux_policies=np.exp(aux),
                       training_values=np.asarray(values), training_costs=np.asarray(costs).reshape(-1, K),
                       converged=converged, weights=lam)


@dataclass(frozen=True)
class TSCACSampleResult:
    """Outcome of :func:`tscac_sample` (Monte Carlo estimates).

    Attributes
    ----------
    policy : SoftmaxPolicy
    aux_policies : tuple of SoftmaxPolicy
        Stage-one policies, one per auxiliary signal.
    training_values, training_costs : ndarray (T,), (T, K)
        Mean discounted reward and costs of the stage-two batches (each signal with its own discount).
    aux_training_values : ndarray (K, T1)
        Stage-one curves: mean discounted value of auxiliary signal ``i`` (``-cost_i``) while training ``pi_i``.
    episodes : int
    """

    policy: SoftmaxPolicy
    aux_policies: tuple
    training_values: np.ndarray
    training_costs: np.ndarray
    aux_training_values: np.ndarray
    episodes: int
    method: str = "tscac"


def tscac_sample(env: gym.Env, weights, *, n_constraints: int | None = None, discounts=0.99,
                 stage_one_iterations: int = 100, iterations: int = 100, episodes_per_iteration: int = 16,
                 lr: float = 0.05, temperature: float = 0.05, max_steps: int | None = None,
                 seed=None) -> TSCACSampleResult:
    """Sample-based TSCAC on a Gymnasium env reporting ``info["costs"]`` (auxiliary signal ``i`` = ``-costs[i]``).

    Parameters
    ----------
    env : gymnasium.Env
        ``Discrete`` actions; ``Discrete`` or ``Box`` observations.
    weights : float or array_like (K,)
        ``lambda_i``.
    n_constraints : int, optional
        ``K``; default the length of ``weights`` (a scalar weight then needs ``n_constraints``).
    discounts : float or array_like (1 + K,)
        Per-signal discounts (main first); each critic uses its own.
    stage_one_iterations, iterations, episodes_per_iteration : int
        Batches for each stage-one actor, batches for stage two, episodes per batch.
    lr : float
        Adam step size of every actor.
    temperature : float
        Entropy bonus of the stage-one actors.
    max_steps : int, optional
        Episode cap for envs without a time limit (default ``10 / (1 - max gamma)``).
    seed : int or Generator
    """
    check_discrete_env(env)
    if n_constraints is not None:
        K = check_integer("n_constraints", n_constraints, minimum=1)
        check_allocation("n_constraints", 8.0 * K * (K + 4), f"weights and discounts of {K} constraints")
    else:
        K = check_array("weights", weights).size if weights is not None and not isinstance(
            weights, (bool, np.bool_, str, bytes)) else 1
    lam = _weights(weights, K)
    gammas = sample_discounts(discounts, 1 + K, "discounts")
    T1 = check_batch_size("stage_one_iterations", stage_one_iterations, K)
    T = check_batch_size("iterations", iterations, K)
    E = check_batch_size("episodes_per_iteration", episodes_per_iteration, K)
    check_positive("lr", lr)
    tau = check_positive("temperature", temperature)
    if max_steps is not None:
        max_steps = check_integer("max_steps", max_steps, minimum=1)
    rng = as_generator(seed)
    phi, F, A, tabular, max_steps = sample_setup(env, gammas, max_steps)

    aux_policies, aux_curves = [], np.empty((K, T1))
    for i in range(K):
        weights_i = np.zeros((A, F))
        adam = Adam([np.zeros(weights_i.shape)], lr)
        coefficients = np.zeros(1 + K)
        coefficients[1 + i] = -1.0  # auxiliary signal i is -cost_i
        for t in range(T1):
            policy = SoftmaxPolicy(weights_i.copy(), tabular)
            batch = collect_episodes(env, policy, phi, E, gammas, rng, max_steps)
            aux_curves[i, t] = -batch.episode_returns[:, 1 + i].mean()
            weights_i = weights_i + adam.increments([policy_gradient_step(batch, policy, coefficients, entropy=tau)])[0]
        aux_policies.append(SoftmaxPolicy(weights_i, tabular))

    weights_main = np.tensordot(lam / lam.sum(), np.stack([p.weights for p in aux_policies]), axes=1)
    adam = Adam([np.zeros(weights_main.shape)], lr)
    values, costs = np.empty(T), np.empty((T, K))
    for t in range(T):
        policy = SoftmaxPolicy(weights_main.copy(), tabular)
        batch = collect_episodes(env, policy, phi, E, gammas, rng, max_steps)
        values[t] = batch.episode_returns[:, 0].mean()
        costs[t] = batch.episode_returns[:, 1:].mean(axis=0)
        log_pi = policy.log_probabilities_from_features(batch.features)
        # Main-signal Q critic, linear in phi(s) per action, fitted to the main returns (own discount).
        n = batch.actions.size
        sa_features = np.zeros((n, A * F))
        for a in range(A):
            rows = batch.actions == a
            sa_features[rows, a * F:(a + 1) * F] = batch.features[rows]
        q_weights = fit_linear_critic(sa_features, batch.returns[:, :1])[:, 0].reshape(A, F)
        q = batch.features @ q_weights.T
        adv = q - (np.exp(log_pi) * q).sum(axis=1, keepdims=True)
        aux_logs = np.stack([p.log_probabilities_from_features(batch.features) for p in aux_policies])
        target = np.exp(tscac_target(adv, aux_logs, lam))
        # Gradient of -KL(pi* || pi_theta) w.r.t. the logits is pi* - pi_theta.
        grad = (target - np.exp(log_pi)).T @ batch.features / n
        weights_main = weights_main + adam.increments([grad])[0]
    return TSCACSampleResult(policy=SoftmaxPolicy(weights_main, tabular), aux_policies=tuple(aux_policies),
                             training_values=values, training_costs=costs, aux_training_values=aux_curves,
                             episodes=(K * T1 + T) * E)
