"""Neural debaters trained by sb3-contrib MaskablePPO (the ``rl`` extra): numpy inference equals torch, and
max-min training beats isolated training against the exact confuser on held-out sepsis states."""

import numpy as np
import pytest

from mechsim.debate.judges import LinearJudge
from mechsim.envs.debate_training import DebateTrainingEnv
from mechsim.learners.debaters import RandomDebater
from mechsim.learners.neural_debaters import MLPDebater, debate_observation, train_neural_debaters

pytestmark = pytest.mark.rl


@pytest.fixture(autouse=True)
def _one_thread():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)


F, D, L = 6, 3, 3


def _small_game(judge_inputs):
    rng = np.random.default_rng(0)
    judge = LinearJudge(rng.normal(size=(D, F)))
    xs = rng.normal(size=(30, F))
    correct = rng.integers(0, D, 30)
    wrong = [np.setdiff1d(np.arange(D), [c]) for c in correct]

    def make_env(role, opponents, seed):
        return DebateTrainingEnv(judge, xs, correct, wrong, L, role, opponents or (RandomDebater(),),
                                 judge_inputs=judge_inputs, seed=seed)

    return judge, make_env


@pytest.mark.parametrize("judge_inputs", [False, True])
def test_numpy_inference_equals_the_torch_policy(judge_inputs):
    import torch
    from sb3_contrib import MaskablePPO

    judge, make_env = _small_game(judge_inputs)
    env = make_env("argue", (), 0)
    model = MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=2, seed=0, verbose=0, device="cpu",
                        policy_kwargs={"net_arch": {"pi": [16, 8], "vf": [8]}})
    model.learn(256)  # move the weights off their initialisation
    deb = MLPDebater.from_sb3(model, F, D, L, judge=judge if judge_inputs else None)
    rng = np.random.default_rng(1)
    n = 200
    x = rng.normal(size=(n, F)) * 2
    revealed = np.zeros((n, F), dtype=bool)
    for i in range(n):
        revealed[i, rng.choice(F, size=i % L, replace=False)] = True
    own = rng.integers(0, D, n)
    other = (own + rng.integers(1, D, n)) % D
    obs = debate_observation(x, revealed, own, other, D, L, judge if judge_inputs else None)
    with torch.no_grad():
        dist = model.policy.get_distribution(torch.as_tensor(obs), action_masks=~revealed)
        want = dist.distribution.probs.numpy().astype(float)
    got = deb.batch_probabilities(x, revealed, own, other)
    assert np.max(np.abs(got - want)) < 1e-6
    assert np.all(got[revealed] == 0)
    # deterministic inference is sb3's predict(deterministic=True)
    det = deb.with_deterministic().batch_probabilities(x, revealed, own, other).argmax(axis=1)
    for i in range(0, n, 20):
        action, _ = model.predict(obs[i], action_masks=~revealed[i], deterministic=True)
        assert int(action) == det[i]


def test_regimes_return_debaters_of_the_game():
    judge, make_env = _small_game(False)
    for regime in ("isolated", "self_play", "maxmin"):
        res = train_neural_debaters(make_env, regime, n_features=F, n_decisions=D, n_evidence=L, total_steps=512,
                                    n_envs=2, n_steps=64, batch_size=64, n_epochs=1, phase_steps=256,
                                    refresh_steps=256, net_arch=(8,), seed=1)
        assert isinstance(res.debater, MLPDebater) and res.debater.n_evidence == L
        assert (res.confuser is not None) == (regime == "maxmin")
        assert res.steps == 512 and res.seconds > 0


@pytest.mark.slow
def test_maxmin_beats_isolated_against_the_exact_confuser_on_held_out_states(tmp_path):
    """Short fixed-seed runs (about 2 minutes): the max-min debater's evidence survives the exact best-response
    confuser on held-out patient states more often than the isolated debater's, by a paired margin."""
    from mechsim.debate.icu_sepsis import baseline_actions, load_icu_sepsis
    from mechsim.learners.neural_debaters import evaluate_held_out, load_debater_bundle
    from mechsim.scenarios import sepsis_debaters as sd

    plan = sd.TRAINING["default"][4]
    small = {"isolated": {**plan["isolated"], "total_steps": 16_000},
             "maxmin": {**plan["maxmin"], "total_steps": 48_000, "phase_steps": 8_000}}
    old = dict(plan)
    plan.update(small)
    try:
        path, _ = sd.train_bundle(4, regimes=("isolated", "maxmin"), out_dir=tmp_path, seed=3)
    finally:
        plan.clear()
        plan.update(old)
    mdp = load_icu_sepsis()
    base = baseline_actions(mdp)
    judge = sd.debate_judge(mdp, 4)
    bundle = load_debater_bundle(path, deterministic=True, judge=judge)
    contested = sd.contested_alternatives(judge, mdp, base)
    train, held = sd.patient_split()
    held = held[contested[held].any(axis=1)][:30]
    assert np.intersect1d(held, train).size == 0
    rng = np.random.default_rng(0)
    wrong = np.array([rng.choice(np.flatnonzero(contested[s])) for s in held])
    ev = evaluate_held_out(judge, mdp.features[held], base[held], wrong,
                           {k: bundle.debaters[k] for k in ("isolated", "maxmin")}, 4)
    diff = ev.vs_exact["maxmin"] - ev.vs_exact["isolated"]
    assert diff.mean() > 0.1, (ev.vs_exact["maxmin"].mean(), ev.vs_exact["isolated"].mean())
    assert np.all(ev.vs_exact["maxmin"] <= ev.minimax + 1e-9)


def test_distilled_debater_plays_minimax_on_its_training_states():
    """Distilling the exact minimax reveals of a small game: against the exact best-response confuser the
    distilled argumentator (argmax play) keeps most of the minimax value on the pool, far above a random one."""
    from mechsim.learners.distilled_debaters import distill_minimax_debater
    from mechsim.learners.exact_debaters import MinimaxPoolDebater
    from mechsim.solvers.debate import best_response, solve_debate

    rng = np.random.default_rng(4)
    judge = LinearJudge(rng.normal(size=(D, F)))
    xs = rng.normal(size=(25, F))
    base = rng.integers(0, D, 25)
    wrong = [np.setdiff1d(np.arange(D), [b]) for b in base]
    mm = MinimaxPoolDebater(judge, xs, base, L)
    res = distill_minimax_debater(mm, wrong, n_rollouts=8, explore=0.3, epochs=60, net_arch=(64, 64),
                                  judge_inputs=True, seed=0)
    assert res.positions > 0 and res.losses[-1] < res.losses[0]
    deb = res.debater.with_deterministic()
    got, ceiling, rand = [], [], []
    for i in range(25):
        for w in wrong[i]:
            pair = (int(base[i]), int(w))
            ceiling.append(solve_debate(judge, xs[i], pair, L).value)
            got.append(best_response(judge, xs[i], pair, L, deb, responder=1).value)
            rand.append(best_response(judge, xs[i], pair, L, RandomDebater(), responder=1).value)
    got, ceiling, rand = map(np.array, (got, ceiling, rand))
    assert np.all(got <= ceiling + 1e-9)  # nobody beats minimax against the exact confuser
    assert np.mean(got == ceiling) >= 0.8, np.mean(got == ceiling)
    assert got.mean() > rand.mean() + 0.2
