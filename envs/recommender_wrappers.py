r"""Evaluation helpers of the short-video recommender (:mod:`mechsim.envs.recommender`): a wrapper that
reports the shown item's expected signals, and the policies ("choosers") of the baselines and of a learned
ranking-rule policy, in the ``choose(env, obs) -> candidate`` form of :func:`mechsim.rollout.rollout`.

:class:`ExpectedSignals`
    At every step, before the user responds, adds ``info["expected_signals"]``: the conditional
    expectations :math:`E[x_f \mid \text{user state}, \text{item}]` of the seven signals (watch time, then
    the probabilities of click ... hate) of the candidate about to be shown.  Averages of these are exact
    given the visited states, so rare rates (follows at 5e-4 per request) are measured with far less noise
    than by counting the 0/1 draws; the session itself still follows the sampled responses.
:func:`random_candidate_chooser`
    The uniformly random recommender (which reproduces the logged KuaiRand means by calibration).
:func:`watch_greedy_chooser`
    The myopic oracle :math:`\arg\max_k E[\text{watch}_k]`: it reads the hidden user state, so it is an
    upper reference, not a policy an agent acting on observations can be.
:func:`ranking_rule_chooser`
    A softmax policy over the ranking rules of :class:`~mechsim.envs.recommender.RankingRules`
    (e.g. one trained by :mod:`mechsim.learners.lagrangian` on a ``RankingRules`` env) applied to the raw
    recommender: it samples a rule from the policy on the user-level observation and shows the candidate
    that rule ranks first.
"""

from __future__ import annotations

import gymnasium
import numpy as np

from mechsim.envs.recommender import RankingRules, RecommenderEnv
from mechsim.envs.signal_wrappers import check_gym_env
from mechsim.errors import InvalidInstanceError
from mechsim.learners.policies import SoftmaxPolicy, featurizer
from mechsim.rollout import Chooser

__all__ = ["ExpectedSignals", "random_candidate_chooser", "ranking_rule_chooser", "watch_greedy_chooser"]


class ExpectedSignals(gymnasium.Wrapper, gymnasium.utils.RecordConstructorArgs):
    """Add ``info["expected_signals"]`` (shape ``(7,)``, ordered as ``signal_names``) to every step.

    Parameters
    ----------
    env : RecommenderEnv, possibly wrapped by wrappers that keep its candidate-index actions

    Examples
    --------
    >>> env = ExpectedSignals(RecommenderEnv())
    >>> _ = env.reset(seed=0)
    >>> expected = env.unwrapped.candidate_expectations()[3]
    >>> *_, info = env.step(3)
    >>> bool((info["expected_signals"] == expected).all())
    True
    """

    def __init__(self, env: gymnasium.Env):
        gymnasium.utils.RecordConstructorArgs.__init__(self)
        gymnasium.Wrapper.__init__(self, check_gym_env(env))
        base = env.unwrapped
        if not isinstance(base, RecommenderEnv):
            raise InvalidInstanceError(f"env: expected a RecommenderEnv, found {type(base).__name__}", argument="env")
        if env.action_space != base.action_space:
            raise InvalidInstanceError(f"env: expected candidate-index actions {base.action_space}, found "
                                       f"{env.action_space} (wrap the recommender before changing its actions)",
                                       argument="env")
        self._base = base

    def step(self, action):
        # The expectations depend on the state before the response; an invalid action makes the environment
        # raise its own error in the step below.
        try:
            expected = self._base.candidate_expectations()[action]
        except (IndexError, TypeError, RuntimeError):
            expected = None
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["expected_signals"] = expected
        return obs, reward, terminated, truncated, info


def random_candidate_chooser(rng: np.random.Generator) -> Chooser:
    """``choose(env, obs)`` showing a uniformly random candidate (``rng.integers(K)`` per request)."""

    def choose(env, obs):
        return int(rng.integers(env.unwrapped.n_candidates))

    return choose


def watch_greedy_chooser() -> Chooser:
    """``choose(env, obs)`` showing the candidate with the largest expected watch time (hidden-state oracle)."""

    def choose(env, obs):
        return int(np.argmax(env.unwrapped.candidate_expectations()[:, 0]))

    return choose


def ranking_rule_chooser(policy: SoftmaxPolicy, rng: np.random.Generator, rules: dict | None = None) -> Chooser:
    """``choose(env, obs)`` for the raw recommender, sampling a ranking rule from ``policy``.

    Parameters
    ----------
    policy : SoftmaxPolicy
        A linear softmax policy over the rules, on :class:`RankingRules`' user observation
        (``Box(0, 1, (8,))``, features ``[obs, 1]``).
    rng : numpy.random.Generator
        Draws the rules (``rng.choice`` with the policy's probabilities).
    rules : dict, optional
        The rules the policy was trained on; default :data:`~mechsim.envs.recommender.DEFAULT_RULES`.
    """
    holder = {}

    def choose(env, obs):
        if holder.get("env") is not env:
            holder["env"], holder["rules"] = env, RankingRules(env, rules)
            holder["phi"] = featurizer(holder["rules"].observation_space)[0]
        view = holder["rules"]
        logp = policy.log_probabilities_from_features(holder["phi"](view.user_observation(obs)))[0]
        action = int(rng.choice(logp.size, p=np.exp(logp - np.logaddexp.reduce(logp))))
        return view.candidate_for(action)

    return choose
