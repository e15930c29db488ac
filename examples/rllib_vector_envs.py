"""RLlib PPO (new API stack) on mechsim's native vector envs: the recommender, and a batched auction.

Run:  python examples/rllib_vector_envs.py [--iterations 10] [--num-envs 64] [--seed 0]   (needs the ``rl`` extra)

**1. ``mechsim/Recommender-v0``: the native vector env against Gymnasium's sync path.**

RLlib's ``SingleAgentEnvRunner`` builds its environments with ``gymnasium.make_vec(id, num_envs=N,
vectorization_mode=config.gym_env_vectorize_mode, **env_config)``.  So the native vector env is one setting away:

    config.environment("mechsim_recommender", env_config=kwargs)
          .env_runners(num_envs_per_env_runner=N, gym_env_vectorize_mode="vector_entry_point")

where ``mechsim_recommender`` is the creator :func:`recommender_creator`, registered with
``ray.tune.registry.register_env``: RLlib calls it with ``env_config`` plus ``num_envs`` for the vector entry point
(it returns ``gymnasium.make_vec(..., vectorization_mode="vector_entry_point")``, a
:class:`~mechsim.envs.recommender_vector.RecommenderVectorEnv`) and without ``num_envs`` for each copy of the
``"sync"`` path (it returns ``gymnasium.make(...)``).  A registered creator is a picklable function that imports
mechsim, so it also works in remote env runners; the plain gym id (``config.environment("mechsim/Recommender-v0")``)
works too where ``import mechsim`` has registered it (the local env runner, ``num_env_runners=0``).

Both paths build the same PPO (same hyperparameters and seed; ``num_env_runners=0``, one CPU).  The script
measures the sampling throughput of each env runner (environment steps per wall-clock and per CPU second,
the two interleaved, best of two: :func:`sampling_throughput`), then trains each for ``--iterations``
iterations and prints the training wall-clock and the mean episode return (watch seconds per session), with
the ratios native / sync.  RLlib resets its vector env with one seed,
which both paths turn into seed ``s + i`` for sub-env ``i``, and the native env reproduces ``SyncVectorEnv``
seed by seed: both paths train on the same sessions (the returns agree).

**2. ``Auction-v0``, a batched multi-agent env.**  RLlib 2.x's multi-agent env runner vectorises a
``MultiAgentEnv`` only with its own ``SyncVectorMultiAgentEnv`` (``ray.rllib.env.vector.registration.make_vec``
raises ``ValueError: For `MultiAgentEnv` only synchronous environment vectorization is implemented`` for any
other ``gym_env_vectorize_mode``, and checks that every sub-env is a ``MultiAgentEnv``), so a batched
multi-agent env cannot be handed to it.  What RLlib *can* take is the SuperSuit-layout view
:func:`mechsim.envs.ma_vector.as_vector_env`: a ``gymnasium.vector.VectorEnv`` with one sub-env per (copy,
bidder), trained single-agent with ``gym_env_vectorize_mode="vector_entry_point"`` as one parameter-shared
policy.  The comparison path is RLlib's multi-agent one: ``ParallelPettingZooEnv`` over the single parallel env,
``num_envs_per_env_runner`` copies (sync), every bidder mapped to one shared policy: the same learning problem.
Throughput is counted in bidder-steps.

CPU only; ``torch.set_num_threads(1)``.  About 4 minutes on an idle 2-core machine at the defaults (plus ~20 s to
start Ray).
"""

from __future__ import annotations

import argparse
import time

ENV_KWARGS = {"n_candidates": 10, "max_steps": 100, "constraints": ("like",)}
AUCTION_KWARGS = {"n_bidders": 3, "format": "second", "max_cycles": 20}


def recommender_creator(env_config):
    """RLlib env creator: the native vector env when RLlib asks for ``num_envs``, else one single env."""
    import gymnasium

    import mechsim  # noqa: F401  (registers the environments in this process)

    cfg = dict(env_config)
    num_envs = cfg.pop("num_envs", None)
    if num_envs is None:
        return gymnasium.make("mechsim/Recommender-v0", **cfg)
    return gymnasium.make_vec("mechsim/Recommender-v0", num_envs=num_envs,
                              vectorization_mode="vector_entry_point", **cfg)


def build_algo(mode: str, num_envs: int, seed: int = 0, env_kwargs: dict | None = None,
               batch: int = 4096):
    """A PPO ``Algorithm`` on ``num_envs`` recommender sessions per env runner, vectorised by ``mode``
    (``"vector_entry_point"``: the native vector env; ``"sync"``: ``SyncVectorEnv`` over single envs)."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.tune.registry import register_env

    register_env("mechsim_recommender", recommender_creator)
    config = (
        PPOConfig()
        .environment("mechsim_recommender", env_config=dict(ENV_KWARGS if env_kwargs is None else env_kwargs))
        .env_runners(num_env_runners=0, num_envs_per_env_runner=num_envs, gym_env_vectorize_mode=mode)
        .learners(num_learners=0)
        .training(train_batch_size_per_learner=batch, minibatch_size=512, num_epochs=4, lr=3e-4, gamma=0.9,
                  lambda_=0.95)
        .rl_module(rl_module_spec=RLModuleSpec(model_config={"fcnet_hiddens": [64, 64]}))
        .debugging(seed=seed)
    )
    return config.build_algo()


def sampling_throughput(algos: dict, timesteps: int, reps: int = 2) -> dict:
    """Agent-steps per wall-clock and per CPU second of each algorithm's env runner sampling ``timesteps``,
    the algorithms interleaved and the best of ``reps`` kept (robust to other load on a shared machine).

    ``env_runner.sample`` runs in this process (``num_env_runners=0``): the environment, RLlib's episode
    bookkeeping and connectors, and the policy's forward passes; no learning.
    """
    best = {name: (0.0, 0.0) for name in algos}
    for _ in range(reps):
        for name, algo in algos.items():
            t0, cpu0 = time.perf_counter(), time.process_time()
            episodes = algo.env_runner.sample(num_timesteps=timesteps, random_actions=False)
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            steps = sum(ep.agent_steps() for ep in episodes)
            best[name] = (max(best[name][0], steps / wall), max(best[name][1], steps / max(cpu, 1e-9)))
    return best


def _metric(result: dict, *path, default=float("nan")):
    for key in path:
        if not isinstance(result, dict) or key not in result:
            return default
        result = result[key]
    return result


def _train(algo, iterations: int) -> tuple[float, list]:
    wall, returns = 0.0, []
    for _ in range(iterations):
        t0 = time.perf_counter()
        result = algo.train()
        wall += time.perf_counter() - t0
        returns.append(_metric(result, "env_runners", "episode_return_mean"))
    return wall, returns


def compare(iterations: int, num_envs: int, seed: int = 0, env_kwargs: dict | None = None,
            batch: int = 4096) -> dict:
    """Both recommender paths, same PPO and seed, in one run (Ray must be initialised): sampling throughput
    (:func:`sampling_throughput`, interleaved), then ``iterations`` training iterations each, and the
    ratios native / sync."""
    modes = {"sync": "sync", "native": "vector_entry_point"}
    algos = {key: build_algo(mode, num_envs, seed, env_kwargs, batch) for key, mode in modes.items()}
    try:
        speed = sampling_throughput(algos, max(batch, 4 * num_envs))
        out = {}
        for key, algo in algos.items():
            wall, returns = _train(algo, iterations)
            out[key] = {"mode": modes[key], "env": type(algo.env_runner.env.unwrapped).__name__,
                        "steps_per_s": speed[key][0], "steps_per_cpu_s": speed[key][1],
                        "train_wall_s": wall, "return": returns[-1], "returns": returns}
    finally:
        for algo in algos.values():
            algo.stop()
    out["sampling_ratio"] = out["native"]["steps_per_cpu_s"] / out["sync"]["steps_per_cpu_s"]
    out["wall_ratio"] = out["sync"]["train_wall_s"] / out["native"]["train_wall_s"]
    return out


def auction_slots_creator(env_config):
    """RLlib env creator: ``as_vector_env(AuctionVectorEnv(copies))`` with ``copies * n_bidders = num_envs``."""
    from mechsim.envs.auction_vector import AuctionVectorEnv
    from mechsim.envs.ma_vector import as_vector_env

    cfg = dict(env_config)
    num_envs = cfg.pop("num_envs", None)
    bidders = cfg.get("n_bidders", 2)
    if num_envs is None or num_envs % bidders:
        raise ValueError(f"num_envs: expected a multiple of n_bidders={bidders} (vector_entry_point only), "
                         f"found {num_envs}")
    return as_vector_env(AuctionVectorEnv(num_envs // bidders, **cfg))


def auction_ma_creator(env_config):
    """RLlib env creator of the multi-agent path: ``ParallelPettingZooEnv`` over one parallel auction."""
    from ray.rllib.env import ParallelPettingZooEnv

    from mechsim.envs.auction import parallel_env

    return ParallelPettingZooEnv(parallel_env(**dict(env_config)))


def build_auction_algo(path: str, copies: int, seed: int = 0, env_kwargs: dict | None = None, batch: int = 4096):
    """PPO with one policy shared by every bidder: ``path="slots"`` (the batched env's vector view, single-agent,
    vector entry point) or ``path="multi_agent"`` (RLlib's multi-agent runner, ``copies`` sync copies)."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec
    from ray.tune.registry import register_env

    kwargs = dict(AUCTION_KWARGS if env_kwargs is None else env_kwargs)
    bidders = kwargs.get("n_bidders", 2)
    config = PPOConfig()
    if path == "slots":
        register_env("mechsim_auction_slots", auction_slots_creator)
        config = (config.environment("mechsim_auction_slots", env_config=kwargs)
                  .env_runners(num_env_runners=0, num_envs_per_env_runner=copies * bidders,
                               gym_env_vectorize_mode="vector_entry_point")
                  .rl_module(rl_module_spec=RLModuleSpec(model_config={"fcnet_hiddens": [32, 32]})))
    else:
        from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec

        register_env("mechsim_auction_ma", auction_ma_creator)
        config = (config.environment("mechsim_auction_ma", env_config=kwargs)
                  .env_runners(num_env_runners=0, num_envs_per_env_runner=copies)
                  .multi_agent(policies={"shared"}, policy_mapping_fn=lambda agent_id, *args, **kw: "shared")
                  .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={
                      "shared": RLModuleSpec(model_config={"fcnet_hiddens": [32, 32]})})))
    # RLlib's multi-agent batches count env steps (n_bidders bidder-steps each): the same bidder-steps per
    # iteration on both paths.
    per = batch if path == "slots" else batch // bidders
    config = (config.learners(num_learners=0)
              .training(train_batch_size_per_learner=per, minibatch_size=min(512, per), num_epochs=4, lr=1e-3,
                        gamma=0.9)
              .debugging(seed=seed))
    return config.build_algo()


def compare_auction(iterations: int, copies: int, seed: int = 0, env_kwargs: dict | None = None,
                    batch: int = 4096) -> dict:
    """Both auction paths, as :func:`compare` (bidder-steps; ``return_per_bidder`` is the mean episode
    return of one bidder: RLlib's multi-agent episode return sums the bidders')."""
    kwargs = dict(AUCTION_KWARGS if env_kwargs is None else env_kwargs)
    bidders = kwargs.get("n_bidders", 2)
    algos = {path: build_auction_algo(path, copies, seed, kwargs, batch) for path in ("multi_agent", "slots")}
    try:
        speed = sampling_throughput(algos, max(batch // bidders, 4 * copies))
        out = {}
        for path, algo in algos.items():
            wall, returns = _train(algo, iterations)
            out[path] = {"path": path, "env": type(algo.env_runner.env.unwrapped).__name__,
                         "agent_steps_per_s": speed[path][0], "agent_steps_per_cpu_s": speed[path][1],
                         "train_wall_s": wall,
                         "return_per_bidder": returns[-1] if path == "slots" else returns[-1] / bidders}
    finally:
        for algo in algos.values():
            algo.stop()
    out["sampling_ratio"] = out["slots"]["agent_steps_per_cpu_s"] / out["multi_agent"]["agent_steps_per_cpu_s"]
    out["wall_ratio"] = out["multi_agent"]["train_wall_s"] / out["slots"]["train_wall_s"]
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import os

    import ray
    import torch

    torch.set_num_threads(1)
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        out = compare(args.iterations, args.num_envs, args.seed)
        copies = max(1, args.num_envs // AUCTION_KWARGS["n_bidders"])
        auction = compare_auction(args.iterations, copies, args.seed)
    finally:
        ray.shutdown()
    load = os.getloadavg()[0]
    print(f"RLlib PPO on mechsim/Recommender-v0 {ENV_KWARGS}, {args.num_envs} sessions per env runner, "
          f"{args.iterations} iterations (1-min load average {load:.2f})")
    print(f"  {'path':42s} {'steps/s':>9s} {'steps/CPU s':>12s} {'train wall s':>13s} {'return':>8s}")
    for key in ("sync", "native"):
        r = out[key]
        print(f"  {r['mode'] + ' (' + r['env'] + ')':42s} {r['steps_per_s']:9.0f} {r['steps_per_cpu_s']:12.0f} "
              f"{r['train_wall_s']:13.1f} {r['return']:8.1f}")
    print(f"  native / sync: {out['sampling_ratio']:.1f}x sampling throughput (CPU), {out['wall_ratio']:.2f}x "
          f"training wall-clock (PPO's updates are the same work on both paths)")
    print(f"\nAuction-v0 {AUCTION_KWARGS}, {copies} copies, one PPO policy shared by the bidders "
          f"(1-min load average {os.getloadavg()[0]:.2f})")
    print(f"  {'path':42s} {'bidder-steps/s':>15s} {'/CPU s':>9s} {'train wall s':>13s} {'return/bidder':>14s}")
    for key in ("multi_agent", "slots"):
        r = auction[key]
        print(f"  {r['path'] + ' (' + r['env'] + ')':42s} {r['agent_steps_per_s']:15.0f} "
              f"{r['agent_steps_per_cpu_s']:9.0f} {r['train_wall_s']:13.1f} {r['return_per_bidder']:14.3f}")
    print(f"  slots / multi-agent: {auction['sampling_ratio']:.1f}x sampling throughput (CPU), "
          f"{auction['wall_ratio']:.2f}x training wall-clock")
    return out, auction


if __name__ == "__main__":
    main()
