"""No-regret dynamics in normal-form games (mechsim.learners.dynamics)."""

import numpy as np

from fuzz.entry import COUNT, SEED, SIZING_ARRAY, Entry
from mechsim.equilibria import chicken, random_game
from mechsim.learners import play_no_regret

#: Bad checkpoints: any array kind except a different length (any number of checkpoints is valid) and None
#: (the default schedule).
_CHECKPOINTS = ("type", "nan", "inf", "negative", "fraction", "ndim", "dtype", "empty")

ENTRIES = [
    Entry("play_no_regret", play_no_regret,
          lambda: {"payoffs": chicken(), "learner": "hedge", "rounds": 40, "seed": 0,
                   "checkpoints": np.array([10, 40]), "learning_rate": 0.5},
          {"payoffs": SIZING_ARRAY, "learner": ("none", "type"), "rounds": COUNT, "seed": SEED,
           "checkpoints": _CHECKPOINTS, "learning_rate": ("type", "nan", "inf", "negative")}),
    Entry("play_no_regret.swap_hedge",
          lambda payoffs, rounds, checkpoints: play_no_regret(payoffs, "swap_hedge", rounds, seed=1,
                                                              checkpoints=checkpoints),
          lambda: {"payoffs": random_game((2, 3, 2), seed=0), "rounds": 30, "checkpoints": np.array([5, 30])},
          {"payoffs": SIZING_ARRAY, "rounds": COUNT, "checkpoints": _CHECKPOINTS}),
]
