"""The oracle of the batched multi-agent envs' tests: ``N`` independent single parallel envs, driven in lock step.

Copy ``c`` of a batched env reset with ``seed=s`` must be the single env reset with ``seed=s + c``: the same
observations, rewards, terminations, truncations and infos at every step, through next-step autoresets (where
the single env is reset without a seed, continuing its stream) and partial resets.
"""

from __future__ import annotations

import numpy as np


def _assert_same_infos(batched_info: dict, single_info: dict, c: int, where: str) -> None:
    for key, value in single_info.items():
        assert batched_info.get("_" + key) is not None and batched_info["_" + key][c], f"{where}: {key} missing"
        np.testing.assert_array_equal(batched_info[key][c], np.asarray(value), err_msg=f"{where}: info {key}")
    for key in batched_info:
        if not key.startswith("_") and batched_info["_" + key][c]:
            assert key in single_info, f"{where}: extra info {key}"


def assert_matches_single_envs(batched, make_single, actions, *, seed=0, steps=300, reset_every=None,
                               rng=None, check_state=False, detail_agents=None) -> dict:
    """Step ``batched`` and ``batched.num_envs`` envs ``make_single()`` with the same ``actions(rng)`` and compare.

    ``reset_every``: every so many steps, reset a random subset of the copies (``reset_mask``) instead of stepping.
    ``detail_agents``: the agents whose infos and spaces are compared (default all; observations and rewards of
    every agent are always compared).
    Returns counts of what was exercised (``autoresets``, ``partial_resets``).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    N = batched.num_envs
    singles = [make_single() for _ in range(N)]
    obs, infos = batched.reset(seed=seed)
    ref = [env.reset(seed=seed + c) for c, env in enumerate(singles)]
    pending = np.zeros(N, dtype=bool)
    agents = batched.possible_agents
    detail = agents if detail_agents is None else detail_agents
    counts = {"autoresets": 0, "partial_resets": 0, "steps": 0}
    for t in range(steps):
        for c, (o, i) in enumerate(ref):
            where = f"step {t}, copy {c}"
            assert all(obs[a].dtype == o[a].dtype for a in agents), where
            np.testing.assert_array_equal(np.stack([obs[a][c] for a in agents]), np.stack([o[a] for a in agents]),
                                          err_msg=where)
            for a in detail:
                _assert_same_infos(infos[a], i[a], c, f"{where}, {a}")
            if check_state and not pending[c]:
                np.testing.assert_array_equal(batched.state()[c], singles[c].state(), err_msg=where)
        for a in detail:
            assert batched.observation_space(a).contains(obs[a])
        if reset_every and t % reset_every == reset_every - 1:
            mask = rng.random(N) < 0.5
            mask[rng.integers(N)] = True
            obs, infos = batched.reset(options={"reset_mask": mask})
            # the copies not reset keep their observations and report no info
            ref = [env.reset() if mask[c] else (ref[c][0], {a: {} for a in env.possible_agents})
                   for c, env in enumerate(singles)]
            pending[mask] = False
            counts["partial_resets"] += 1
            continue
        acts = actions(rng)
        obs, rewards, terminations, truncations, infos = batched.step(acts)
        counts["steps"] += 1
        new = []
        for c, env in enumerate(singles):
            if pending[c]:
                o, i = env.reset()
                r = dict.fromkeys(env.possible_agents, 0.0)
                term = trunc = dict.fromkeys(env.possible_agents, False)
                counts["autoresets"] += 1
            else:
                o, r, term, trunc, i = env.step({a: acts[a][c] for a in env.possible_agents})
            where = f"step {t}, copy {c}"
            assert all(rewards[a].dtype == np.float64 for a in agents), where
            np.testing.assert_array_equal([rewards[a][c] for a in agents], [r[a] for a in agents], err_msg=where)
            np.testing.assert_array_equal([terminations[a][c] for a in agents], [term[a] for a in agents])
            np.testing.assert_array_equal([truncations[a][c] for a in agents], [trunc[a] for a in agents])
            new.append((o, i))
        ref = new
        pending = truncations[batched.possible_agents[0]] | terminations[batched.possible_agents[0]]
    return counts
