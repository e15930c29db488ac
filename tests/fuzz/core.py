"""Learners, regret measurement, the optimiser and the runner."""

import numpy as np

from fuzz.entry import ARRAY, COUNT, NONNEG_ARRAY, NUMBER, POSITIVE, SEED, SIZING_ARRAY, Entry
from mechsim import learners as L
from mechsim import regret
from mechsim.optim import Adam

_LOSSES = np.random.default_rng(0).random((20, 3))

ENTRIES = [
    Entry("Hedge", L.Hedge, lambda: {"n_actions": 3, "learning_rate": 0.1, "horizon": 100, "seed": 0},
          {"n_actions": COUNT, "learning_rate": POSITIVE[1:], "horizon": COUNT[1:-1], "seed": SEED}),
    Entry("Hedge.run", lambda losses: L.Hedge(3, horizon=20, seed=0).run(losses), lambda: {"losses": _LOSSES},
          {"losses": tuple(k for k in NONNEG_ARRAY if k != "empty")}),   # zero rounds is a valid no-op
    Entry("Exp3", L.Exp3, lambda: {"n_actions": 3, "horizon": 100, "seed": 0},
          {"n_actions": COUNT, "horizon": COUNT[1:-1], "seed": SEED}),
    Entry("Exp3.run", lambda losses: L.Exp3(3, horizon=20, seed=0).run(losses), lambda: {"losses": _LOSSES},
          {"losses": tuple(k for k in NONNEG_ARRAY if k != "empty")}),   # zero rounds is a valid no-op
    Entry("Exp3.update", lambda action, loss: L.Exp3(3, horizon=20, seed=0).update(action, loss),
          lambda: {"action": 1, "loss": 0.5}, {"action": ("none", "type", "negative", "fraction"),
                                                "loss": NUMBER}),
    Entry("RegretMatching", L.RegretMatching, lambda: {"n_actions": 3, "plus": True, "seed": 0},
          {"n_actions": COUNT, "seed": SEED}),
    Entry("RegretMatching.update", lambda utilities: L.RegretMatching(3, seed=0).update(utilities),
          lambda: {"utilities": np.array([0.1, 0.5, -0.3])}, {"utilities": ARRAY}),
    Entry("RegretMatching.run", lambda utilities: L.RegretMatching(3, seed=0).run(utilities),
          lambda: {"utilities": _LOSSES}, {"utilities": tuple(k for k in ARRAY if k != "empty")}),
    Entry("ExploreThenCommit", L.ExploreThenCommit, lambda: {"n_arms": 3, "horizon": 100, "seed": 0},
          {"n_arms": COUNT, "horizon": COUNT[:-1], "seed": SEED}),
    Entry("simulate_explore_then_commit", L.simulate_explore_then_commit,
          lambda: {"means": np.array([0.2, 0.5, 0.7]), "horizon": 1000, "seed": 0},
          {"means": (*SIZING_ARRAY, "negative"), "horizon": COUNT[:-1], "seed": SEED}),
    Entry("regret_matching_self_play", L.regret_matching_self_play,
          lambda: {"payoff_a": np.array([[0.0, 1.0], [1.0, 0.0]]), "rounds": 50},
          {"payoff_a": SIZING_ARRAY, "rounds": COUNT[:-1]}),
    Entry("exploitability", L.exploitability,
          lambda: {"strategy_a": np.array([0.5, 0.5]), "strategy_b": np.array([0.5, 0.5]),
                   "payoff_a": np.array([[0.0, 1.0], [1.0, 0.0]])},
          {"strategy_a": NONNEG_ARRAY, "strategy_b": NONNEG_ARRAY, "payoff_a": SIZING_ARRAY}),
    Entry("hedge_regret_bound", L.hedge_regret_bound, lambda: {"horizon": 100, "n_actions": 3},
          {"horizon": ("none", "type", "nan", "inf", "negative"), "n_actions": COUNT[:-1]}),
    Entry("exp3_regret_bound", L.exp3_regret_bound, lambda: {"horizon": 100, "n_actions": 3},
          {"horizon": ("none", "type", "nan", "inf", "negative"), "n_actions": COUNT[:-1]}),
    Entry("regret_matching_regret_bound", L.regret_matching_regret_bound, lambda: {"horizon": 100, "n_actions": 3},
          {"horizon": ("none", "type", "nan", "inf", "negative"), "n_actions": COUNT[:-1]}),
    Entry("etc_regret_bound", L.etc_regret_bound, lambda: {"horizon": 100, "n_arms": 3},
          {"horizon": ("none", "type", "nan", "inf", "negative"), "n_arms": COUNT[:-1]}),
    Entry("fit_regret_exponent", regret.fit_regret_exponent,
          lambda: {"horizons": np.array([10.0, 100.0, 1000.0, 10000.0]),
                   "regrets": np.array([[3.0, 10.0, 31.0, 100.0], [3.2, 9.0, 33.0, 98.0]])},
          {"horizons": NONNEG_ARRAY, "regrets": (*SIZING_ARRAY, "shape", "negative")}),
    Entry("Adam", Adam, lambda: {"params": [np.zeros(2)], "lr": 0.1}, {"lr": POSITIVE}),
]
