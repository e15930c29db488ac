"""RLlib PPO (new API stack) agents on ``mechsim/Hiring-v0``: property-testing incentives with learners.

Run:  python examples/rllib_hiring.py [--iterations 25] [--mechanisms ic wage swap]   (needs the ``rl`` extra)

Each agent of the default hiring instance (:func:`mechsim.envs.hiring.default_instance`, 2 agents, 2 efforts,
2 signals) is an independent PPO learner (one RLModule per agent) playing the posted mechanism through
``ParallelPettingZooEnv(hiring_rllib_env(...))``: one-hot observations (phase, recommended effort, exerted
effort, signal) and a flat action ``effort * n_signals + report``.  Episodes are 10 rounds.  Mechanisms:

- ``ic``: the optimal mechanism that recommends agent 0 to work with an incentive margin of 0.05
  (:func:`mechsim.solvers.hiring_lp.optimal_mechanism` with ``margin=0.05, profile=(1, 0)``): shirking
  loses at least 0.05 per round.  (The unrestricted optimum, ``margin=0``, leaves agent 0 *exactly*
  indifferent between working and shirking, so no learner can be expected to pick obedience there.)
- ``wage``: the same recommendation with a flat wage of 0.2 to agent 0 whatever it reports: not IC, the
  audit's best deviation is to shirk.
- ``swap``: the ``ic`` payments with agent 0's report axis reversed: not IC, the audit's best deviation
  is to keep working and report the opposite signal.

For every mechanism the script prints what :func:`mechsim.hiring.audit_incentives` says, what the learned
greedy policies do (effort when recommended, report for each signal), and the exact expected utility per
round of agent 0's learned policy against obeying and against the audit's best deviation.
About 1.5 minutes per mechanism on an idle 2-core machine (plus ~20 s to start Ray).
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
    ic = optimal_mechanism(instance, margin=0.03, profile=(1, 1))
    wage = np.full_like(ic.payments, 0.2)
    swapped = ic.payments.copy()
    swapped[0] = swapped[0][:, :, ::-1]       # agent 0's report is axis n + 0 = 2 of payments[0]
    return {"ic": ic,
            "wage": Mechanism.build(instance, ic.recommendation, wage, ic.decision),
            "swap": Mechanism.build(instance, ic.recommendation, swapped, ic.decision)}


def build_algo(instance, mechanism, seed: int = 0, max_cycles: int = 20):
    """A PPO ``Algorithm`` with one independent RLModule per agent (Ray must be initialised)."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.rllib.env import ParallelPettingZooEnv
    from ray.tune.registry import register_env

    register_env("mechsim_hiring", lambda cfg: ParallelPettingZooEnv(hiring_rllib_env(cfg)))
    config = (
        PPOConfig()
        .environment("mechsim_hiring", env_config={"instance": instance, "mechanism": mechanism,
                                                   "max_cycles": max_cycles})
        .env_runners(num_env_runners=0)
        .learners(num_learners=0)
        .training(train_batch_size_per_learner=2000, minibatch_size=500, num_epochs=8, lr=3e-3, gamma=0.9,
                  lambda_=0.9, entropy_coeff=0.003)
        .multi_agent(policies=set(AGENTS), policy_mapping_fn=lambda agent_id, *args, **kwargs: agent_id)
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={
            a: RLModuleSpec(model_config={"fcnet_hiddens": [32]}) for a in AGENTS}))
        .debugging(seed=seed)
    )
    return config.build_algo()


def learned_policy(algo, instance, mechanism) -> dict:
    """Greedy effort per recommended effort and report map per (recommended, exerted) of each agent.

    Also the marginal probabilities: ``p_effort[i][b]`` (effort distribution when recommended ``b``) and
    ``p_report[i][b][e]`` (``(S, S)``: report distribution for each true signal after exerting ``e``).
    """
    import torch

    env = hiring_rllib_env({"instance": instance, "mechanism": mechanism})
    out = {"effort": [], "report_map": [], "p_effort": [], "p_report": []}
    for i, agent in enumerate(AGENTS):
        E, S = instance.n_efforts[i], instance.n_signals[i]
        module = algo.get_module(agent)
        obs = [env.encode(agent, (0, b, 0, 0)) for b in range(E)]
        obs += [env.encode(agent, (1, b, e, s)) for b in range(E) for e in range(E) for s in range(S)]
        with torch.no_grad():
            logits = module.forward_inference({"obs": torch.tensor(np.array(obs))})["action_dist_inputs"]
        p = torch.softmax(logits, dim=-1).numpy().reshape(len(obs), E, S)   # flat action = effort * S + report
        p_effort = p[:E].sum(axis=2)                                        # (b, effort)
        p_report = p[E:].sum(axis=1).reshape(E, E, S, S)                    # (b, e, s, report)
        out["p_effort"].append(p_effort)
        out["p_report"].append(p_report)
        out["effort"].append(p_effort.argmax(axis=1))
        out["report_map"].append(p_report.argmax(axis=3))
    return out


def expected_utility(instance, mechanism, agent: int, effort, report_map) -> float:
    """Exact expected utility per round of ``agent`` playing ``effort[b_i]`` and reporting
    ``report_map[b_i][e][s]`` while the others obey and report truthfully."""
    n = instance.n_agents
    q, pay, cost = instance.joint, mechanism.payments[agent], instance.costs[agent]
    total = 0.0
    for b in map(tuple, mechanism.support):
        e = int(effort[b[agent]])
        exerted = tuple(e if j == agent else b[j] for j in range(n))
        mapped = np.take(pay[b], np.asarray(report_map[b[agent]][e]), axis=agent)
        total += mechanism.recommendation[b] * ((q[exerted] * mapped).sum() - cost[e])
    return float(total)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=25, help="PPO iterations (2000 env steps each)")
    parser.add_argument("--mechanisms", nargs="+", default=["ic", "wage", "swap"], choices=["ic", "wage", "swap"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import ray
    import torch
    torch.set_num_threads(1)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    instance = default_instance()
    results = {}
    try:
        for name in args.mechanisms:
            mech = mechanisms(instance)[name]
            audit = audit_incentives(instance, mech)
            t0 = time.perf_counter()
            algo = build_algo(instance, mech, seed=args.seed)
            for _ in range(args.iterations):
                algo.train()
            seconds = time.perf_counter() - t0
            pol = learned_policy(algo, instance, mech)
            algo.stop()
            S0 = instance.n_signals[0]
            truthful = [[np.arange(S0)] * instance.n_efforts[0]] * instance.n_efforts[0]
            obey = expected_utility(instance, mech, 0, np.arange(instance.n_efforts[0]), truthful)
            b = audit.recommended_effort
            learned_u = expected_utility(instance, mech, 0, pol["effort"][0], pol["report_map"][0])
            e0 = int(pol["effort"][0][b])
            results[name] = {"audit": audit, "policy": pol, "obey_utility": obey, "learned_utility": learned_u,
                             "best_deviation_utility": obey + audit.max_gain, "seconds": seconds}
            print(f"\n[{name}] {audit}")
            print(f"  agent_0 recommended {b}: learned effort {e0} (P = {pol['p_effort'][0][b, e0]:.3f}), "
                  f"report map {pol['report_map'][0][b][e0].tolist()} "
                  f"(P(report = map(s) | s) = {np.round(pol['p_report'][0][b][e0].max(axis=1), 3).tolist()})")
            print(f"  agent_1 recommended 0: learned effort {int(pol['effort'][1][0])} "
                  f"(P = {pol['p_effort'][1][0].max():.3f})")
            print(f"  agent_0 exact utility per round: obey+truthful {obey:.4f}, audit's best deviation "
                  f"{obey + audit.max_gain:.4f}, learned policy {learned_u:.4f}   ({seconds:.0f} s training)")
    finally:
        ray.shutdown()
    return results


if __name__ == "__main__":
    main()
