r"""Learning agents under a posted hiring mechanism: independent EXP3 learners over (effort, report) plans.

The agents of a hiring instance (:mod:`mechsim.hiring`, Cacciamani, Castiglioni and Gatti, ICLR 2024)
face a posted mechanism :math:`(\phi, \pi, \gamma)` round after round without knowing it.  Agent *i*
recommended :math:`b_i` picks a *plan* :math:`(e, \omega)`: an effort :math:`e` and a reporting map
:math:`\omega : S_i \to S_i` (it reports :math:`\omega(s_i)` on signal :math:`s_i`), one of
:math:`|B_i|\,|S_i|^{|S_i|}` plans.  Each (agent, recommended effort) pair runs its own EXP3 learner
(:class:`mechsim.learners.Exp3`, bandit feedback) over the plans, with loss

.. math::  \ell = \frac{r_{\max} - r}{r_{\max} - r_{\min}} \in [0, 1], \qquad
           r_{\max} = M_i, \quad r_{\min} = -\max_{j, e} c_j(e),

where :math:`r = \gamma_i - c_i(e)` is the round's utility of agent *i* and :math:`M_i` its payment cap
(:attr:`mechsim.hiring.HiringInstance.payment_caps`; the loss stays in [0, 1] under any mechanism within
the caps).  Against an IC mechanism obedience with
truthful reports is a best response of every agent, so no-regret learners end up playing it most of the
time (exactly so under a strictness margin); against a non-IC mechanism the agent with a profitable
deviation learns it, which is what the audit of :func:`mechsim.hiring.audit_incentives` predicts.

:func:`independent_exp3_agents` plays the rounds in a ``mechsim/Hiring-v0`` parallel environment instance
that the caller builds (learners do not import environments): each round is the environment's two parallel
steps, an effort step (observation entry 1 is the recommendation, entry 3 of the next observation the
signal) and a report step (whose rewards are the round's utilities).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.hiring.model import HiringInstance, check_hiring_instance
from mechsim.learners.bandits import Exp3
from mechsim.validation import as_generator, check_allocation, check_integer

__all__ = ["AgentLearningResult", "independent_exp3_agents", "reporting_plans"]


def reporting_plans(instance: HiringInstance, agent: int) -> list[tuple[int, np.ndarray]]:
    """Every plan ``(effort, reporting map)`` of ``agent``: efforts in order, maps in C order of ``np.ndindex``."""
    instance = check_hiring_instance("instance", instance)
    agent = instance._agent(agent, "agent")
    S, E = instance.n_signals[agent], instance.n_efforts[agent]
    # one (effort, map) pair of a Python tuple and an S-entry array (about 8 S + 150 bytes) per plan
    check_allocation("instance", E * S ** S * (8 * S + 150),
                     f"the {E} x {S}^{S} plans (effort, reporting map) of agent {agent}")
    return [(e, np.array(w)) for e in range(instance.n_efforts[agent]) for w in np.ndindex(*([S] * S))]


@dataclass(frozen=True, eq=False)
class AgentLearningResult:
    """What the learning agents played.

    Attributes
    ----------
    rounds : int
    plans : tuple of list
        ``plans[i]``: agent *i*'s plans ``(effort, reporting map)`` (:func:`reporting_plans`).
    tail_rounds : int
        Number of final rounds counted in ``tail_counts``.
    tail_counts : tuple of ndarray
        ``tail_counts[i][b, p]``: in how many of the final ``tail_rounds`` rounds agent *i*, recommended
        ``b``, played plan ``p``.
    final_probabilities : tuple of tuple of ndarray
        ``final_probabilities[i][b]``: the final distribution over plans of agent *i*'s learner for
        recommendation ``b``.
    """

    rounds: int
    plans: tuple
    tail_rounds: int
    tail_counts: tuple
    final_probabilities: tuple

    def obedient_truthful_share(self) -> np.ndarray:
        """Per agent, the share of the final rounds in which it obeyed and reported truthfully."""
        hits = np.zeros(len(self.plans))
        for i, plans in enumerate(self.plans):
            for p, (e, w) in enumerate(plans):
                if np.array_equal(w, np.arange(w.size)):
                    hits[i] += self.tail_counts[i][e, p]
        return hits / np.maximum(np.full(len(self.plans), float(self.tail_rounds)), 1)

    def deviation_share(self, agent: int, recommended: int, deviation: int) -> float:
        """Share of the final rounds in which ``agent``, recommended ``recommended``, exerted ``deviation``."""
        efforts = np.array([e for e, _ in self.plans[agent]])
        hits = int(self.tail_counts[agent][recommended, efforts == deviation].sum())
        return hits / max(float(self.tail_rounds), 1)


def independent_exp3_agents(env, instance: HiringInstance, rounds: int, seed=None, *,
                            tail: int | None = None) -> AgentLearningResult:
    """Let one EXP3 learner per (agent, recommended effort) play ``rounds`` rounds in ``env`` (module docstring).

    Parameters
    ----------
    env : mechsim.envs.hiring.HiringParallelEnv
        A ``mechsim/Hiring-v0`` parallel environment for ``instance`` and the posted mechanism, with at least
        ``2 * rounds`` parallel steps per episode; it is reset here.
    instance : HiringInstance
        The instance ``env`` plays (sizes, payment caps and costs set the plans and the loss scale).
    rounds : int
    seed : None, int or numpy.random.SeedSequence
        Seeds the learners (one spawned child each, agent by agent and effort by effort) and the episode.
    tail : int, optional
        How many final rounds to count in :attr:`AgentLearningResult.tail_counts`; default ``rounds // 5``.

    Returns
    -------
    AgentLearningResult

    Raises
    ------
    InvalidInstanceError
        An argument is invalid, ``env`` is not a parallel environment for the agents of ``instance``, or its
        episodes (``max_cycles``) are shorter than ``2 * rounds`` steps.
    """
    instance = check_hiring_instance("instance", instance)
    if not all(callable(getattr(env, name, None)) for name in ("reset", "step")) \
            or not hasattr(env, "possible_agents"):
        raise InvalidInstanceError(f"env: expected a mechsim/Hiring-v0 parallel environment, found "
                                   f"{type(env).__name__}", argument="env")
    if len(env.possible_agents) != instance.n_agents:
        raise InvalidInstanceError(f"env: expected an environment with the {instance.n_agents} agents of instance, "
                                   f"found {len(env.possible_agents)}", argument="env")
    rounds = check_integer("rounds", rounds, minimum=1)
    cycles = getattr(env, "max_cycles", None)
    if cycles is not None and 2 * rounds > cycles:
        raise InvalidInstanceError(f"rounds: expected at most {cycles // 2} rounds (env.max_cycles = {cycles} "
                                   f"parallel steps, two per round), found {rounds}", argument="rounds")
    tail = rounds // 5 if tail is None else check_integer("tail", tail, minimum=0, maximum=rounds)
    if isinstance(seed, np.random.Generator):
        raise InvalidInstanceError("seed: expected None, a non-negative integer or a SeedSequence (the learners "
                                   "get spawned children), found a Generator", argument="seed")
    if not isinstance(seed, np.random.SeedSequence):
        as_generator(seed)  # the seed checks (None, a non-negative integer), naming ``seed``
    n = instance.n_agents
    plans = [reporting_plans(instance, i) for i in range(n)]
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    learners = [[Exp3(len(plans[i]), horizon=rounds, seed=np.random.default_rng(ss.spawn(1)[0]))
                 for _ in range(instance.n_efforts[i])] for i in range(n)]
    r_high = instance.payment_caps.tolist()          # agent i's utility is at most its own cap M_i
    r_low = -max(float(c.max()) for c in instance.costs)
    counts = [np.zeros((instance.n_efforts[i], len(plans[i])), dtype=np.int64) for i in range(n)]
    obs, _ = env.reset(seed=int(ss.generate_state(1)[0]))
    names = env.possible_agents
    first_counted = rounds - tail
    for t in range(rounds):
        rec = [int(obs[a][1]) for a in names]
        chosen = [learners[i][rec[i]].act() for i in range(n)]
        obs, _, _, _, _ = env.step({a: np.array([plans[i][chosen[i]][0], 0]) for i, a in enumerate(names)})
        reports = [int(plans[i][chosen[i]][1][int(obs[a][3])]) for i, a in enumerate(names)]
        obs, rewards, _, _, _ = env.step({a: np.array([0, reports[i]]) for i, a in enumerate(names)})
        for i, a in enumerate(names):
            learners[i][rec[i]].update(chosen[i], (r_high[i] - rewards[a]) / (r_high[i] - r_low))
            if t >= first_counted:
                counts[i][rec[i], chosen[i]] += 1
    final = tuple(tuple(np.asarray(learner.probabilities, dtype=float) for learner in per_agent)
                  for per_agent in learners)
    return AgentLearningResult(rounds=rounds, plans=tuple(plans), tail_rounds=tail, tail_counts=tuple(counts),
                               final_probabilities=final)
