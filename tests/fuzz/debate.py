"""The debate domain: judges, preferences, the exact solver, debaters, the sepsis models and the debate envs."""

import functools

import numpy as np

from fuzz.entry import ARRAY, COUNT, INDEX, MODEL, NONNEG_ARRAY, NUMBER, POSITIVE, SEED, SIZING_ARRAY, Entry
from mechsim.debate import icu_sepsis as icu
from mechsim.debate import judges as J
from mechsim.debate import oberst_sontag as osm
from mechsim.debate import preferences as P
from mechsim.envs.debate import DebateEnv
from mechsim.envs.debate_opponent import DebateVsOpponent
from mechsim.envs.justifiable_sepsis import JustifiableSepsisEnv, default_sepsis_judge
from mechsim.learners import debate_tables as T
from mechsim.learners import debaters as D
from mechsim.solvers import debate as S
from mechsim.testing.debate import fixed_random_policy

F, K = 5, 3                                              # features and decisions of the small games
_RNG = np.random.default_rng(12)
_W = _RNG.normal(size=(K, F))
_X = _RNG.normal(size=F)
_XS = _RNG.normal(size=(6, F))
_MASKS = J.random_evidence_masks(6, F, 2, seed=0)
_WIN = np.array([0, 1, 2, 0, 1, 2])
_LOSE = np.array([1, 2, 0, 2, 0, 1])
_DEC = np.array([[0, 1], [1, 2], [2, 0], [0, 2], [1, 0], [2, 1]])
# Integer-valued arrays whose entries are decisions, features or states: "nan", "inf" and "fraction" are wrong.
DECISIONS = ("none", "type", "nan", "inf", "negative", "fraction", "shape", "ndim", "dtype", "empty")
SIZING_DECISIONS = ("none", "type", "nan", "inf", "negative", "fraction", "ndim", "dtype", "empty")
MASK = ("none", "type", "nan", "shape", "ndim", "dtype", "empty")  # bool arrays: nan is not a truth value
ONE_STATE_MASKS = MASK[:-1]                                        # zero masks: a valid empty query
CHOICE = ("none", "type")                                          # a string option
FLAG = ("type",)                                                   # a bool
OPTIONAL_COUNT = ("type", "nan", "inf", "negative", "fraction")     # None is valid


def judge():
    return J.LinearJudge(_W)


def bt_judge():
    return J.BradleyTerryJudge(F, K, n_evidence=2, hidden=(4,), seed=0)


@functools.lru_cache(maxsize=1)
def tiny_mdp():
    """A 5-state, 3-action ICU-Sepsis-shaped MDP (2 patient states; death, survival, absorbing last)."""
    n, a = 5, 3
    tx = np.zeros((n, a, n))
    for s in (0, 1):
        tx[s, :, 0] = [0.5, 0.2, 0.3]
        tx[s, :, 1] = [0.2, 0.5, 0.1]
        tx[s, :, 3] = [0.1, 0.1, 0.2]                    # death
        tx[s, :, 2] = 0.0
        tx[s, :, 4] = 1.0 - tx[s, :, :4].sum(axis=1)     # survival
    tx[2:, :, 4] = 1.0
    r = np.zeros_like(tx)
    r[:2, :, 4] = 1.0
    pe = np.zeros((n, a))
    pe[:2] = [0.6, 0.3, 0.1]
    centers = np.random.default_rng(0).normal(size=(n, len(icu.SEPSIS_COLUMNS)))
    return icu.SepsisMDP(tx, r, np.array([0.5, 0.5, 0, 0, 0]), pe, centers, np.arange(n, dtype=float),
                         np.ones((n, a), dtype=bool))


def _tiny_traj():
    return icu.sample_trajectories(tiny_mdp(), tiny_mdp().expert_policy, 20, seed=0)


def _tiny_policy():
    return np.full((5, 3), 1 / 3)


def _tiny_fixed():
    return np.array([0, 1, 2, 0, 0])


@functools.lru_cache(maxsize=1)
def os_model():
    return osm.build_model()


def _os_policy():
    return np.full((osm.N_STATES, osm.N_ACTIONS), 1 / osm.N_ACTIONS)


def _sepsis_judge():
    return J.LinearJudge(np.random.default_rng(1).normal(size=(icu.N_ACTIONS, len(icu.SEPSIS_FEATURES))))


def _sepsis_env(**kw):
    return JustifiableSepsisEnv(**{"judge": _sepsis_judge(), "n_evidence": 1, **kw})


def _debate_env(**kw):
    return DebateEnv(**{"states": _XS, "judge": judge(), "n_evidence": 2, **kw})


def _env_step(make, action):
    env = make()
    env.reset(seed=0)
    return env.step(action)


def _game(**kw):
    return {"judge": judge(), "features": _X, "decisions": (0, 1), "n_evidence": 2, **kw}


GAME = {"judge": MODEL, "features": ARRAY, "decisions": DECISIONS, "n_evidence": COUNT}

ENTRIES = [
    # ------------------------------------------------------------------------------------------ judges
    Entry("LinearJudge", J.LinearJudge, lambda: {"weights": _W, "bias": np.zeros(K)},
          {"weights": SIZING_ARRAY, "bias": ARRAY[1:]}),
    Entry("LinearJudge.score", lambda features, mask, decisions: judge().score(features, mask, decisions),
          lambda: {"features": _XS, "mask": _MASKS, "decisions": _WIN},
          {"features": ARRAY, "mask": MASK, "decisions": DECISIONS}),
    Entry("LinearJudge.score_masks", lambda features, masks, decisions: judge().score_masks(features, masks,
                                                                                             decisions),
          lambda: {"features": _X, "masks": _MASKS, "decisions": np.array([0, 1])},
          {"features": ARRAY, "masks": ONE_STATE_MASKS, "decisions": SIZING_DECISIONS[:-1]}),
    Entry("ConstantJudge", J.ConstantJudge, lambda: {"n_decisions": K}, {"n_decisions": OPTIONAL_COUNT}),
    Entry("ConstantJudge.score", lambda features, mask, decisions: J.ConstantJudge(K).score(features, mask,
                                                                                            decisions),
          lambda: {"features": _XS, "mask": _MASKS, "decisions": _WIN},
          {"features": ARRAY, "mask": MASK, "decisions": DECISIONS}),
    Entry("BradleyTerryJudge", J.BradleyTerryJudge,
          lambda: {"n_features": F, "n_decisions": K, "n_evidence": 2, "hidden": (4,), "ideal": False, "seed": 0},
          {"n_features": COUNT, "n_decisions": COUNT, "n_evidence": COUNT, "ideal": FLAG, "seed": SEED,
           "hidden": ("none", "type", "nan", "inf", "negative", "fraction", "ndim", "dtype")}),
    Entry("BradleyTerryJudge.score", lambda features, mask, decisions: bt_judge().score(features, mask, decisions),
          lambda: {"features": _XS, "mask": _MASKS, "decisions": _WIN},
          {"features": ARRAY, "mask": MASK, "decisions": DECISIONS}),
    Entry("BradleyTerryJudge.score_masks",
          lambda features, masks, decisions: bt_judge().score_masks(features, masks, decisions),
          lambda: {"features": _X, "masks": _MASKS, "decisions": np.array([0, 1])},
          {"features": ARRAY, "masks": ONE_STATE_MASKS, "decisions": SIZING_DECISIONS[:-1]}),
    Entry("BradleyTerryJudge.fit",
          lambda features, winners, losers, epochs, batch_size, learning_rate, weight_decay, validation, seed:
          bt_judge().fit(features, winners, losers, epochs=epochs, batch_size=batch_size,
                         learning_rate=learning_rate, weight_decay=weight_decay, validation=validation, seed=seed),
          lambda: {"features": _XS, "winners": _WIN, "losers": _LOSE, "epochs": 2, "batch_size": 4,
                   "learning_rate": 0.01, "weight_decay": 0.0, "validation": (_XS, _WIN, _LOSE), "seed": 0},
          {"features": SIZING_ARRAY + ("shape",), "winners": DECISIONS, "losers": DECISIONS, "epochs": COUNT[:-1],
           "batch_size": COUNT[:-1], "learning_rate": POSITIVE, "weight_decay": POSITIVE, "seed": SEED}),
    Entry("BradleyTerryJudge.accuracy",
          lambda features, winners, losers, masks, n_evidence, seed:
          bt_judge().accuracy(features, winners, losers, masks=masks, n_evidence=n_evidence, seed=seed),
          lambda: {"features": _XS, "winners": _WIN, "losers": _LOSE, "masks": _MASKS, "n_evidence": 2, "seed": 0},
          {"features": SIZING_ARRAY + ("shape",), "winners": DECISIONS, "losers": DECISIONS, "masks": MASK[1:],
           "n_evidence": OPTIONAL_COUNT + ("huge",), "seed": SEED}),
    Entry("random_evidence_masks", J.random_evidence_masks,
          lambda: {"n": 4, "n_features": F, "n_evidence": 2, "seed": 0},
          {"n": COUNT, "n_features": COUNT, "n_evidence": COUNT, "seed": SEED}),
    Entry("debate_outcome", J.debate_outcome,
          lambda: {"judge": judge(), "features": _XS, "mask": _MASKS, "decisions_1": _WIN, "decisions_2": _LOSE},
          {"judge": MODEL, "features": ARRAY, "mask": MASK, "decisions_1": DECISIONS, "decisions_2": DECISIONS}),
    Entry("judge_accuracy", J.judge_accuracy,
          lambda: {"judge": judge(), "features": _XS, "winners": _WIN, "losers": _LOSE, "masks": _MASKS},
          {"judge": MODEL, "features": ARRAY, "winners": DECISIONS, "losers": DECISIONS, "masks": MASK}),
    Entry("score_grid", J.score_grid,
          lambda: {"judge": judge(), "features": _XS, "masks": _MASKS, "decisions": np.arange(K)},
          {"judge": MODEL, "features": ARRAY[:-1], "masks": ONE_STATE_MASKS, "decisions": SIZING_DECISIONS[:-1]}),
    Entry("outcome_grid", J.outcome_grid,
          lambda: {"judge": bt_judge(), "features": _X, "masks": _MASKS, "reference": 1, "n_decisions": K},
          {"judge": MODEL, "features": ARRAY, "masks": ONE_STATE_MASKS, "reference": INDEX + ("huge",),
           "n_decisions": COUNT}),
    Entry("margins_after_reveal", J.margins_after_reveal,
          lambda: {"judge": bt_judge(), "features": _XS, "revealed": _MASKS, "own": _WIN, "other": _LOSE,
                   "chunk": 4},
          {"judge": MODEL, "features": ARRAY, "revealed": MASK, "own": DECISIONS, "other": DECISIONS,
           "chunk": COUNT[:-1]}),
    # ------------------------------------------------------------------------------------- preferences
    Entry("PreferenceData", P.PreferenceData,
          lambda: {"features": _XS, "winners": _WIN, "losers": _LOSE, "states": np.arange(6)},
          {"features": SIZING_ARRAY, "winners": DECISIONS, "losers": DECISIONS, "states": DECISIONS}),
    Entry("PreferenceData.split", lambda fraction, seed: P.PreferenceData(_XS, _WIN, _LOSE, np.arange(6)).split(
          fraction, seed), lambda: {"fraction": 0.5, "seed": 0}, {"fraction": POSITIVE, "seed": SEED}),
    Entry("behaviour_preferences", P.behaviour_preferences,
          lambda: {"features": _XS, "behaviour_actions": _WIN, "n_decisions": K, "n_repeats": 2, "seed": 0},
          {"features": SIZING_ARRAY, "behaviour_actions": DECISIONS, "n_decisions": COUNT[:-1], "n_repeats": COUNT,
           "seed": SEED}),
    Entry("value_oracle_preferences", P.value_oracle_preferences,
          lambda: {"features": _XS, "q_values": _RNG.normal(size=(6, K)), "n_pairs": 10, "beta": 2.0,
                   "state_weights": np.full(6, 1 / 6), "seed": 0},
          {"features": SIZING_ARRAY, "q_values": SIZING_ARRAY, "n_pairs": COUNT, "beta": ("none", "type", "nan",
                                                                                  "negative"),
           "state_weights": NONNEG_ARRAY[1:], "seed": SEED}),
    Entry("GuidelineRule", P.GuidelineRule,
          lambda: {"feature_names": ("a", "b", "c", "d", "e"), "weights": _W, "bias": np.zeros(K)},
          {"feature_names": ("none", "type"), "weights": ARRAY, "bias": ARRAY[1:]}),
    Entry("GuidelineRule.from_terms", P.GuidelineRule.from_terms,
          lambda: {"feature_names": ("a", "b", "c"), "n_decisions": K, "terms": {"a": [1.0, 0.0, -1.0]},
                   "bias": None},
          {"feature_names": ("none", "type"), "n_decisions": COUNT, "terms": ("none", "type")}),
    Entry("GuidelineRule.preferences",
          lambda features, n_pairs, beta, seed: P.GuidelineRule(tuple("abcde"), _W).preferences(
              features, n_pairs, beta=beta, seed=seed),
          lambda: {"features": _XS, "n_pairs": 5, "beta": 1.0, "seed": 0},
          {"features": ARRAY, "n_pairs": COUNT, "beta": ("none", "type", "nan", "negative"), "seed": SEED}),
    Entry("evidence_precision_recall", P.evidence_precision_recall,
          lambda: {"evidence_masks": _MASKS, "relevant": np.array([True, True, False, False, False])},
          {"evidence_masks": ("none", "type", "nan", "ndim", "dtype", "empty"), "relevant": MASK}),
    # ----------------------------------------------------------------------------------- exact solver
    Entry("solve_debate", S.solve_debate, lambda: _game(first_mover=0, max_leaves=1000),
          {**GAME, "first_mover": INDEX[1:], "max_leaves": OPTIONAL_COUNT}),
    Entry("best_response", S.best_response,
          lambda: _game(policy=D.RandomDebater(), responder=1, first_mover=0, max_leaves=1000),
          {**GAME, "policy": MODEL, "responder": INDEX, "first_mover": INDEX[1:], "max_leaves": OPTIONAL_COUNT}),
    Entry("policy_value", S.policy_value,
          lambda: _game(policies=(D.RandomDebater(), D.GreedyDebater(judge())), first_mover=0, max_leaves=1000),
          {**GAME, "policies": ("none", "type"), "first_mover": INDEX[1:], "max_leaves": OPTIONAL_COUNT}),
    Entry("policy_probabilities", S.policy_probabilities,
          lambda: {"policy": D.RandomDebater(), "features": _X, "revealed": _MASKS, "own_decision": 0,
                   "other_decision": 1},
          {"policy": MODEL, "features": ARRAY, "revealed": ONE_STATE_MASKS, "own_decision": INDEX,
           "other_decision": INDEX}),
    Entry("subgame_values", S.subgame_values,
          lambda: _game(first_mover=0, policy=fixed_random_policy(0), responder=0, max_leaves=1000),
          {**GAME, "first_mover": ("none",) + INDEX, "policy": ("type",), "responder": INDEX,
           "max_leaves": OPTIONAL_COUNT}),
    Entry("SubgameValues.value_at", lambda revealed: S.subgame_values(**_game(first_mover=0)).value_at(revealed),
          lambda: {"revealed": np.array([[True, False, False, False, False]])}, {"revealed": ONE_STATE_MASKS}),
    Entry("SubgameValues.best_reveal",
          lambda revealed: S.subgame_values(**_game(first_mover=0)).best_reveal(revealed),
          lambda: {"revealed": np.array([[True, False, False, False, False]])}, {"revealed": ONE_STATE_MASKS}),
    Entry("SubgameValues.child_values",
          lambda revealed: S.subgame_values(**_game(first_mover=0)).child_values(revealed),
          lambda: {"revealed": np.array([[True, False, False, False, False]])}, {"revealed": ONE_STATE_MASKS}),
    Entry("isolated_plan", S.isolated_plan, lambda: _game(max_leaves=1000), {**GAME, "max_leaves": OPTIONAL_COUNT}),
    Entry("IsolatedPlan.best_next", lambda revealed: S.isolated_plan(**_game()).best_next(revealed),
          lambda: {"revealed": np.array([[True, False, False, False, False]])}, {"revealed": ONE_STATE_MASKS}),
    Entry("leaf_outcomes", S.leaf_outcomes, _game, GAME),
    Entry("debate_win_table", S.debate_win_table,
          lambda: {"judge": judge(), "features": _XS, "baseline": _WIN, "n_evidence": 2, "n_decisions": K,
                   "chunk": 4, "max_leaves": 100},
          {"judge": MODEL, "features": ARRAY, "baseline": DECISIONS, "n_evidence": COUNT, "n_decisions": COUNT,
           "chunk": COUNT[:-1], "max_leaves": OPTIONAL_COUNT}),
    Entry("debate_win_table (L > 2)", S.debate_win_table,
          lambda: {"judge": bt_judge(), "features": _XS, "baseline": _WIN, "n_evidence": 3, "n_decisions": K},
          {"judge": MODEL, "features": ARRAY, "baseline": DECISIONS, "n_decisions": COUNT}),
    Entry("debate_game_tree", S.debate_game_tree, lambda: _game(first_mover=0, max_nodes=1000),
          {**GAME, "first_mover": ("none",) + INDEX, "max_nodes": COUNT[:-1]}),
    Entry("brute_force_debate_value", S.brute_force_debate_value, lambda: _game(first_mover=0),
          {**GAME, "first_mover": INDEX[1:]}),
    Entry("brute_force_best_response", S.brute_force_best_response,
          lambda: _game(policy=D.RandomDebater(), responder=1, first_mover=0),
          {**GAME, "policy": MODEL, "responder": INDEX, "first_mover": INDEX[1:]}),
    Entry("enumerate_reveal_sequences", S.enumerate_reveal_sequences, lambda: {"n_features": F, "n_evidence": 2},
          {"n_features": COUNT, "n_evidence": COUNT}),
    Entry("subset_ranks", S.subset_ranks, lambda: {"masks": _MASKS}, {"masks": ("none", "type", "nan", "ndim",
                                                                                 "dtype")}),
    Entry("mover_at", S.mover_at, lambda: {"level": 1, "first_mover": 0},
          {"level": INDEX, "first_mover": INDEX}),
    # ---------------------------------------------------------------------------------------- debaters
    Entry("GreedyDebater", D.GreedyDebater, lambda: {"judge": judge()}, {"judge": MODEL}),
    Entry("BeamDebater", D.BeamDebater, lambda: {"judge": judge(), "n_evidence": 2, "width": 2, "depth": 1},
          {"judge": MODEL, "n_evidence": COUNT[:-1], "width": COUNT[:-1], "depth": OPTIONAL_COUNT}),
    Entry("IsolatedDebater", D.IsolatedDebater, lambda: {"judge": judge(), "n_evidence": 2, "cache_size": 4},
          {"judge": MODEL, "n_evidence": COUNT[:-1], "cache_size": COUNT[:-1]}),
    Entry("PolicyGradientDebater", D.PolicyGradientDebater,
          lambda: {"n_features": F, "n_decisions": K, "judge": judge(), "greedy_weight": 0.5, "seed": 0},
          {"n_features": COUNT, "n_decisions": COUNT, "judge": ("type",), "greedy_weight": NUMBER,
           "seed": SEED}),
    Entry("ArguingFor", D.ArguingFor, lambda: {"debater": D.RandomDebater(), "own": 0, "other": 1},
          {"debater": MODEL, "own": INDEX, "other": INDEX}),
    Entry("RandomDebater.probabilities",
          lambda features, revealed, own_decision, other_decision: D.RandomDebater().probabilities(
              features, revealed, own_decision, other_decision),
          lambda: {"features": _X, "revealed": _MASKS, "own_decision": 0, "other_decision": 1},
          {"features": ARRAY, "revealed": ONE_STATE_MASKS, "own_decision": INDEX, "other_decision": INDEX}),
    Entry("GreedyDebater.act",
          lambda features, revealed, own_decision, other_decision, seed: D.GreedyDebater(judge()).act(
              features, revealed, own_decision, other_decision, seed),
          lambda: {"features": _X, "revealed": _MASKS[0], "own_decision": 0, "other_decision": 1, "seed": 0},
          {"features": ARRAY, "revealed": ONE_STATE_MASKS, "own_decision": INDEX + ("huge",),
           "other_decision": INDEX + ("huge",), "seed": SEED}),
    Entry("BeamDebater.probabilities",
          lambda features, revealed, own_decision, other_decision: D.BeamDebater(judge(), 2).probabilities(
              features, revealed, own_decision, other_decision),
          lambda: {"features": _X, "revealed": np.zeros((2, F), dtype=bool), "own_decision": 0,
                   "other_decision": 1},
          {"features": ARRAY, "revealed": ONE_STATE_MASKS, "own_decision": INDEX + ("huge",),
           "other_decision": INDEX + ("huge",)}),
    Entry("IsolatedDebater.probabilities",
          lambda features, revealed, own_decision, other_decision: D.IsolatedDebater(judge(), 2).probabilities(
              features, revealed, own_decision, other_decision),
          lambda: {"features": _X, "revealed": np.zeros((2, F), dtype=bool), "own_decision": 0,
                   "other_decision": 1},
          {"features": ARRAY, "revealed": ONE_STATE_MASKS, "own_decision": INDEX + ("huge",),
           "other_decision": INDEX + ("huge",)}),
    Entry("PolicyGradientDebater.probabilities",
          lambda features, revealed, own_decision, other_decision: D.PolicyGradientDebater(F, K).probabilities(
              features, revealed, own_decision, other_decision),
          lambda: {"features": _X, "revealed": _MASKS, "own_decision": 0, "other_decision": 1},
          {"features": ARRAY, "revealed": ONE_STATE_MASKS, "own_decision": INDEX + ("huge",),
           "other_decision": INDEX + ("huge",)}),
    Entry("train_debater", D.train_debater,
          lambda: {"judge": judge(), "features": _XS, "correct": _WIN, "n_evidence": 2, "mode": "maxmin",
                   "wrong": _LOSE, "iterations": 2, "batch_size": 4, "learning_rate": 0.05, "phase_length": 1,
                   "refresh": 1, "use_judge_gain": True, "n_decisions": K, "seed": 0},
          {"judge": MODEL, "features": ARRAY, "correct": DECISIONS, "n_evidence": COUNT, "mode": CHOICE,
           "wrong": DECISIONS[1:], "iterations": COUNT[:-1], "batch_size": COUNT, "learning_rate": POSITIVE,
           "phase_length": COUNT[:-1], "refresh": COUNT[:-1], "use_judge_gain": FLAG,
           "n_decisions": OPTIONAL_COUNT, "seed": SEED}),
    Entry("play_debates", D.play_debates,
          lambda: {"judge": judge(), "features": _XS, "decisions": _DEC, "n_evidence": 2,
                   "debaters": (D.RandomDebater(), D.GreedyDebater(judge())), "first_mover": 0, "seed": 0},
          {"judge": MODEL, "features": ARRAY, "decisions": DECISIONS, "n_evidence": COUNT,
           "debaters": ("none", "type"), "first_mover": INDEX[1:], "seed": SEED}),
    Entry("greedy_debate_values", D.greedy_debate_values, _game, GAME),
    Entry("learned_win_table", T.learned_win_table,
          lambda: {"judge": bt_judge(), "features": _XS, "baseline": _WIN, "n_evidence": 2,
                   "debaters": D.GreedyDebater(bt_judge()), "n_decisions": K, "method": "auto", "n_samples": 4,
                   "max_paths": 8, "query_chunk": 16, "seed": 0},
          {"judge": MODEL, "features": ARRAY, "baseline": DECISIONS, "n_evidence": COUNT, "debaters": MODEL,
           "n_decisions": COUNT, "method": CHOICE, "n_samples": COUNT, "max_paths": COUNT,
           "query_chunk": COUNT[:-1], "seed": SEED}),
    Entry("ArgmaxDebater", T.ArgmaxDebater, lambda: {"debater": D.RandomDebater()}, {"debater": MODEL}),
    Entry("compare_tables", T.compare_tables,
          lambda: {"first": S.debate_win_table(judge(), _XS, _WIN, 1, n_decisions=K),
                   "second": T.learned_win_table(judge(), _XS, _WIN, 1, D.GreedyDebater(judge()), n_decisions=K)},
          {"first": MODEL, "second": MODEL}),
    Entry("measure_robustness", D.measure_robustness,
          lambda: {"judge": judge(), "features": _XS[:2], "correct": _WIN[:2], "wrong": _LOSE[:2],
                   "debater": D.RandomDebater(), "n_evidence": 2},
          {"judge": MODEL, "features": ARRAY, "correct": DECISIONS, "wrong": DECISIONS, "debater": MODEL,
           "n_evidence": COUNT}),
    # ---------------------------------------------------------------------------------------- ICU-Sepsis
    Entry("load_icu_sepsis", icu.load_icu_sepsis, lambda: {"assets_dir": None}, {"assets_dir": ("type",)}),
    Entry("SepsisMDP", icu.SepsisMDP,
          lambda: {k: getattr(tiny_mdp(), k) for k in ("tx_mat", "r_mat", "d_0", "expert_policy",
                                                       "state_cluster_centers", "sofa", "admissible")},
          {"tx_mat": ("none", "type", "nan", "inf", "negative", "ndim", "dtype", "empty"),
           "r_mat": ARRAY, "d_0": NONNEG_ARRAY, "expert_policy": NONNEG_ARRAY, "state_cluster_centers": ARRAY,
           "sofa": ARRAY, "admissible": MASK}),
    Entry("action_index", icu.action_index, lambda: {"iv": 2, "vaso": 3},
          {"iv": INDEX + ("huge",), "vaso": INDEX + ("huge",)}),
    Entry("action_levels", icu.action_levels, lambda: {"action": 13}, {"action": INDEX + ("huge",)}),
    Entry("as_policy_matrix", icu.as_policy_matrix,
          lambda: {"policy": _tiny_fixed(), "n_states": 5, "n_actions": 3, "terminal": None},
          {"policy": DECISIONS, "n_states": COUNT, "n_actions": COUNT}),
    Entry("as_policy_matrix[probabilities]", icu.as_policy_matrix,
          lambda: {"policy": _tiny_policy(), "n_states": 5, "n_actions": 3,
                   "terminal": np.array([False, False, True, True, True])},
          {"policy": NONNEG_ARRAY, "terminal": MASK[1:]}),
    Entry("uniform_policy", icu.uniform_policy, lambda: {"n_states": 5, "n_actions": 3},
          {"n_states": COUNT, "n_actions": COUNT}),
    Entry("greedy_policy", icu.greedy_policy, lambda: {"q": _RNG.normal(size=(5, 3))}, {"q": SIZING_ARRAY[:-1]}),
    Entry("soften_policy", icu.soften_policy, lambda: {"policy": _tiny_policy(), "epsilon": 0.1, "n_actions": 3},
          {"policy": NONNEG_ARRAY[:-2] + ("negative",), "epsilon": POSITIVE, "n_actions": COUNT}),
    Entry("evaluate_policy", icu.evaluate_policy,
          lambda: {"mdp": tiny_mdp(), "policy": _tiny_policy(), "gamma": 0.9, "horizon": 10,
                   "reward": np.zeros((5, 3))},
          {"mdp": MODEL, "policy": NONNEG_ARRAY, "gamma": POSITIVE, "horizon": OPTIONAL_COUNT,
           "reward": ARRAY[1:]}),
    Entry("baseline_actions", icu.baseline_actions, lambda: {"mdp": tiny_mdp()}, {"mdp": MODEL}),
    Entry("value_iteration", icu.value_iteration,
          lambda: {"mdp": tiny_mdp(), "gamma": 0.9, "reward": None, "tol": 1e-8, "max_iter": 1000,
                   "actions_mask": np.ones((5, 3), dtype=bool)},
          {"mdp": MODEL, "gamma": POSITIVE, "tol": POSITIVE, "max_iter": COUNT[:-1], "actions_mask": MASK[1:]}),
    Entry("policy_iteration", icu.policy_iteration,
          lambda: {"mdp": tiny_mdp(), "gamma": 0.9, "reward": None, "initial_policy": _tiny_fixed(),
                   "max_iter": 100, "actions_mask": None, "atol": 1e-12},
          {"mdp": MODEL, "gamma": POSITIVE, "initial_policy": DECISIONS[1:], "max_iter": COUNT[:-1], "atol": POSITIVE}),
    Entry("sample_trajectories", icu.sample_trajectories,
          lambda: {"mdp": tiny_mdp(), "policy": _tiny_policy(), "n_episodes": 5, "seed": 0, "max_steps": 20},
          {"mdp": MODEL, "policy": NONNEG_ARRAY, "n_episodes": COUNT, "seed": SEED, "max_steps": COUNT}),
    Entry("behaviour_cloning", icu.behaviour_cloning,
          lambda: {"trajectories": _tiny_traj(), "n_states": 5, "n_actions": 3, "prior": 0.5},
          {"trajectories": MODEL, "n_states": COUNT, "n_actions": COUNT, "prior": POSITIVE}),
    Entry("Trajectories.returns", lambda gamma: _tiny_traj().returns(gamma), lambda: {"gamma": 0.9},
          {"gamma": POSITIVE}),
    Entry("wis_estimate", icu.wis_estimate,
          lambda: {"trajectories": _tiny_traj(), "target_policy": _tiny_policy(),
                   "behaviour_policy": icu.as_policy_matrix(tiny_mdp().expert_policy, 5, 3), "gamma": 1.0},
          {"trajectories": MODEL, "target_policy": NONNEG_ARRAY, "behaviour_policy": NONNEG_ARRAY,
           "gamma": POSITIVE}),
    Entry("noisy_features", icu.noisy_features,
          lambda: {"mdp": tiny_mdp(), "states": np.array([0, 1, 1]), "sigma": 0.3, "seed": 0},
          {"mdp": MODEL, "states": SIZING_DECISIONS[:-1], "sigma": POSITIVE, "seed": SEED}),
    Entry("state_occupancy", icu.state_occupancy, lambda: {"mdp": tiny_mdp(), "policy": _tiny_policy(),
                                                           "gamma": 0.9},
          {"mdp": MODEL, "policy": NONNEG_ARRAY, "gamma": POSITIVE}),
    Entry("clinician_preferences", icu.clinician_preferences,
          lambda: {"mdp": tiny_mdp(), "n_episodes": 5, "sigma": 0.3, "n_repeats": 1, "seed": 0},
          {"mdp": MODEL, "n_episodes": COUNT, "sigma": POSITIVE, "n_repeats": COUNT, "seed": SEED}),
    Entry("train_sepsis_judge", icu.train_sepsis_judge,
          lambda: {"mdp": tiny_mdp(), "n_evidence": 2, "ideal": False, "n_episodes": 5, "sigma": 0.3,
                   "hidden": (4,), "epochs": 1, "learning_rate": 0.01, "seed": 0},
          {"mdp": MODEL, "n_evidence": COUNT, "ideal": FLAG, "n_episodes": COUNT, "sigma": POSITIVE,
           "epochs": COUNT[:-1], "learning_rate": POSITIVE, "seed": SEED}),
    # ------------------------------------------------------------------------------------ Oberst-Sontag
    Entry("OberstSontagModel", osm.OberstSontagModel,
          lambda: {k: getattr(os_model(), k) for k in ("transitions", "rewards", "initial", "features")},
          {"transitions": MODEL, "rewards": ARRAY, "initial": NONNEG_ARRAY, "features": ARRAY}),
    Entry("oberst_sontag.encode_state", osm.encode_state,
          lambda: {"hr": 1, "sysbp": 1, "percoxyg": 1, "glucose": 2, "antibiotic": 0, "vaso": 0, "vent": 0,
                   "diabetic": 0},
          {k: INDEX + ("huge",) for k in ("hr", "sysbp", "percoxyg", "glucose", "antibiotic", "vaso", "vent",
                                          "diabetic")}),
    Entry("oberst_sontag.decode_state", osm.decode_state, lambda: {"index": np.array([0, 5, 17])},
          {"index": ("none", "type", "nan", "inf", "negative", "fraction", "dtype")}),  # any shape is valid
    Entry("oberst_sontag.action_bits", osm.action_bits, lambda: {"action": 5}, {"action": INDEX + ("huge",)}),
    Entry("oberst_sontag.value_iteration", osm.value_iteration,
          lambda: {"model": os_model(), "horizon": 3, "gamma": 1.0},
          {"model": MODEL, "horizon": COUNT, "gamma": POSITIVE}),
    Entry("oberst_sontag.evaluate_policy", osm.evaluate_policy,
          lambda: {"model": os_model(), "policy": _os_policy(), "horizon": 3, "gamma": 1.0},
          {"model": MODEL, "policy": NONNEG_ARRAY, "horizon": COUNT[:-1], "gamma": POSITIVE}),
    Entry("oberst_sontag.step", osm.step,
          lambda: {"state": np.array([1, 1, 1, 2, 0, 0, 0, 0]), "action": 3, "rng": np.random.default_rng(0)},
          {"state": ("none", "type", "nan", "inf", "negative", "fraction", "shape", "ndim", "dtype", "empty"),
           "action": INDEX + ("huge",), "rng": ("type",)}),
    Entry("oberst_sontag.simulate", osm.simulate,
          lambda: {"policy": _os_policy(), "n_episodes": 2, "horizon": 3, "seed": 0},
          {"policy": ("none", "type", "nan", "inf", "negative", "shape", "ndim", "dtype", "empty"),
           "n_episodes": COUNT, "horizon": COUNT[:-1], "seed": SEED}),
    # -------------------------------------------------------------------------------------- environments
    Entry("DebateEnv", DebateEnv,
          lambda: {"states": _XS, "n_features": F, "judge": judge(), "decisions": (0, 1), "n_decisions": K,
                   "n_evidence": 2, "first_mover": 0, "max_cycles": 5, "render_mode": "ansi"},
          {"states": ARRAY, "n_features": OPTIONAL_COUNT + ("huge",), "judge": MODEL, "decisions": DECISIONS[1:],
           "n_decisions": OPTIONAL_COUNT + ("huge",), "n_evidence": COUNT, "first_mover": INDEX[1:],
           "max_cycles": OPTIONAL_COUNT, "render_mode": ("type",)}),
    Entry("DebateEnv[sampler]", DebateEnv,
          lambda: {"state_sampler": lambda rng: rng.normal(size=F), "n_features": F, "judge": judge()},
          {"state_sampler": ("type",), "n_features": OPTIONAL_COUNT + ("huge",)}),
    Entry("DebateEnv.step", lambda action: _env_step(_debate_env, action), lambda: {"action": 1},
          {"action": INDEX + ("inf", "huge")}),
    Entry("DebateVsOpponent", DebateVsOpponent,
          lambda: {"debate_kwargs": {"states": _XS, "judge": judge(), "n_evidence": 2}, "opponent": "random",
                   "learner": 0, "compute_value": True, "illegal_action": "lose", "render_mode": "ansi"},
          {"debate_kwargs": ("type",), "opponent": ("none", "type"), "learner": INDEX, "compute_value": FLAG,
           "illegal_action": CHOICE, "render_mode": ("type",)}),
    Entry("DebateVsOpponent.step", lambda action: _env_step(lambda: DebateVsOpponent(opponent="random"), action),
          lambda: {"action": 1}, {"action": INDEX + ("inf", "huge")}),
    Entry("JustifiableSepsisEnv", JustifiableSepsisEnv,
          lambda: {"lam": 0.5, "n_evidence": 1, "judge": _sepsis_judge(), "debaters": "exact",
                   "baseline": "expert", "sigma": 0.3, "debate_reward": "win", "debate_scale": 1.0,
                   "max_episode_steps": 50, "judge_seed": 0, "precompute": True, "render_mode": "ansi", "mdp": None},
          {"lam": POSITIVE, "n_evidence": COUNT, "judge": ("none", "type"), "debaters": ("none", "type"),
           "baseline": ("none", "type"), "sigma": POSITIVE, "debate_reward": CHOICE, "debate_scale": POSITIVE,
           "max_episode_steps": OPTIONAL_COUNT, "judge_seed": INDEX, "precompute": FLAG, "render_mode": ("type",),
           "mdp": ("type",)}),
    Entry("JustifiableSepsisEnv[baseline]", lambda baseline: _sepsis_env(baseline=baseline),
          lambda: {"baseline": icu.baseline_actions(icu.load_icu_sepsis())},
          {"baseline": DECISIONS[1:]}),
    Entry("JustifiableSepsisEnv.step", lambda action: _env_step(_sepsis_env, action), lambda: {"action": 3},
          {"action": INDEX + ("inf", "huge")}),
    Entry("JustifiableSepsisEnv.reset", lambda state: _sepsis_env().reset(seed=0, options={"state": state}),
          lambda: {"state": 3}, {"state": ("type", "nan", "negative", "fraction", "huge")}),
    Entry("JustifiableSepsisEnv.precompute_debates", lambda states: _sepsis_env().precompute_debates(states),
          lambda: {"states": np.array([0, 5, 9])}, {"states": SIZING_DECISIONS[1:-1]}),
    Entry("default_sepsis_judge", default_sepsis_judge, lambda: {"n_evidence": 2, "ideal": False, "seed": 0},
          {"n_evidence": COUNT, "ideal": FLAG, "seed": INDEX}),
]
