"""RLlib PPO (new API stack) agents on ``mechsim/Hiring-v0``: property-testing incentives with learners.

Run:  python examples/rllib_hiring.py [--iterations 20] [--mechanisms ic wage swap]   (needs the ``rl`` extra)

Agents of the default hiring instance (:func:`mechsim.envs.hiring.default_instance`: 2 agents, 2 efforts,
2 signals) are independent PPO learners, one RLModule each, playing a posted mechanism through
``ParallelPettingZooEnv(hiring_rllib_env(...))``: one-hot observations (phase, recommended effort, exerted
effort, signal) and a flat action ``effort * n_signals + report``; 10 rounds per episode.  Mechanisms (all
recommend that agent 0 works and agent 1 does not):

- ``ic``: the optimal such mechanism with an incentive margin of 0.1
  (:func:`mechsim.solvers.hiring_lp.optimal_mechanism` with ``margin=0.1, profile=(1, 0)``, value 0.39
  against 0.62 for the unrestricted optimum): shirking loses at least 0.1 per round.  (The unrestricted
  optimum, ``margin=0``, leaves agent 0 *exactly* indifferent between working and shirking, so no learner
  can be expected to pick obedience there.)
- ``wage``: a flat wage of 0.2 to agent 0 whatever happens: not IC, the audit's best deviation is to shirk.
- ``swap``: the ``ic`` payments with agent 0's report axis reversed: not IC, the audit's best deviation is
  to keep working and report the opposite signal.

Two ways to let learners loose:

- ``unilateral`` (the property test): agent 0 learns while agent 1 obeys and reports truthfully
  (``"learners": ["agent_0"]``), which is exactly the situation :func:`mechsim.hiring.audit_incentives`
  examines; the learner should end up at the audit's best response.
- ``independent``: both agents learn at once.  Agent 1 is unpaid, so its reports are payoff-irrelevant to
  it and need not stay truthful; agent 0's payments depend on them, so what agent 0 learns is a best
  response to what agent 1 actually does, which the audit does not model.

For every run the script prints the audit, what the learned greedy policies do (effort when recommended,
report for each signal) and the exact expected utility per round of agent 0's learned policy, against
obeying and against the audit's best deviation (both with the other agent obedient and truthful) and, for
``independent`` runs, given agent 1's learned behaviour.
About 1.5 minutes per run on an idle 2-core machine (plus ~20 s to start Ray).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mechsim.envs.hiring import default_instance
from mechsim.envs.rl import hiring_rllib_env
from mechsim.hiring import Mechanism, audit_incentives
from mechsim.solvers.hiring_lp import optimal_mechanism

AGENTS = ("agent_0", "agent_1")


def mechanisms(instance) -> dict[str, Mechanism]:
    ic = optimal_mechanism(instance, margin=0.1, profile=(1, 0))
    wage = np.zeros_like(ic.payments)
    wage[0] = 0.2
    swapped = ic.payments.copy()
    swapped[0] = swapped[0][:, :, ::-1]       # agent 0's report is axis n + 0 = 2 of payments[0]
    return {"ic": ic,
            "wage": Mechanism.build(instance, ic.recommendation, wage, ic.decision),
            "swap": Mechanism.build(instance, ic.recommendation, swapped, ic.decision)}


def build_algo(instance, mechanism, learners=AGENTS, seed: int = 0, max_cycles: int = 20):
    """A PPO ``Algorithm`` with one independent RLModule per learning agent (Ray must be initialised);
    the other agents obey and report truthfully."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.env import ParallelPettingZooEnv
    from ray.tune.registry import register_env

    learners = list(learners)
    register_env("mechsim_hiring", lambda cfg: ParallelPettingZooEnv(hiring_rllib_env(cfg)))
    config = (
        PPOConfig()
        .environment("mechsim_hiring", env_config={"instance": instance, "mechanism": mechanism,
                                                   "max_cycles": max_cycles, "learners": learners})
        .env_runners(num_env_runners=0)
        .learners(num_learners=0)
        .training(train_batch_size_per_learner=2000, minibatch_size=500, num_epochs=8, lr=3e-3, gamma=0.9,
                  lambda_=0.9, entropy_coeff=0.003)
        .multi_agent(policies=set(learners), policy_mapping_fn=lambda agent_id, *args, **kwargs: agent_id)
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={
            a: RLModuleSpec(model_config={"fcnet_hiddens": [32]}) for a in learners}))
        .debugging(seed=seed)
    )
    return config.build_algo()


def learned_policy(algo, instance, agent: str) -> dict:
    """Greedy effort per recommended effort and report map per (recommended, exerted) of a learner.

    ``p_effort[b]``: effort distribution when recommended ``b``; ``p_report[b][e]``: ``(S, S)`` report
    distribution for each true signal after exerting ``e``.
    """
    import torch

    i = AGENTS.index(agent)
    env = hiring_rllib_env({"instance": instance})
    E, S = instance.n_efforts[i], instance.n_signals[i]
    obs = [env.encode(agent, (0, b, 0, 0)) for b in range(E)]
    obs += [env.encode(agent, (1, b, e, s)) for b in range(E) for e in range(E) for s in range(S)]
    with torch.no_grad():
        logits = algo.get_module(agent).forward_inference({"obs": torch.tensor(np.array(obs))})["action_dist_inputs"]
    p = torch.softmax(logits, dim=-1).numpy().reshape(len(obs), E, S)       # flat action = effort * S + report
    p_effort = p[:E].sum(axis=2)                                            # (b, effort)
    p_report = p[E:].sum(axis=1).reshape(E, E, S, S)                        # (b, e, s, report)
    return {"effort": p_effort.argmax(axis=1), "report_map": p_report.argmax(axis=3),
            "p_effort": p_effort.astype(float), "p_report": p_report.astype(float)}


def obedient_truthful(instance, i: int) -> dict:
    """Agent ``i`` exerts the recommended effort and reports its signal (as one-hot probabilities)."""
    E, S = instance.n_efforts[i], instance.n_signals[i]
    return {"p_effort": np.eye(E), "p_report": np.broadcast_to(np.eye(S), (E, E, S, S))}


def greedy(policy) -> dict:
    """The deterministic policy that plays the most likely effort and report of ``policy``."""
    E, S = policy["p_effort"].shape[0], policy["p_report"].shape[-1]
    return {"p_effort": np.eye(E)[policy["p_effort"].argmax(axis=1)],
            "p_report": np.eye(S)[policy["p_report"].argmax(axis=3)]}


def expected_utility(instance, mechanism, agent: int, policies) -> float:
    """Exact expected utility per round of ``agent`` when every agent ``j`` plays ``policies[j]``.

    ``policies[j]["p_effort"][b_j, e_j]`` is the probability of exerting ``e_j`` when recommended ``b_j``
    and ``policies[j]["p_report"][b_j, e_j, s_j, r_j]`` of reporting ``r_j`` on observing ``s_j``.
    """
    n = instance.n_agents
    q, pay, cost = instance.joint, mechanism.payments[agent], instance.costs[agent]
    total = 0.0
    for b in map(tuple, mechanism.support):
        for e in np.ndindex(*instance.n_efforts):
            weight = np.prod([policies[j]["p_effort"][b[j], e[j]] for j in range(n)])
            if weight == 0:
                continue
            mapped = pay[b]                   # expected payment given the true signals: sum_r P(r | s) pay(r)
            for j in range(n):
                reports = np.asarray(policies[j]["p_report"][b[j], e[j]])          # (s_j, r_j)
                mapped = np.moveaxis(np.tensordot(reports, mapped, axes=([1], [j])), 0, j)
            total += mechanism.recommendation[b] * weight * ((q[e] * mapped).sum() - cost[e[agent]])
    return float(total)


def audit_best_utility(instance, mechanism, audit, agent: int) -> float:
    """Agent's utility at the audit's best unilateral deviation (others obedient and truthful)."""
    phi_i = mechanism.recommendation.sum(axis=tuple(j for j in range(instance.n_agents) if j != agent))
    obey = expected_utility(instance, mechanism, agent,
                            [obedient_truthful(instance, j) for j in range(instance.n_agents)])
    gains = np.where(phi_i[:, None] > 0, audit.gains[agent], 0.0)
    return obey + float((phi_i * np.maximum(gains.max(axis=1), 0.0)).sum())


def run(instance, name: str, mode: str, iterations: int, seed: int = 0) -> dict:
    """Train under mechanism ``name`` in ``mode`` ("unilateral" or "independent"); exact evaluation."""
    mech = mechanisms(instance)[name]
    audit = audit_incentives(instance, mech)
    learners = ["agent_0"] if mode == "unilateral" else list(AGENTS)
    t0 = time.perf_counter()
    algo = build_algo(instance, mech, learners, seed=seed)
    for _ in range(iterations):
        algo.train()
    seconds = time.perf_counter() - t0
    learned = {a: learned_policy(algo, instance, a) for a in learners}
    algo.stop()
    n = instance.n_agents
    baseline = [obedient_truthful(instance, j) for j in range(n)]
    actual = [learned.get(a, baseline[j]) for j, a in enumerate(AGENTS)]
    return {"mechanism": name, "mode": mode, "audit": audit, "learned": learned, "seconds": seconds,
            "obey_utility": expected_utility(instance, mech, 0, baseline),
            "audit_best_utility": audit_best_utility(instance, mech, audit, 0),
            # agent 0's learned policy as it is (stochastic) and its greedy version, others truthful
            "learned_vs_truthful_others": expected_utility(instance, mech, 0, [actual[0], *baseline[1:]]),
            "greedy_vs_truthful_others": expected_utility(instance, mech, 0, [greedy(actual[0]), *baseline[1:]]),
            # everybody as learned (independent mode)
            "learned_utility": expected_utility(instance, mech, 0, actual),
            "recommended": [int(np.argmax(mech.recommendation.sum(axis=tuple(k for k in range(n) if k != j))))
                            for j in range(n)]}


def describe(result) -> str:
    lines = [f"[{result['mechanism']}, {result['mode']}] {result['audit']}"]
    for a, pol in result["learned"].items():
        b = result["recommended"][AGENTS.index(a)]
        e = int(pol["effort"][b])
        lines.append(f"  {a} recommended {b}: learned effort {e} (P = {pol['p_effort'][b, e]:.3f}), report map "
                     f"{pol['report_map'][b][e].tolist()} (P = "
                     f"{np.round(pol['p_report'][b][e].max(axis=1), 3).tolist()})")
    lines.append(f"  agent_0 exact utility per round (agent_1 obedient and truthful): obey+truthful "
                 f"{result['obey_utility']:.4f}, audit's best deviation {result['audit_best_utility']:.4f}, learned "
                 f"{result['learned_vs_truthful_others']:.4f} (its greedy version "
                 f"{result['greedy_vs_truthful_others']:.4f})   [{result['seconds']:.0f} s]")
    if result["mode"] == "independent":
        lines.append(f"  agent_0 exact utility per round given agent_1's learned play: {result['learned_utility']:.4f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20, help="PPO iterations (2000 env steps each)")
    parser.add_argument("--mechanisms", nargs="*", default=["ic", "wage", "swap"], choices=["ic", "wage", "swap"],
                        help="mechanisms run with agent 0 learning, agent 1 obedient and truthful")
    parser.add_argument("--independent", nargs="*", default=["ic"], choices=["ic", "wage", "swap"],
                        help="mechanisms also run with both agents learning")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import ray
    import torch
    torch.set_num_threads(1)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    instance = default_instance()
    results = []
    try:
        jobs = [(m, "unilateral") for m in args.mechanisms] + [(m, "independent") for m in args.independent]
        for name, mode in jobs:
            results.append(run(instance, name, mode, args.iterations, args.seed))
            print(describe(results[-1]), flush=True)
    finally:
        ray.shutdown()
    return results


if __name__ == "__main__":
    main()
