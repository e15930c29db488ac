"""Tests of mechsim.regret: exponent fits, environments, regret curves and measurement over horizons."""

import math

import matplotlib.figure
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import mechsim.regret as R
from mechsim.errors import InvalidInstanceError
from mechsim.learners import Exp3, Hedge, hedge_regret_bound
from mechsim.regret import (
    AlternatingLosses,
    BernoulliLosses,
    GapBandit,
    fit_regret_exponent,
    measure_regret,
    plot_regret,
    reference_curves,
    run_learner,
)

# ------------------------------------------------------------------------------------------ exponent fit

@pytest.mark.parametrize("alpha", [0.5, 2 / 3, 0.3, 1.0])
def test_fit_recovers_exact_power_law(alpha):
    T = np.array([1e3, 3e3, 1e4, 3e4, 1e5])
    fit = fit_regret_exponent(T, 2.5 * T ** alpha)
    assert fit.slope == pytest.approx(alpha, abs=1e-12)
    assert fit.intercept == pytest.approx(math.log(2.5), abs=1e-9)
    assert fit.ci_high - fit.ci_low < 1e-9
    assert np.allclose(fit.predict(T), 2.5 * T ** alpha)


@pytest.mark.parametrize("alpha", [0.5, 2 / 3])
def test_fit_recovers_noisy_power_law_with_seeds(alpha):
    rng = np.random.default_rng(0)
    T = np.geomspace(1e3, 1e6, 7)
    regrets = 3.0 * T ** alpha * np.exp(rng.normal(0, 0.1, size=(5, T.size)))
    fit = fit_regret_exponent(T, regrets)
    assert fit.n_points == 35
    assert fit.contains(alpha)
    assert abs(fit.slope - alpha) < 0.03
    assert not fit.contains(alpha + 0.1) and not fit.contains(alpha - 0.1)


def test_fit_agrees_with_scipy_linregress():
    rng = np.random.default_rng(1)
    T = np.geomspace(100, 1e5, 6)
    regrets = T ** 0.55 * np.exp(rng.normal(0, 0.2, size=(3, T.size)))
    fit = fit_regret_exponent(T, regrets, confidence=0.9)
    ref = stats.linregress(np.log(np.tile(T, 3)), np.log(regrets.ravel()))
    assert fit.slope == pytest.approx(ref.slope, rel=1e-12)
    assert fit.intercept == pytest.approx(ref.intercept, rel=1e-12)
    assert fit.stderr == pytest.approx(ref.stderr, rel=1e-10)
    q = stats.t.ppf(0.95, 16)
    assert fit.ci_low == pytest.approx(ref.slope - q * ref.stderr, rel=1e-10)
    assert fit.confidence == 0.9


def test_fit_interval_has_nominal_coverage():
    rng = np.random.default_rng(2)
    T = np.geomspace(1e3, 1e5, 5)
    hits = 0
    n = 400
    for _ in range(n):
        r = 2.0 * T ** 0.5 * np.exp(rng.normal(0, 0.3, size=(2, T.size)))
        hits += fit_regret_exponent(T, r).contains(0.5)
    # 95% nominal; binomial sd ~ 1.1 %
    assert 0.91 <= hits / n <= 0.985


@settings(max_examples=30)
@given(st.floats(0.1, 1.5), st.floats(-3, 3), st.integers(3, 8))
def test_fit_is_exact_on_noise_free_curves(alpha, log_c, n):
    T = np.geomspace(10, 1e6, n)
    fit = fit_regret_exponent(T, np.exp(log_c) * T ** alpha)
    assert fit.slope == pytest.approx(alpha, abs=1e-9)
    assert fit.ci_low <= fit.slope <= fit.ci_high


@pytest.mark.parametrize("horizons, regrets, match", [
    ([10, 100, 1000], [1.0, 0.0, 3.0], r"regrets: expected positive values"),
    ([10, 100, 1000], [1.0, -2.0, 3.0], r"regrets: expected positive values"),
    ([10, 100, 1000], [1.0, 2.0], r"regrets: expected shape \(3,\)"),
    ([10, 10, 10], [1.0, 2.0, 3.0], r"horizons: expected at least two distinct"),
    ([0, 10, 100], [1.0, 2.0, 3.0], r"horizons: expected positive"),
    ([10, 100], [1.0, 2.0], r"three points"),
    ([10, 100, 1000], [1.0, np.nan, 3.0], r"regrets: expected finite"),
])
def test_fit_errors(horizons, regrets, match):
    with pytest.raises(InvalidInstanceError, match=match):
        fit_regret_exponent(horizons, regrets)


def test_fit_confidence_validation():
    with pytest.raises(InvalidInstanceError, match="confidence"):
        fit_regret_exponent([1, 2, 3], [1, 2, 3], confidence=1.5)


# ------------------------------------------------------------------------------------------ environments

def test_alternating_sequence_and_chunk_consistency():
    env = AlternatingLosses(3)
    full = env.sample(0, 10)
    assert full[:4, :2].tolist() == [[0.5, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]
    assert np.all(full[:, 2] == 1.0)
    assert np.array_equal(np.r_[env.sample(0, 3), env.sample(3, 7)], full)
    # follow-the-leader (a huge fixed rate) pays about T/2, Hedge stays within sqrt(T ln K / 2)
    T = 4000
    x = AlternatingLosses(2).sample(0, T)
    assert Hedge(2, learning_rate=50.0).run(x, sample_actions=False).regret()[-1] > 0.45 * T
    assert Hedge(2, horizon=T).run(x, sample_actions=False).regret()[-1] <= hedge_regret_bound(T, 2)


def test_bernoulli_and_gap_bandit():
    env = BernoulliLosses(np.array([0.2, 0.7]))
    x = env.sample(0, 20_000, np.random.default_rng(0))
    assert set(np.unique(x)) <= {0.0, 1.0}
    assert np.allclose(x.mean(axis=0), [0.2, 0.7], atol=0.02)
    bandit = GapBandit.make(4, gap=0.2, best_reward=0.6)
    assert np.allclose(bandit.mean_losses, [0.4, 0.6, 0.6, 0.6])
    assert bandit.gap == pytest.approx(0.2) and bandit.n_actions == 4 and bandit.stochastic
    with pytest.raises(InvalidInstanceError, match="mean_losses: expected values <= 1"):
        BernoulliLosses(np.array([0.2, 1.3]))
    with pytest.raises(InvalidInstanceError, match="gap"):
        GapBandit.make(3, gap=0.7, best_reward=0.5)
    with pytest.raises(InvalidInstanceError, match="n_arms"):
        GapBandit.make(1)


# ---------------------------------------------------------------------------------------- regret curves

def test_run_learner_matches_direct_computation():
    T = 5000
    env = AlternatingLosses(2)
    curve = run_learner("hedge", env, T, seed=3, checkpoints=[10, 100, T])
    direct = Hedge(2, horizon=T).run(env.sample(0, T), sample_actions=False).regret()
    assert np.allclose(curve.regret, direct[[9, 99, T - 1]], rtol=0, atol=1e-9)
    assert curve.rounds.tolist() == [10, 100, T]


def test_run_learner_chunking_does_not_change_results(monkeypatch):
    env = GapBandit.make(3, gap=0.2)
    a = run_learner("exp3", env, 3000, seed=5, checkpoints=[100, 1000, 3000])
    monkeypatch.setattr(R, "_CHUNK", 250)
    b = run_learner("exp3", env, 3000, seed=5, checkpoints=[100, 1000, 3000])
    c = run_learner("hedge", AlternatingLosses(), 3000, seed=0, checkpoints=[1, 999, 3000])
    monkeypatch.setattr(R, "_CHUNK", 1 << 16)
    d = run_learner("hedge", AlternatingLosses(), 3000, seed=0, checkpoints=[1, 999, 3000])
    # same random stream in both cases only if the environment draws chunk by chunk identically; the
    # Bernoulli environment draws (count, K) uniforms per chunk, which concatenate to the same stream
    assert np.allclose(a.regret, b.regret, atol=1e-9)
    assert np.allclose(c.regret, d.regret, atol=1e-9)


def test_pseudo_regret_in_stochastic_environment():
    mu = np.array([0.3, 0.6])
    env = BernoulliLosses(mu)
    T = 2000
    curve = run_learner("exp3", env, T, seed=1, checkpoints=[T])
    # recompute: the learner's mean-expected loss minus T * min(mu), with the same streams
    env_seq, learner_seq = np.random.SeedSequence(1).spawn(2)
    x = env.sample(0, T, np.random.default_rng(env_seq))
    trace = Exp3(2, horizon=T, seed=np.random.default_rng(learner_seq)).run(x, mean_losses=mu)
    assert curve.regret[0] == pytest.approx(trace.mean_expected.sum() - T * 0.3, abs=1e-9)


def test_measure_regret_exponents_and_bounds():
    horizons = [1000, 4000, 16000]
    m = measure_regret("hedge", AlternatingLosses(), horizons, seeds=[0])
    fit = m.fit()
    assert abs(fit.slope - 0.5) < 0.02
    assert np.all(m.regrets <= m.bounds)
    m2 = measure_regret("regret-matching", AlternatingLosses(), horizons, seeds=[0, 1])
    assert m2.regrets.shape == (2, 3) and abs(m2.fit().slope - 0.5) < 0.03
    assert np.all(m2.regrets <= m2.bounds)
    m3 = measure_regret("explore-then-commit", GapBandit.make(3, 0.2), [2000, 8000, 32000], seeds=[0, 1])
    assert np.all(m3.regrets <= m3.bounds)
    assert 0.55 < m3.fit().slope < 0.85


def test_measure_regret_is_deterministic():
    env = GapBandit.make(3, 0.1)
    a = measure_regret("exp3", env, [500, 1000], seeds=[4, 5])
    b = measure_regret("exp3", env, [500, 1000], seeds=[4, 5])
    assert np.array_equal(a.regrets, b.regrets)
    c = measure_regret("exp3", env, [500, 1000], seeds=[6, 7])
    assert not np.array_equal(a.regrets, c.regrets)


def test_run_learner_errors():
    with pytest.raises(InvalidInstanceError, match="learner: expected one of"):
        run_learner("follow-the-leader", AlternatingLosses(), 10)
    with pytest.raises(InvalidInstanceError, match="checkpoints: expected rounds in"):
        run_learner("hedge", AlternatingLosses(), 10, checkpoints=[0, 5])
    with pytest.raises(InvalidInstanceError, match="horizon"):
        run_learner("hedge", AlternatingLosses(), 0)
    with pytest.raises(InvalidInstanceError, match="seeds"):
        measure_regret("hedge", AlternatingLosses(), [10, 20], seeds=[-1])


def test_reference_curves_and_plot():
    T = np.array([100, 1000, 10000])
    ref = reference_curves(T, 4)
    assert np.allclose(ref["sqrt(T log K)"], np.sqrt(T * np.log(4)))
    assert np.allclose(ref["T^(2/3)"], T ** (2 / 3))
    m = measure_regret("hedge", AlternatingLosses(), [100, 400, 1600], seeds=[0])
    fig = plot_regret([m], title="t")
    assert isinstance(fig, matplotlib.figure.Figure)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert any("slope" in t.get_text() for t in ax.get_legend().get_texts())
