"""RLlib PPO (new API stack) on ``mechsim/Recommender-v0``: the native vector env against Gymnasium's sync path.

Run:  python examples/rllib_recommender.py [--iterations 10] [--num-envs 64] [--seed 0]   (needs the ``rl`` extra)

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

Both paths train the same PPO (same hyperparameters and seed; ``num_env_runners=0``, one CPU) for
``--iterations`` iterations; the script prints the sampling throughput (environment steps per second of
RLlib's sampling timer, and per wall-clock second of the whole iteration) and the mean episode return (watch
seconds per session) at the end, with the ratios native / sync.  The two paths sample different random
numbers (RLlib seeds sub-envs its own way), so their returns agree only statistically.

CPU only; ``torch.set_num_threads(1)``.  About 2 minutes on an idle 2-core machine at the defaults (plus ~20 s to
start Ray).
"""

from __future__ import annotations

import argparse
import time

ENV_KWARGS = {"n_candidates": 10, "max_steps": 100, "constraints": ("like",)}


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


def _metric(result: dict, *path, default=float("nan")):
    for key in path:
        if not isinstance(result, dict) or key not in result:
            return default
        result = result[key]
    return result


def run(mode: str, iterations: int, num_envs: int, seed: int = 0, env_kwargs: dict | None = None,
        batch: int = 4096) -> dict:
    """Train ``iterations`` PPO iterations on one path; throughput and return (Ray must be initialised)."""
    algo = build_algo(mode, num_envs, seed, env_kwargs, batch)
    try:
        env = algo.env_runner.env.unwrapped
        steps, sample_s, wall, returns = 0, 0.0, 0.0, []
        for _ in range(iterations):
            t0 = time.perf_counter()
            result = algo.train()
            wall += time.perf_counter() - t0
            steps = _metric(result, "env_runners", "num_env_steps_sampled_lifetime", default=steps)
            sample_s += _metric(result, "timers", "env_runner_sampling_timer", default=0.0)
            returns.append(_metric(result, "env_runners", "episode_return_mean"))
    finally:
        algo.stop()
    return {"mode": mode, "env": type(env).__name__, "steps": int(steps), "sampling_s": sample_s, "wall_s": wall,
            "steps_per_sampling_s": steps / sample_s if sample_s > 0 else float("nan"),
            "steps_per_wall_s": steps / wall, "return": returns[-1], "returns": returns}


def compare(iterations: int, num_envs: int, seed: int = 0, env_kwargs: dict | None = None,
            batch: int = 4096) -> dict:
    """Both paths, same PPO and seed, in one run; ratios native / sync."""
    sync = run("sync", iterations, num_envs, seed, env_kwargs, batch)
    native = run("vector_entry_point", iterations, num_envs, seed, env_kwargs, batch)
    return {"sync": sync, "native": native,
            "sampling_ratio": native["steps_per_sampling_s"] / sync["steps_per_sampling_s"],
            "wall_ratio": native["steps_per_wall_s"] / sync["steps_per_wall_s"]}


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
    finally:
        ray.shutdown()
    load = os.getloadavg()[0]
    print(f"RLlib PPO on mechsim/Recommender-v0 {ENV_KWARGS}, {args.num_envs} sessions per env runner, "
          f"{args.iterations} iterations (1-min load average {load:.2f})")
    print(f"  {'path':34s} {'env steps':>9s} {'steps/s sampling':>17s} {'steps/s wall':>13s} {'return':>8s}")
    for key in ("sync", "native"):
        r = out[key]
        print(f"  {r['mode'] + ' (' + r['env'] + ')':34s} {r['steps']:9d} {r['steps_per_sampling_s']:17.0f} "
              f"{r['steps_per_wall_s']:13.0f} {r['return']:8.1f}")
    print(f"  native / sync: {out['sampling_ratio']:.1f}x sampling throughput, {out['wall_ratio']:.2f}x "
          f"wall-clock throughput (PPO's updates are the same work on both paths)")
    return out


if __name__ == "__main__":
    main()
