"""Benchmark of the ICU-Sepsis backbone and the JustifiableSepsis-v0 environment.

Prints, with ratios against baselines measured in the same run:

- steps per second of ``gymnasium.make("mechsim/JustifiableSepsis-v0")`` (the default: debate table built at
  construction, shared per process) against a null environment with the same spaces made through the same
  ``gymnasium.make`` wrappers (``OrderEnforcing``, ``PassiveEnvChecker``, ``TimeLimit``), i.e. what the
  environment itself costs on top of Gymnasium's own layer (the target is >= 20,000 steps/s);
- the time of that ``gymnasium.make`` (judge training, debate table) and of a second one (shared table);
- env steps per second with the debate table against the bare transition sampling loop (inverse-CDF draw on
  ``tx_mat`` + noisy observation);
- steps per second with debates solved on first visit (``precompute=False``, cold cache, exact L = 2);
- exact policy evaluation (linear solve; also on one BLAS thread, which wins when other processes share
  the cores) against finite-horizon backward induction (500 steps) and against
  a Monte-Carlo estimate of the same accuracy class (10,000 sampled episodes);
- the batched exact debate table (713 states x 25 actions, L = 2) against one ``solve_debate`` call per
  (state, action) pair (extrapolated from a sample).

Run: ``python benchmarks/bench_sepsis.py``.
"""

from __future__ import annotations

import time

import numpy as np


def _timeit(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


class _NullEnv:
    """Baseline: the spaces of the sepsis env, a step that returns a constant observation (no dynamics)."""

    metadata = {"render_modes": []}

    def __new__(cls, like):
        import gymnasium

        class Null(gymnasium.Env):
            metadata = {"render_modes": []}

            def __init__(self):
                self.observation_space, self.action_space = like.observation_space, like.action_space
                self._obs = np.zeros(like.observation_space.shape, dtype=np.float32)

            def reset(self, *, seed=None, options=None):
                super().reset(seed=seed)
                return self._obs.copy(), {}

            def step(self, action):
                return self._obs.copy(), 0.0, False, False, {}

        return Null()


def main() -> None:
    from mechsim.debate.icu_sepsis import (
        baseline_actions,
        evaluate_policy,
        load_icu_sepsis,
        sample_trajectories,
    )
    from mechsim.envs.justifiable_sepsis import JustifiableSepsisEnv, default_sepsis_judge
    from mechsim.solvers.debate import debate_win_table, solve_debate

    mdp = load_icu_sepsis()
    judge = default_sepsis_judge(2)
    rows = []

    # --- env throughput through gymnasium.make, against a null env through the same wrappers
    import gymnasium

    import mechsim  # noqa: F401  (registers the environments)

    n_steps = 20000
    actions = np.random.default_rng(0).integers(0, 25, size=n_steps)

    def run_env(e, steps=actions):
        e.reset(seed=0)
        for a in steps:
            _, _, term, trunc, _ = e.step(int(a))
            if term or trunc:
                e.reset()

    t = time.perf_counter()
    made = gymnasium.make("mechsim/JustifiableSepsis-v0")
    t_make = time.perf_counter() - t
    t = time.perf_counter()
    again = gymnasium.make("mechsim/JustifiableSepsis-v0")
    t_again = time.perf_counter() - t
    assert again.unwrapped._table is made.unwrapped._table  # one table per process
    if "bench/NullSepsis-v0" not in gymnasium.registry:
        gymnasium.register("bench/NullSepsis-v0", entry_point=_NullEnv, max_episode_steps=500)
    null = gymnasium.make("bench/NullSepsis-v0", like=made.unwrapped)
    t_made = _timeit(lambda: run_env(made), repeat=2)
    t_null = _timeit(lambda: run_env(null), repeat=2)
    rows.append(("gymnasium.make env step (steps/s)", n_steps / t_made, "null env, same make wrappers",
                 n_steps / t_null))
    rows.append(("gymnasium.make, first (s)", t_make, "second, shared table (s)", t_again))

    env = JustifiableSepsisEnv(lam=0.5, judge=judge)
    t = time.perf_counter()
    env.precompute_debates()
    t_pre = time.perf_counter() - t
    t_env = _timeit(lambda: run_env(env), repeat=2)

    rng = np.random.default_rng(0)
    feats = mdp.features

    def bare_loop():
        s = 0
        for a in actions:
            cdf = np.cumsum(mdp.tx_mat[s, a])
            s = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
            _ = (feats[s] + 0.3 * rng.standard_normal(44)).astype(np.float32)
            if s >= 713:
                s = int(rng.integers(713))

    t_bare = _timeit(bare_loop, repeat=2)
    rows.append(("env step, debate table (steps/s)", n_steps / t_env, "bare sampling loop", n_steps / t_bare))

    cold = JustifiableSepsisEnv(lam=0.5, judge=judge, precompute=False)
    cold._cache = {}  # a private, empty cache: every new triple is solved
    n_cold = 300
    cold.reset(seed=1)
    t = time.perf_counter()
    for a in actions[:n_cold]:
        _, _, term, trunc, _ = cold.step(int(a))
        if term or trunc:
            cold.reset()
    t_cold = time.perf_counter() - t
    rows.append(("env step, cold cache, exact L=2 (steps/s)", n_cold / t_cold, "debate table", n_steps / t_env))

    # --- exact policy evaluation
    pi = mdp.clinician_policy()
    evaluate_policy(mdp, pi)  # builds the sparse transition matrix once
    t_exact = _timeit(lambda: evaluate_policy(mdp, pi))
    t_fh = _timeit(lambda: evaluate_policy(mdp, pi, horizon=500), repeat=1)
    t_mc = _timeit(lambda: sample_trajectories(mdp, pi, 10000, seed=0), repeat=1)
    try:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            t_one = _timeit(lambda: evaluate_policy(mdp, pi))
        rows.append(("exact policy evaluation, 1 BLAS thread (s)", t_one, "default BLAS threads (s)", t_exact))
    except ImportError:
        pass
    rows.append(("exact policy evaluation (s)", t_exact, "finite horizon 500 (s)", t_fh))
    rows.append(("exact policy evaluation (s)", t_exact, "Monte Carlo 10k episodes (s)", t_mc))

    # --- debate table
    base = baseline_actions(mdp)
    t_table = _timeit(lambda: debate_win_table(judge, feats[:713], base[:713], 2), repeat=1)
    sample = [(s, a) for s in range(0, 713, 71) for a in (3, 17) if a != base[s]][:16]
    t = time.perf_counter()
    for s, a in sample:
        solve_debate(judge, feats[s], (a, int(base[s])), 2)
    per_pair = (time.perf_counter() - t) / len(sample)
    rows.append(("debate table 713x25, L=2, batched (s)", t_table, "solve_debate per pair (s, extrapolated)",
                 per_pair * 713 * 24))
    rows.append(("precompute_debates, table shared (s)", t_pre, "debate table (s)", t_table))

    width = max(len(r[0]) for r in rows) + 2
    print(f"{'measurement':<{width}}{'value':>12}   {'baseline':<42}{'value':>12}   ratio")
    for name, v, bname, bv in rows:
        print(f"{name:<{width}}{v:>12.4g}   {bname:<42}{bv:>12.4g}   {v / bv:8.3g}")


if __name__ == "__main__":
    main()
