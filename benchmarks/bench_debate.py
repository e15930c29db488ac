"""Exact debate solve time vs F and L, and Debate-v0 turns per second, against baselines run alongside.

Solver baselines (same judge, same state, same answer — the script checks the values agree):

- ``recursion``: minimax by memoised Python recursion on frozensets of revealed features, with every leaf
  scored in one batched judge call beforehand (so the ratio measures the level-by-level vectorised backup,
  not judge batching);
- ``brute force``: recursion over every reveal *sequence* (``F!/(F-L)!`` leaves; tiny sizes only).

Judges: a linear judge (cheap; measures the solver) and a Bradley–Terry MLP with one hidden layer of 64
(untrained; same cost as a trained one), the paper's 44-feature setting.  Target: F = 44, L = 4 in a few
seconds per state.

Environment: turns per second of ``mechsim/Debate-v0`` (AEC, wrapped as ``env()``) under random mask-aware
play, against a minimal two-agent AEC env with the same wrappers (the cost of PettingZoo's loop itself).

Single-agent view: episodes per second of :class:`mechsim.envs.debate_opponent.DebateVsOpponent` with the
exact best-response value solved at every reset (``compute_value=True``), for each opponent, against the
same episodes without the value (``compute_value=False``, random opponent: the cost of the env loop).

Whole debate tables (every decision against the clinician's most probable action in all 713 ICU-Sepsis
patient states, both first movers; the judge of the justifiable-sepsis scenario, a trained Bradley–Terry MLP
with 32 hidden units):

- exact L = 4 (:func:`mechsim.solvers.debate.debate_win_table`) against a loop of :func:`solve_debate` over
  (state, decision) pairs, timed on a few pairs and extrapolated to the 713 x 24 pairs;
- learned L = 6 (:func:`mechsim.learners.debate_tables.learned_win_table`) with a stand-in numpy MLP debater
  (2 x 64 hidden, argmax play, the size of the PPO debaters) and with the greedy debater, against a loop of
  :func:`mechsim.learners.debaters.play_debates` per (state, first mover) (all decisions of a state in one
  call) and per single game, timed on a few states / games and extrapolated (the outcomes are checked
  against the table).

Target: the exact L = 4 table in a couple of minutes on one core, the learned L = 6 table in well under a
minute.  ``cat /proc/loadavg`` is printed beside the times (the machine is shared).

Usage: ``python benchmarks/bench_debate.py [--seconds 2] [--quick] [--section {all,solver,tables,env}]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers

import mechsim  # noqa: F401
from mechsim.debate.icu_sepsis import N_PATIENT_STATES, baseline_actions, load_icu_sepsis, train_sepsis_judge
from mechsim.debate.judges import BradleyTerryJudge, LinearJudge
from mechsim.envs import debate as debate_env
from mechsim.envs.debate_opponent import DebateVsOpponent
from mechsim.learners.debate_tables import learned_win_table
from mechsim.learners.debaters import BaseDebater, GreedyDebater, play_debates
from mechsim.solvers.debate import brute_force_debate_value, debate_win_table, leaf_outcomes, solve_debate


def recursion_baseline(judge, x, decisions, L):
    """Memoised recursion on frozensets (leaves pre-scored in one batch); averaged over first movers."""
    import itertools
    from math import comb
    F = x.shape[0]
    leaves = leaf_outcomes(judge, x, decisions, L)
    combos = itertools.combinations(range(F), L)
    leaf = {frozenset(c): leaves[sum(comb(ci, i + 1) for i, ci in enumerate(c))] for c in combos}

    def solve(fm):
        memo = {}

        def v(s):
            if len(s) == L:
                return leaf[s]
            if s in memo:
                return memo[s]
            maximise = (len(s) % 2 == 0) == (fm == 0)
            vals = [v(s | {f}) for f in range(F) if f not in s]
            memo[s] = max(vals) if maximise else min(vals)
            return memo[s]
        return v(frozenset())
    return (solve(0) + solve(1)) / 2


def timed(fn, repeat=1):
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


class MinimalAEC(AECEnv):
    """Two agents alternate for 4 turns with a Discrete(8) action and a masked Dict observation."""

    metadata = {"name": "minimal_v0", "render_modes": [], "is_parallelizable": False}

    def __init__(self):
        super().__init__()
        self.possible_agents = ["a_0", "a_1"]
        self._obs = {"observation": np.zeros(20, np.float32), "action_mask": np.ones(8, np.int8)}
        self._space = spaces.Dict({"observation": spaces.Box(0, 1, (20,), np.float32),
                                   "action_mask": spaces.Box(0, 1, (8,), np.int8)})
        self._action_space = spaces.Discrete(8)

    def observation_space(self, agent):
        return self._space

    def action_space(self, agent):
        return self._action_space

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        self.agent_selection = "a_0"
        self._t = 0

    def observe(self, agent):
        return {k: v.copy() for k, v in self._obs.items()}

    def step(self, action):
        a = self.agent_selection
        if self.terminations[a]:
            self._was_dead_step(action)
            return
        self._cumulative_rewards[a] = 0.0
        self._clear_rewards()
        self._t += 1
        if self._t == 4:
            self.rewards = {"a_0": 1.0, "a_1": -1.0}
            self.terminations = {x: True for x in self.agents}
        self.agent_selection = "a_1" if a == "a_0" else "a_0"
        self._accumulate_rewards()


def turns_per_second(env, seconds, seed=0):
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    turns = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _agent in env.agent_iter():
            obs, _, term, trunc, _ = env.last()
            if term or trunc:
                env.step(None)
                continue
            legal = np.flatnonzero(obs["action_mask"])
            env.step(int(legal[rng.integers(legal.size)]))
            turns += 1
        env.reset()
    return turns / (time.perf_counter() - start)


def episodes_per_second(env, seconds, seed=0):
    """Reset-and-play episodes of a ``DebateVsOpponent`` (learner reveals its lowest legal feature)."""
    episodes = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        env.reset(seed=seed + episodes)
        done = False
        while not done:
            _, _, done, _, _ = env.step(int(np.flatnonzero(env.action_masks())[0]))
        episodes += 1
    return episodes / (time.perf_counter() - start)


class MLPStandIn(BaseDebater):
    """A random numpy MLP over (masked features, revealed mask, one-hot own and other decision), 2 x 64 ReLU,
    argmax over unrevealed features: the shape and cost of a PPO debater's policy network."""

    def __init__(self, n_features=44, n_decisions=25, hidden=64, seed=0):
        rng = np.random.default_rng(seed)
        sizes = (2 * n_features + 2 * n_decisions, hidden, hidden, n_features)
        self.weights = [rng.normal(0, 1 / np.sqrt(a), size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.eye = np.eye(n_decisions)

    def batch_probabilities(self, features, revealed, own, other):
        h = np.concatenate([np.where(revealed, 0.0, features), revealed, self.eye[own], self.eye[other]], axis=1)
        for w in self.weights[:-1]:
            h = np.maximum(h @ w, 0.0)
        z = np.where(revealed, -np.inf, h @ self.weights[-1])
        out = np.zeros(z.shape)
        out[np.arange(z.shape[0]), np.argmax(z, axis=1)] = 1.0
        return out


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:  # pragma: no cover - not Linux
        return "n/a"


def bench_tables(quick: bool) -> None:
    mdp = load_icu_sepsis()
    S = 40 if quick else N_PATIENT_STATES
    x, base = mdp.features[:S], baseline_actions(mdp)[:S]
    D = mdp.n_actions
    rng = np.random.default_rng(1)
    print(f"\nWhole debate tables: {S} ICU-Sepsis states x {D} decisions against the baseline, both first movers "
          "(trained sepsis judge, MLP 32 hidden)")
    judge4 = train_sepsis_judge(mdp, 4, seed=0)
    debate_win_table(judge4, x[:1], base[:1], 4, n_decisions=D)  # builds the cached subset tree
    load = loadavg()
    t_table, table = timed(lambda: debate_win_table(judge4, x, base, 4, n_decisions=D))
    pairs = [(int(s), int(a)) for s, a in zip(rng.integers(0, S, 4), rng.integers(0, D, 4)) if a != base[s]]
    t = time.perf_counter()
    for s, a in pairs:
        out = solve_debate(judge4, x[s], (a, int(base[s])), 4)
        assert out.values_by_first_mover == tuple(table.values_by_first_mover[s, a]), "table disagrees"
    per_pair = (time.perf_counter() - t) / len(pairs)
    loop = per_pair * S * (D - 1)
    print(f"  exact L=4: table {t_table:7.1f} s ({t_table / S * 1000:.0f} ms/state)   solve_debate loop "
          f"{per_pair:.2f} s/pair x {S * (D - 1)} pairs = {loop:7.0f} s (extrapolated)   ratio {loop / t_table:6.1f}"
          f"   loadavg {load}")
    judge6 = train_sepsis_judge(mdp, 6, seed=0)
    for label, debater in (("MLP stand-in 2x64", MLPStandIn()), ("greedy on the judge", GreedyDebater(judge6))):
        load = loadavg()
        t_learned, learned = timed(lambda debater=debater: learned_win_table(judge6, x, base, 6, debater,
                                                                             n_decisions=D))
        few = min(S, 6)
        t = time.perf_counter()
        for s in range(few):
            dec = np.array([[a, base[s]] for a in range(D) if a != base[s]])
            for fm in (0, 1):
                rec = play_debates(judge6, np.repeat(x[s:s + 1], dec.shape[0], axis=0), dec, 6, (debater, debater),
                                   first_mover=fm, seed=0)
                want = learned.values_by_first_mover[s, dec[:, 0], fm]
                assert np.array_equal(rec.outcomes, want), "learned table disagrees with play_debates"
        per_state = (time.perf_counter() - t) / few * S
        games = 12
        t = time.perf_counter()
        for g in range(games):
            s, a = g % S, (base[g % S] + 1 + g) % D
            a = a if a != base[s] else (a + 1) % D
            rec = play_debates(judge6, x[s:s + 1], np.array([[a, base[s]]]), 6, (debater, debater),
                               first_mover=g % 2, seed=0)
            assert rec.outcomes[0] == learned.values_by_first_mover[s, a, g % 2]
        per_game = (time.perf_counter() - t) / games * S * (D - 1) * 2
        print(f"  learned L=6, {label:<20}: table {t_learned:6.1f} s ({learned.method})   play_debates per state "
              f"{per_state:7.1f} s (ratio {per_state / t_learned:5.1f})   per game {per_game:7.0f} s (ratio "
              f"{per_game / t_learned:6.1f}; both extrapolated)   loadavg {load}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--section", choices=("all", "solver", "tables", "env"), default="all")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    if args.section in ("all", "tables"):
        bench_tables(args.quick)
    if args.section == "tables":
        return
    if args.section == "env":
        bench_env(args, rng)
        return

    print("Exact debate solve (value averaged over both first movers), linear judge")
    print(f"{'F':>4} {'L':>3} {'leaves':>9} {'exact s':>9} {'recursion s':>12} {'ratio':>7} "
          f"{'brute force s':>14} {'ratio':>7}")
    sizes = [(6, 3), (8, 4), (12, 4), (20, 4), (30, 4), (44, 2), (44, 3), (44, 4), (20, 6)]
    if args.quick:
        sizes = [(6, 3), (8, 4), (20, 4), (44, 3)]
    for F, L in sizes:
        judge = LinearJudge(rng.normal(size=(25, F)))
        x = rng.normal(size=F)
        solve_debate(judge, x, (1, 2), L)  # warm the subset-tree cache, as repeated solves would
        t_exact, out = timed(lambda judge=judge, x=x, L=L: solve_debate(judge, x, (1, 2), L), repeat=3)
        t_rec = float("nan")
        if out.n_leaves <= 200_000:
            t_rec, v_rec = timed(lambda judge=judge, x=x, L=L: recursion_baseline(judge, x, (1, 2), L))
            assert v_rec == out.value, "baseline disagrees with the exact solver"
        t_bf = float("nan")
        if np.prod(range(F - L + 1, F + 1)) <= 20_000:
            t_bf, v_bf = timed(lambda judge=judge, x=x, L=L: brute_force_debate_value(judge, x, (1, 2), L))
            assert v_bf == out.value, "brute force disagrees with the exact solver"
        print(f"{F:>4} {L:>3} {out.n_leaves:>9} {t_exact:>9.4f} {t_rec:>12.4f} {t_rec / t_exact:>7.1f} "
              f"{t_bf:>14.4f} {t_bf / t_exact:>7.1f}")

    print("\nPaper setting: F = 44, D = 25, L = 4, Bradley-Terry MLP judge (hidden 64)")
    bt = BradleyTerryJudge(44, 25, n_evidence=4, hidden=(64,), seed=0)
    x = rng.normal(size=44)
    solve_debate(bt, x, (0, 1), 4)
    states = 2 if args.quick else 5
    t = time.perf_counter()
    for _ in range(states):
        solve_debate(bt, rng.normal(size=44), tuple(rng.choice(25, 2, replace=False)), 4)
    per_state = (time.perf_counter() - t) / states
    t_lin, _ = timed(lambda: solve_debate(LinearJudge(rng.normal(size=(25, 44))), x, (0, 1), 4), repeat=2)
    print(f"  seconds per state: {per_state:.2f} (linear judge: {t_lin:.2f}; MLP judge cost ratio "
          f"{per_state / t_lin:.1f})")

    if args.section == "all":
        bench_env(args, rng, bt)


def bench_env(args, rng, bt=None):
    bt = bt if bt is not None else BradleyTerryJudge(44, 25, n_evidence=4, hidden=(64,), seed=0)
    print("\nEnvironment turns per second (random legal reveals)")
    base = turns_per_second(wrappers.OrderEnforcingWrapper(wrappers.AssertOutOfBoundsWrapper(MinimalAEC())),
                            args.seconds)
    rows = [("minimal AEC (baseline)", base)]
    rows.append(("Debate-v0 demo (F=8, L=4)", turns_per_second(debate_env.env(), args.seconds)))
    states = rng.normal(size=(1000, 44))
    rows.append(("Debate-v0 F=44 L=6, MLP judge",
                 turns_per_second(debate_env.env(states=states, judge=bt, n_evidence=6), args.seconds)))
    rows.append(("Debate-v0 raw_env demo", turns_per_second(debate_env.raw_env(), args.seconds)))
    for name, tps in rows:
        print(f"  {name:<32} {tps:>10.0f} turns/s   ratio to baseline {tps / base:5.2f}")

    print("\nDebateVsOpponent episodes per second (exact best-response value at every reset)")
    big = {"states": rng.normal(size=(200, 12)), "judge": LinearJudge(rng.normal(size=(6, 12))), "n_evidence": 4}
    for label, kwargs in (("demo F=8 L=4", None), ("F=12 L=4", big)):
        base_eps = episodes_per_second(DebateVsOpponent(kwargs, opponent="random", compute_value=False),
                                       args.seconds)
        print(f"  {label}: no value (baseline) {base_eps:8.0f} episodes/s")
        for opponent in ("minimax", "random", "greedy"):
            eps = episodes_per_second(DebateVsOpponent(kwargs, opponent=opponent), args.seconds)
            print(f"  {label}: {opponent:<8} opponent {eps:>10.0f} episodes/s   ratio to baseline "
                  f"{eps / base_eps:5.2f}")


if __name__ == "__main__":
    main()
