"""Independent EXP3 learners as agents of the Hiring-v0 environment (mechsim.learners.hiring_agents)."""

import numpy as np
import pytest

from mechsim.envs.hiring import parallel_env
from mechsim.hiring import HiringInstance, audit_incentives
from mechsim.learners.hiring_agents import independent_exp3_agents, reporting_plans
from mechsim.solvers.hiring_lp import optimal_mechanism


@pytest.fixture(scope="module")
def setting():
    inst = HiringInstance.noisy_bits(2, accuracy=(0.52, 0.95), costs=(0.0, 0.08))
    good = optimal_mechanism(inst, margin=0.1)
    return inst, good, good.with_flat_fee(inst, 1)


def _play(inst, mech, rounds, seed, **kw):
    return independent_exp3_agents(parallel_env(instance=inst, mechanism=mech, max_cycles=2 * rounds), inst,
                                   rounds, seed, **kw)


def test_plans_and_counts(setting):
    inst, good, _ = setting
    plans = reporting_plans(inst, 0)
    assert len(plans) == 2 * 2 ** 2 and plans[0][0] == 0 and np.array_equal(plans[5][1], [0, 1])
    res = _play(inst, good, 500, 3)
    assert res.rounds == 500 and res.tail_rounds == 100
    for i in range(2):
        assert res.tail_counts[i].shape == (2, 8) and res.tail_counts[i].sum() == 100
        assert all(np.isclose(p.sum(), 1.0) for p in res.final_probabilities[i])
    assert np.all((0 <= res.obedient_truthful_share()) & (res.obedient_truthful_share() <= 1))
    assert _play(inst, good, 200, 0, tail=200).tail_counts[0].sum() == 200


def test_same_seed_same_play(setting):
    inst, good, _ = setting
    a, b, c = _play(inst, good, 300, 7), _play(inst, good, 300, 7), _play(inst, good, 300, 8)
    assert all(np.array_equal(x, y) for x, y in zip(a.tail_counts, b.tail_counts))
    assert not all(np.array_equal(x, y) for x, y in zip(a.tail_counts, c.tail_counts))
    assert np.array_equal(_play(inst, good, 300, np.random.SeedSequence(7)).tail_counts[1], a.tail_counts[1])


def test_learners_obey_an_ic_mechanism_and_find_the_deviation_of_a_non_ic_one(setting):
    inst, good, bad = setting
    assert audit_incentives(inst, good).is_ic
    obedient = _play(inst, good, 4000, 0).obedient_truthful_share()
    assert obedient.mean() > 0.5
    audit = audit_incentives(inst, bad)
    assert not audit.is_ic and audit.agent == 1
    res = _play(inst, bad, 4000, 0)
    assert res.deviation_share(audit.agent, audit.recommended_effort, audit.deviation_effort) > 0.5
