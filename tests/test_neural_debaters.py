"""Neural debaters without torch: numpy MLP inference, bundles, fingerprints, the held-out split, bootstrap CIs,
the training env and the exact held-out evaluation."""

from __future__ import annotations

import itertools
import zipfile

import numpy as np
import pytest

from mechsim.debate.judges import LinearJudge
from mechsim.errors import InvalidInstanceError
from mechsim.learners.debaters import ArguingFor, GreedyDebater, RandomDebater
from mechsim.learners.neural_debaters import (
    DebaterBundle,
    DebaterBundleError,
    JudgeFingerprintError,
    MLPDebater,
    bootstrap_ci,
    check_judge_fingerprint,
    debate_observation,
    evaluate_held_out,
    judge_fingerprint,
    learned_debate_outcomes,
    load_debater_bundle,
    observation_size,
    save_debater_bundle,
    split_states,
)
from mechsim.solvers.debate import best_response, policy_value, solve_debate

F, D, L = 5, 3, 3


def _mlp(seed=0, hidden=(6, 4), deterministic=False, n_evidence=L, activation="tanh"):
    rng = np.random.default_rng(seed)
    sizes = (observation_size(F, D, n_evidence), *hidden, F)
    ws = tuple(rng.normal(size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:]))
    bs = tuple(rng.normal(size=b) for b in sizes[1:])
    return MLPDebater(ws, bs, F, D, n_evidence, activation, deterministic)


def _judge(seed=1):
    return LinearJudge(np.random.default_rng(seed).normal(size=(D, F)))


def test_inference_matches_a_hand_computation():
    deb = _mlp()
    x = np.array([0.3, -1.2, 0.5, 2.0, -0.1])
    r = np.array([False, True, False, False, False])
    # the observation written out by hand: x, mask, own one-hot, other one-hot, one-hot of |R| = 1
    o = np.concatenate([x, r.astype(float), [0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert np.allclose(debate_observation(x[None], r[None], [2], [0], D, L)[0], o)
    h = np.tanh(o @ deb.weights[0] + deb.biases[0])
    h = np.tanh(h @ deb.weights[1] + deb.biases[1])
    z = h @ deb.weights[2] + deb.biases[2]
    p = np.exp(z) * ~r
    p /= p.sum()
    got = deb.probabilities(x, r[None], 2, 0)[0]
    assert got[1] == 0.0
    assert np.allclose(got, p, atol=1e-6)
    greedy = deb.with_deterministic().probabilities(x, r[None], 2, 0)[0]
    assert greedy.tolist() == np.eye(F)[np.argmax(p)].tolist()
    relu = _mlp(activation="relu")
    h = np.maximum(o @ relu.weights[0] + relu.biases[0], 0)
    h = np.maximum(h @ relu.weights[1] + relu.biases[1], 0)
    z = h @ relu.weights[2] + relu.biases[2]
    q = np.exp(z - z[~r].max()) * ~r
    assert np.allclose(relu.probabilities(x, r[None], 2, 0)[0], q / q.sum(), atol=1e-6)


def test_batched_queries_equal_row_by_row_and_finished_games_are_rejected():
    deb = _mlp(3)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(7, F))
    r = np.zeros((7, F), dtype=bool)
    for i in range(7):
        r[i, rng.choice(F, size=i % L, replace=False)] = True
    own, other = rng.integers(0, D, 7), (rng.integers(1, D, 7))
    other = (own + other) % D
    batch = deb.batch_probabilities(x, r, own, other)
    for i in range(7):
        assert np.allclose(batch[i], deb.probabilities(x[i], r[i][None], own[i], other[i])[0])
    assert np.allclose(batch.sum(axis=1), 1) and np.all(batch[r] == 0)
    full = np.zeros((1, F), dtype=bool)
    full[0, :L] = True
    with pytest.raises(InvalidInstanceError, match="revealed"):
        deb.probabilities(x[0], full, 0, 1)


@pytest.mark.parametrize("change, match", [
    (lambda w, b: (w[:-1], b[:-1]), "logits"),
    (lambda w, b: ((w[0][:-1],) + w[1:], b), "layer 0"),
    (lambda w, b: (w, (b[0][:-1],) + b[1:]), "layer 0"),
    (lambda w, b: ((np.where(w[0] > 0, np.nan, w[0]),) + w[1:], b), "finite"),
    (lambda w, b: ((), ()), "non-empty"),
])
def test_mlp_debater_rejects_bad_weights(change, match):
    deb = _mlp()
    w, b = change(deb.weights, deb.biases)
    with pytest.raises(InvalidInstanceError, match=match):
        MLPDebater(w, b, F, D, L)


def test_bundle_round_trip(tmp_path):
    debs = {"a": _mlp(0), "b_confuser": _mlp(1, hidden=(3,))}
    fp = judge_fingerprint(_judge(), F, D)
    path = save_debater_bundle(tmp_path / "sub" / "x.npz", debs, judge_fingerprint=fp, metadata={"seed": 7})
    assert [p.name for p in path.parent.iterdir()] == ["x.npz"]  # the temporary file was renamed away
    bundle = load_debater_bundle(path)
    assert set(bundle.debaters) == {"a", "b_confuser"} and bundle.metadata["seed"] == 7
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, F))
    r = rng.random((20, F)) < 0.3
    r[:, 0] = False
    r[r.sum(axis=1) >= L] = False
    for name, deb in debs.items():
        got = bundle.debaters[name].batch_probabilities(x, r, np.zeros(20, int), np.ones(20, int))
        want = deb.batch_probabilities(x, r, np.zeros(20, int), np.ones(20, int))
        assert np.allclose(got, want, atol=1e-5)  # float32 storage
    assert np.array_equal(bundle.judge_fingerprint, fp)
    assert load_debater_bundle(path, deterministic=True).debaters["a"].deterministic


def _rewrite(path, out, edit):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    edit(arrays)
    np.savez(out, **arrays)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "missing", "drop_weight", "nan_weight", "bad_shape",
                                    "bad_meta", "bad_format", "bad_fingerprint"])
def test_damaged_bundles_raise_a_typed_error(tmp_path, damage):
    path = save_debater_bundle(tmp_path / "ok.npz", {"a": _mlp()}, judge_fingerprint=np.ones(4))
    bad = tmp_path / "bad.npz"
    if damage == "truncate":
        bad.write_bytes(path.read_bytes()[:200])
    elif damage == "garbage":
        bad.write_bytes(b"not a zip file at all")
    elif damage == "missing":
        bad = tmp_path / "nothing.npz"
    elif damage == "drop_weight":
        _rewrite(path, bad, lambda a: a.pop("a/w1"))
    elif damage == "nan_weight":
        _rewrite(path, bad, lambda a: a.__setitem__("a/w0", a["a/w0"] * np.nan))
    elif damage == "bad_shape":
        _rewrite(path, bad, lambda a: a.__setitem__("a/w1", a["a/w1"][:, :-1]))
    elif damage == "bad_meta":
        _rewrite(path, bad, lambda a: a.__setitem__("metadata", np.array("{not json")))
    elif damage == "bad_format":
        _rewrite(path, bad, lambda a: a.__setitem__("metadata", np.array(str(a["metadata"]).replace(
            "mechsim-debaters-1", "other"))))
    elif damage == "bad_fingerprint":
        _rewrite(path, bad, lambda a: a.__setitem__("fingerprint", np.array([np.inf])))
    with pytest.raises(DebaterBundleError, match="path"):
        load_debater_bundle(bad)
    assert zipfile.is_zipfile(path)


def test_fingerprint_detects_another_judge(tmp_path):
    j = _judge(1)
    path = save_debater_bundle(tmp_path / "b.npz", {"a": _mlp()}, judge_fingerprint=judge_fingerprint(j, F, D),
                               metadata={})
    bundle = load_debater_bundle(path)
    assert check_judge_fingerprint(bundle, j) == 0.0
    assert check_judge_fingerprint(bundle, LinearJudge(j.weights + 1e-9)) < 1e-6  # within tolerance
    with pytest.raises(JudgeFingerprintError, match="judge"):
        check_judge_fingerprint(bundle, _judge(2))
    with pytest.raises(JudgeFingerprintError):
        check_judge_fingerprint(bundle, LinearJudge(j.weights + 1e-3))
    with pytest.raises(InvalidInstanceError, match="bundle"):
        check_judge_fingerprint("b.npz", j)
    assert isinstance(bundle, DebaterBundle)


def test_split_is_a_disjoint_seeded_partition():
    train, held = split_states(713, 250, seed=16)
    assert held.size == 250 and train.size == 463
    assert np.intersect1d(train, held).size == 0
    assert np.array_equal(np.union1d(train, held), np.arange(713))
    t2, h2 = split_states(713, 250, seed=16)
    assert np.array_equal(h2, held) and np.array_equal(t2, train)
    assert not np.array_equal(split_states(713, 250, seed=17)[1], held)
    with pytest.raises(InvalidInstanceError, match="n_held_out"):
        split_states(10, 10)


def test_bootstrap_ci_on_known_cases():
    # a constant sample: the interval is the point
    assert bootstrap_ci(np.full(30, 0.4), seed=0) == pytest.approx((0.4, 0.4))
    # two values: the resampled mean is Binomial(n, 1/2) / n; its 2.5% / 97.5% quantiles are known exactly
    from scipy.stats import binom

    n = 100
    lo, hi = bootstrap_ci(np.r_[np.zeros(n // 2), np.ones(n // 2)], n_boot=20_000, seed=1)
    want_lo, want_hi = binom.ppf([0.025, 0.975], n, 0.5) / n
    assert abs(lo - want_lo) <= 0.011 and abs(hi - want_hi) <= 0.011
    assert bootstrap_ci(np.arange(10.0), seed=3) == bootstrap_ci(np.arange(10.0), seed=3)
    with pytest.raises(InvalidInstanceError, match="level"):
        bootstrap_ci(np.ones(3), level=1.5)
    with pytest.raises(InvalidInstanceError, match="values"):
        bootstrap_ci(np.array([]))


def test_learned_debate_outcomes_match_exact_values_for_deterministic_debaters():
    j = _judge()
    rng = np.random.default_rng(8)
    x = rng.normal(size=(6, F))
    own = np.array([0, 1, 2, 0, 1, 2])
    other = (own + 1) % D
    d0, d1 = _mlp(5, deterministic=True), _mlp(6, deterministic=True)
    out = learned_debate_outcomes(j, x, own, other, (d0, d1), L)
    for i in range(6):
        for fm in (0, 1):
            exact = policy_value(j, x[i], (own[i], other[i]), L, (d0, d1), first_mover=fm)
            assert out[i, fm] == pytest.approx(exact)


def test_held_out_evaluation_against_the_exact_solver():
    j = _judge()
    rng = np.random.default_rng(9)
    x = rng.normal(size=(4, F))
    good = np.array([0, 1, 2, 1])
    bad = np.array([1, 2, 0, 0])
    det, samp = _mlp(2, deterministic=True), _mlp(3)
    ev = evaluate_held_out(j, x, good, bad, {"det": det, "samp": samp, "greedy": GreedyDebater(j)}, L,
                           confusers={"det": _mlp(4, deterministic=True), "samp": RandomDebater()})
    for i in range(4):
        pair = (int(good[i]), int(bad[i]))
        # random evidence: brute force over all L-sets
        u = [np.sign(np.diff(j.score(np.tile(x[i], (2, 1)), np.tile(np.isin(np.arange(F), s), (2, 1)),
                                     np.array(pair[::-1])))[0]) for s in itertools.combinations(range(F), L)]
        assert ev.random_evidence[i] == pytest.approx((1 + np.mean(u)) / 2)
        assert ev.minimax[i] == pytest.approx((1 + solve_debate(j, x[i], pair, L).value) / 2)
        for name, d in (("det", det), ("samp", samp)):
            solo = ArguingFor(d, *pair)
            assert ev.alone[name][i] == pytest.approx((1 + policy_value(j, x[i], pair, L, (solo, solo), 0)) / 2)
            br = best_response(j, x[i], pair, L, d, responder=1).value
            assert ev.vs_exact[name][i] == pytest.approx((1 + br) / 2)
            assert ev.vs_exact[name][i] <= ev.minimax[i] + 1e-12  # nobody beats the minimax guarantee
        conf = _mlp(4, deterministic=True)
        assert ev.vs_learned["det"][i] == pytest.approx((1 + policy_value(j, x[i], pair, L, (det, conf))) / 2)
        assert ev.vs_learned["samp"][i] == pytest.approx(
            (1 + policy_value(j, x[i], pair, L, (samp, RandomDebater()))) / 2)
    rows = ev.summary(n_boot=200, seed=0)
    assert [r["debater"] for r in rows] == ["det", "samp", "greedy"]
    for r in rows:
        mean, lo, hi = r["vs_exact_confuser"]
        assert lo <= mean <= hi
    assert rows[2]["vs_learned_confuser"] is None
    with pytest.raises(InvalidInstanceError, match="wrong"):
        evaluate_held_out(j, x, good, good, {"det": det}, L)
    with pytest.raises(InvalidInstanceError, match="confusers"):
        evaluate_held_out(j, x, good, bad, {"det": det}, L, confusers={"nobody": det})


def test_training_env_plays_the_game():
    from mechsim.envs.debate_training import DebateTrainingEnv

    j = _judge()
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(4, F))
    env = DebateTrainingEnv(j, xs, [0, 1, 2, 0], [[1, 2], [0], [1], [2]], L, "argue", (RandomDebater(),),
                            seed=3)
    for _ep in range(20):
        obs, _ = env.reset()
        done, steps = False, 0
        while not done:
            k = int(obs[2 * F + 2 * D:].argmax())
            assert k == int(env.action_masks().size - env.action_masks().sum())
            a = int(np.flatnonzero(env.action_masks())[0])
            obs, r, done, _, info = env.step(a)
            steps += 1
        assert steps in (1, 2) and r in (-1.0, 0.0, 1.0)
        # the reward is the judge outcome on the revealed set for the learner's decision
        m = np.tile(env._revealed, (2, 1))
        s = j.score(np.tile(env._state, (2, 1)), m, np.array([env._own, env._other]))
        assert r == np.sign(s[0] - s[1])
    solo = DebateTrainingEnv(j, xs, [0, 1, 2, 0], [[1, 2], [0], [1], [2]], L, "isolated", seed=0)
    solo.reset()
    assert sum(1 for _ in iter(lambda: solo.step(int(np.flatnonzero(solo.action_masks())[0]))[2], True)) == L - 1
    with pytest.raises(InvalidInstanceError, match="opponents"):
        DebateTrainingEnv(j, xs, [0, 1, 2, 0], [[1], [0], [1], [2]], L, "argue", ())
    with pytest.raises(InvalidInstanceError, match="wrong"):
        DebateTrainingEnv(j, xs, [0, 1, 2, 0], [[0], [0], [1], [2]], L, "isolated")
