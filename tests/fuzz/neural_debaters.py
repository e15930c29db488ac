"""Neural debaters (numpy side): MLP inference, the held-out split, bootstrap CIs, fingerprints, the exact
held-out evaluation, batched learned debates and the training env."""

import importlib.util

import numpy as np

from fuzz.entry import ARRAY, COUNT, MODEL, SEED, SIZING_ARRAY, Entry
from mechsim.debate.judges import LinearJudge
from mechsim.envs.debate_training import DebateTrainingEnv
from mechsim.learners import neural_debaters as N
from mechsim.learners.debaters import RandomDebater
from mechsim.learners.exact_debaters import MinimaxPoolDebater
from mechsim.solvers.debate import state_debate_values

F, D, L = 5, 3, 2
_RNG = np.random.default_rng(5)
_W = _RNG.normal(size=(D, F))
_XS = _RNG.normal(size=(3, F))
_GOOD = np.array([0, 1, 2])
_BAD = np.array([1, 2, 0])
DECISIONS = ("none", "type", "nan", "inf", "negative", "fraction", "shape", "ndim", "dtype", "empty")
FLAG = ("type",)


def judge():
    return LinearJudge(_W)


def _layers():
    rng = np.random.default_rng(0)
    sizes = (N.observation_size(F, D, L), 4, F)
    return (tuple(rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])),
            tuple(rng.normal(size=b) for b in sizes[1:]))


def mlp():
    w, b = _layers()
    return N.MLPDebater(w, b, F, D, L, deterministic=True)


ENTRIES = [
    Entry("MLPDebater", N.MLPDebater,
          lambda: {"weights": _layers()[0], "biases": _layers()[1], "n_features": F, "n_decisions": D,
                   "n_evidence": L, "activation": "tanh", "deterministic": False},
          {"n_features": COUNT, "n_decisions": COUNT, "n_evidence": COUNT, "activation": ("none", "type"),
           "deterministic": FLAG}),
    Entry("split_states", N.split_states, lambda: {"n_states": 10, "n_held_out": 3, "seed": 0},
          {"n_states": COUNT, "n_held_out": COUNT[:-1], "seed": SEED}),
    Entry("bootstrap_ci", N.bootstrap_ci, lambda: {"values": np.array([0.0, 0.5, 1.0]), "level": 0.9,
                                                   "n_boot": 50, "seed": 0},
          {"values": SIZING_ARRAY, "level": ("none", "type", "nan", "inf", "negative"),
           "n_boot": COUNT[:-1], "seed": SEED}),
    Entry("judge_fingerprint", N.judge_fingerprint,
          lambda: {"judge": judge(), "n_features": F, "n_decisions": D, "n_probes": 8},
          {"judge": MODEL, "n_features": COUNT[:-1], "n_decisions": COUNT[:-1], "n_probes": COUNT[:-1]}),
    Entry("learned_debate_outcomes", N.learned_debate_outcomes,
          lambda: {"judge": judge(), "features": _XS, "own": _GOOD, "other": _BAD,
                   "debaters": (mlp(), RandomDebater()), "n_evidence": L, "seed": 0},
          {"judge": MODEL, "features": ARRAY, "own": DECISIONS, "other": DECISIONS, "debaters": MODEL,
           "n_evidence": COUNT, "seed": SEED}),
    Entry("evaluate_held_out", N.evaluate_held_out,
          lambda: {"judge": judge(), "features": _XS, "correct": _GOOD, "wrong": _BAD,
                   "debaters": {"m": mlp()}, "n_evidence": L, "confusers": {"m": RandomDebater()}},
          {"judge": MODEL, "features": ARRAY, "correct": DECISIONS, "wrong": DECISIONS, "debaters": MODEL,
           "n_evidence": COUNT, "confusers": ("type",)}),
    Entry("DebateTrainingEnv", DebateTrainingEnv,
          lambda: {"judge": judge(), "states": _XS, "correct": _GOOD, "wrong": [[1, 2], [2, 0], [0, 1]],
                   "n_evidence": L,
                   "role": "argue", "opponents": (RandomDebater(),), "judge_inputs": True, "seed": 0},
          {"judge": MODEL, "states": ARRAY, "correct": DECISIONS, "wrong": ("none", "type"),
           "n_evidence": COUNT, "role": ("none", "type"), "opponents": ("type",), "judge_inputs": FLAG}),
    Entry("state_debate_values", state_debate_values,
          lambda: {"judge": judge(), "features": _XS[0], "baseline": 1, "n_evidence": L, "n_decisions": D},
          {"judge": MODEL, "features": ARRAY, "baseline": ("none", "type", "negative", "fraction", "huge"),
           "n_evidence": COUNT, "n_decisions": COUNT}),
    Entry("MinimaxPoolDebater", MinimaxPoolDebater,
          lambda: {"judge": judge(), "states": _XS, "baseline": _GOOD, "n_evidence": L, "n_decisions": D,
                   "max_cached": 2},
          {"judge": MODEL, "states": ARRAY, "baseline": DECISIONS, "n_evidence": COUNT, "n_decisions": COUNT[1:],
           "max_cached": COUNT[1:-1]}),  # None: the judge's D / every state; a huge cache bound allocates nothing
]

if importlib.util.find_spec("torch") is not None:  # the rl venv: the valid call trains a (tiny) network
    from mechsim.learners.distilled_debaters import distill_minimax_debater

    ENTRIES.append(Entry(
        "distill_minimax_debater", distill_minimax_debater,
        lambda: {"minimax": MinimaxPoolDebater(judge(), _XS, _GOOD, L, n_decisions=D), "wrong": [[1], [2], [0]],
                 "n_rollouts": 1, "explore": 0.3, "epochs": 1, "net_arch": (4,), "judge_inputs": True,
                 "learning_rate": 1e-3, "weight_decay": 0.0, "batch_size": 8, "seed": 0},
        {"minimax": MODEL, "wrong": ("none", "type"), "n_rollouts": COUNT, "explore": ("none", "type", "nan",
         "inf", "negative"), "epochs": COUNT[:-1], "net_arch": ("none", "type"), "judge_inputs": FLAG,
         "learning_rate": ("none", "type", "nan", "inf", "negative"), "weight_decay": ("none", "type", "nan", "inf",
         "negative"), "batch_size": COUNT[:-1], "seed": SEED}))
