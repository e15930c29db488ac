"""The per-state minimax value tables and the exact minimax pool debater, against the independent solvers."""

import numpy as np
import pytest

from mechsim.debate.judges import LinearJudge
from mechsim.errors import InvalidInstanceError
from mechsim.learners.debaters import RandomDebater
from mechsim.learners.exact_debaters import MinimaxPoolDebater
from mechsim.solvers.debate import (
    best_response,
    brute_force_debate_value,
    policy_value,
    solve_debate,
    state_debate_values,
    subgame_values,
)

F, D, L = 6, 4, 3


def _game(seed=0, n=5):
    rng = np.random.default_rng(seed)
    return LinearJudge(rng.normal(size=(D, F))), rng.normal(size=(n, F)), rng.integers(0, D, n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_state_tables_equal_subgame_values_at_every_position(seed):
    judge, xs, base = _game(seed)
    table = state_debate_values(judge, xs[0], int(base[0]), L, n_decisions=D)
    for a in range(D):
        for fm in (0, 1):
            if a == base[0]:
                assert all(np.all(v[a] == 0) for v in table.values[fm])
                continue
            ref = subgame_values(judge, xs[0], (a, int(base[0])), L, fm)
            for k in range(L + 1):
                assert np.array_equal(ref.values[k], table.values[fm][k][a].astype(float)), (a, fm, k)
            assert table.value[a, fm] == brute_force_debate_value(judge, xs[0], (a, int(base[0])), L, fm)
    revealed = np.zeros((2, F), dtype=bool)
    revealed[0, [1, 4]] = revealed[1, [0, 2]] = True
    a = (int(base[0]) + 1) % D
    ref = subgame_values(judge, xs[0], (a, int(base[0])), L, 1)
    np.testing.assert_array_equal(table.child_values([a, a], [1, 1], revealed), ref.child_values(revealed))


@pytest.mark.parametrize("seed", [0, 3])
def test_pool_debater_plays_minimax_on_either_side(seed):
    judge, xs, base = _game(seed)
    mm = MinimaxPoolDebater(judge, xs, base, L, max_cached=2)
    for s in range(xs.shape[0]):
        b = int(base[s])
        for a in range(D):
            if a == b:
                continue
            exact = solve_debate(judge, xs[s], (a, b), L).value
            # both sides minimax: the game's value; a best response cannot beat minimax play on either side
            assert policy_value(judge, xs[s], (a, b), L, (mm, mm)) == pytest.approx(exact)
            assert best_response(judge, xs[s], (a, b), L, mm, responder=0).value == pytest.approx(exact)
            assert best_response(judge, xs[s], (b, a), L, mm, responder=0).value == pytest.approx(-exact)
            # and it does at least as well as minimax against anyone, e.g. a random debater
            assert policy_value(judge, xs[s], (b, a), L, (mm, RandomDebater())) >= -exact - 1e-12
    assert len(mm._tables) <= 2 and mm.tables_computed >= xs.shape[0]


def test_pool_debater_refuses_states_and_pairs_it_does_not_know():
    judge, xs, base = _game(0)
    mm = MinimaxPoolDebater(judge, xs, base, L)
    revealed = np.zeros((1, F), dtype=bool)
    with pytest.raises(InvalidInstanceError, match="features"):
        mm.batch_probabilities(xs[:1] + 1.0, revealed, [base[0]], [(base[0] + 1) % D])
    other = [d for d in range(D) if d != base[0]][:2]
    with pytest.raises(InvalidInstanceError, match="own"):
        mm.batch_probabilities(xs[:1], revealed, [other[0]], [other[1]])


@pytest.mark.parametrize("change, argument", [
    ({"minimax": None}, "minimax"), ({"wrong": None}, "wrong"), ({"wrong": [[0]] * 2}, "wrong"),
    ({"wrong": "baseline"}, "wrong"),
    ({"n_rollouts": 0}, "n_rollouts"), ({"explore": 1.5}, "explore"), ({"explore": float("nan")}, "explore"),
    ({"epochs": 2.5}, "epochs"), ({"net_arch": ()}, "net_arch"), ({"judge_inputs": "yes"}, "judge_inputs"),
    ({"learning_rate": -1.0}, "learning_rate"), ({"batch_size": None}, "batch_size"),
])
def test_distillation_rejects_bad_arguments_by_name_before_training(change, argument):
    """Checked before torch is imported, so the core install gets the same typed errors."""
    from mechsim.learners.distilled_debaters import distill_minimax_debater

    judge, xs, base = _game(0)
    mm = MinimaxPoolDebater(judge, xs, base, L)
    wrong = [np.setdiff1d(np.arange(D), [b]) for b in base]
    if change.get("wrong") == "baseline":
        change = {"wrong": [[int(b)] for b in base]}  # the baseline itself is not a wrong decision
    kwargs = {"minimax": mm, "wrong": wrong, **change}
    with pytest.raises(InvalidInstanceError, match=argument):
        distill_minimax_debater(**kwargs)
