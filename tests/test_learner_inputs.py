"""Bad inputs the learners used to accept silently (the fuzz suite covers the general kinds)."""

import numpy as np
import pytest

from mechsim.errors import InvalidInstanceError
from mechsim.learners import Exp3, Hedge, RegretMatching, hedge_regret_bound
from mechsim.validation import memory_limit, set_memory_limit


def test_regret_matching_refuses_updates_that_would_overflow_to_nan():
    rm = RegretMatching(3, seed=0)
    with pytest.raises(InvalidInstanceError, match="utilities: .*stay finite"):
        rm.update([0.1, 1e308, -1e308])
    assert rm.t == 0 and np.all(np.isfinite(rm.probabilities))       # state untouched
    with pytest.raises(InvalidInstanceError, match="utilities"):
        RegretMatching(2, seed=0).run(np.full((3, 2), 1e308))
    rm.update([0.1, 1e300, -1e300])                                     # large but safe
    assert np.all(np.isfinite(rm.probabilities))


def test_bounds_refuse_negative_or_nan_horizons_instead_of_returning_nan():
    with pytest.raises(InvalidInstanceError, match="horizon"):
        hedge_regret_bound(-1, 3)
    with pytest.raises(InvalidInstanceError, match="horizon"):
        hedge_regret_bound(float("nan"), 3)
    with pytest.raises(InvalidInstanceError, match="n_actions"):
        hedge_regret_bound(10, 0)
    assert np.isfinite(hedge_regret_bound(np.array([1, 10, 100]), 3)).all()


@pytest.mark.parametrize("make", [lambda k: Hedge(k), lambda k: Exp3(k), lambda k: RegretMatching(k)])
def test_sizes_too_large_to_allocate_are_refused_before_allocating(make):
    with pytest.raises(InvalidInstanceError, match=r"n_actions: .*needing an estimated .*TiB"):
        make(10**12)


def test_memory_limit_is_configurable(monkeypatch):
    monkeypatch.setenv("MECHSIM_MEMORY_LIMIT", "1KiB")
    assert memory_limit() == 1024
    with pytest.raises(InvalidInstanceError, match="limit of 1 KiB"):
        Hedge(1000)
    set_memory_limit("1GB")
    try:
        assert memory_limit() == 10**9
        Hedge(1000)
    finally:
        set_memory_limit(None)
    monkeypatch.setenv("MECHSIM_MEMORY_LIMIT", "lots")
    with pytest.raises(InvalidInstanceError, match="MECHSIM_MEMORY_LIMIT"):
        memory_limit()
