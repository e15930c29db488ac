"""Fuzz suite: every public entry point rejects bad values with a typed error that names the argument.

Each :class:`Entry` is one public callable with a valid call and, per argument, the kinds of bad value
(:data:`mechsim.testing.fuzz.KINDS`) it must reject.  For each (entry, argument) hypothesis draws bounded
examples of those kinds (the ``ci`` profile keeps it deterministic); every drawn bad call must raise a
:class:`~mechsim.errors.MechsimError` subclass whose message names the argument.  New public entry points
join a table in ``tests/fuzz/``.
"""

from __future__ import annotations

import pytest
from fuzz.tables import ENTRIES  # noqa: I001 - tests/ is on sys.path (rootdir conftest)
from hypothesis import given, settings
from hypothesis import strategies as st

from mechsim.testing.fuzz import assert_rejects, bad_values

CASES = [(entry, arg) for entry in ENTRIES for arg in entry.kinds]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_valid_call_works(entry):
    """The baseline call of every entry succeeds, so that each failure below is caused by one bad value."""
    entry.call(**entry.valid())


@pytest.mark.parametrize("entry, argument", CASES, ids=[f"{e.name}:{a}" for e, a in CASES])
def test_bad_value_is_rejected_by_name(entry, argument):
    # One @given function per case, not @given under parametrize: hypothesis's pytest plugin wraps the settings
    # of a parametrized test once per case, and over ~1400 cases that chain overflows the recursion limit as soon
    # as one failure makes hypothesis read the settings' database.
    @settings(max_examples=12, deadline=None, database=None)
    @given(data=st.data())
    def check(data):
        valid = entry.valid()
        kind = data.draw(st.sampled_from(entry.kinds[argument]), label="kind")
        value = valid[argument]
        size = getattr(value, "size", None) or (len(value) if isinstance(value, (list, tuple)) else 1)
        index = data.draw(st.integers(0, max(size - 1, 0)), label="index")
        variants = bad_values(valid[argument], kind, index)
        assert variants, f"{entry.name}: kind {kind!r} does not apply to {argument!r}"
        bad = data.draw(st.sampled_from(variants), label="value")
        assert_rejects(entry.call, {**valid, argument: bad}, argument, names=entry.names.get(argument, ()))

    check()
