"""The shipped sepsis debater bundles and the scenario's handling of a judge they were not trained against."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from mechsim.debate.judges import LinearJudge
from mechsim.learners.neural_debaters import (
    MLPDebater,
    judge_fingerprint,
    load_debater_bundle,
    observation_size,
    save_debater_bundle,
)
from mechsim.scenarios import sepsis_debaters as sd

F, D, L = 5, 3, 2


def _bundle(tmp_path, judge):
    rng = np.random.default_rng(0)
    sizes = (observation_size(F, D, L), 4, F)
    deb = MLPDebater(tuple(rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])),
                     tuple(rng.normal(size=b) for b in sizes[1:]), F, D, L)
    return save_debater_bundle(tmp_path / f"sepsis_L{L}.npz", {"maxmin": deb},
                               judge_fingerprint=judge_fingerprint(judge, F, D), metadata={"n_evidence": L})


def _no_rl(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("torch", "stable_baselines3", "sb3_contrib")
                        else real(name, *a))


def test_matching_judge_uses_the_cached_bundle(tmp_path):
    judge = LinearJudge(np.random.default_rng(1).normal(size=(D, F)))
    path = _bundle(tmp_path, judge)
    bundle, note = sd.cached_debaters(judge, L, path=path, retrain=False)
    assert "cached" in note and set(bundle.debaters) == {"maxmin"}
    assert bundle.debaters["maxmin"].deterministic


def test_fingerprint_mismatch_without_the_rl_extra_raises_a_clear_error(tmp_path, monkeypatch):
    judge = LinearJudge(np.random.default_rng(1).normal(size=(D, F)))
    other = LinearJudge(np.random.default_rng(2).normal(size=(D, F)))
    path = _bundle(tmp_path, judge)
    with pytest.raises(sd.CachedDebatersError, match="retraining disabled"):
        sd.cached_debaters(other, L, path=path, retrain=False)
    _no_rl(monkeypatch)
    with pytest.raises(sd.CachedDebatersError, match=r"fingerprint.*rl"):
        sd.cached_debaters(other, L, path=path)
    path.write_bytes(b"damaged")
    with pytest.raises(sd.CachedDebatersError, match=r"damaged.*rl"):
        sd.cached_debaters(judge, L, path=path)


def test_shipped_bundles_fit_their_judges_and_the_split():
    from mechsim.debate.icu_sepsis import N_PATIENT_STATES, load_icu_sepsis

    mdp = load_icu_sepsis()
    train, held = sd.patient_split()
    assert np.intersect1d(train, held).size == 0 and train.size + held.size == N_PATIENT_STATES
    for L_, names in ((4, {"isolated", "self_play", "maxmin", "maxmin_confuser", "distilled"}),
                      (6, {"maxmin", "maxmin_confuser"})):
        path = sd.bundle_path(L_)
        assert path.stat().st_size < 400_000
        judge = sd.debate_judge(mdp, L_)  # the distilled debater reads the judge's margins
        bundle = load_debater_bundle(path, judge=judge)
        assert names <= set(bundle.debaters)
        meta = bundle.metadata
        assert meta["split"] == {"seed": sd.SPLIT_SEED, "n_held_out": sd.N_HELD_OUT, "n_train": int(train.size)}
        assert meta["versions"]["torch"] and meta["command"].startswith("python -m mechsim.scenarios.sepsis_debaters")
        assert all(run["seconds"] > 0 for run in meta["runs"].values())
        sd.cached_debaters(judge, L_, retrain=False)  # fingerprint matches


def test_learned_debates_at_L4_agree_with_exact_debates_on_most_states():
    """The shipped max-min debaters (confuser for the action, argumentator for the clinician's, argmax play)
    reach the exact minimax winner in most (state, action, first mover) debates at L = 4."""
    from mechsim.debate.icu_sepsis import baseline_actions, load_icu_sepsis
    from mechsim.learners.debate_tables import compare_tables, learned_win_table
    from mechsim.solvers.debate import debate_win_table

    mdp = load_icu_sepsis()
    base = baseline_actions(mdp)
    judge = sd.debate_judge(mdp, 4)
    bundle, _ = sd.cached_debaters(judge, 4, retrain=False, mdp=mdp)
    _, held = sd.patient_split()
    states = held[:12]
    pair = (bundle.debaters["maxmin_confuser"], bundle.debaters["maxmin"])
    learned = learned_win_table(judge, mdp.features[states], base[states], 4, pair, n_decisions=mdp.n_actions)
    exact = debate_win_table(judge, mdp.features[states], base[states], 4, n_decisions=mdp.n_actions)
    assert learned.method == "exact"  # argmax play: one line per debate, no sampling error
    agree = compare_tables(exact, learned)
    assert agree.same_winner >= 0.9, agree
