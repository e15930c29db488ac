"""PrefLib .soc/.soi round trip (through preflibtools)."""

import numpy as np
import pytest

from mechsim.committees.preflib import read_preflib, write_preflib
from mechsim.committees.rankings import merge_rankings, sample_rankings
from mechsim.errors import InvalidInstanceError

pytest.importorskip("preflibtools")


def test_round_trip_keeps_profile_and_weights(tmp_path):
    r = sample_rankings("urn", 30, 6, seed=2, alpha=0.4)
    path = write_preflib(tmp_path / "election", r, names=list("abcdef"), title="urn test")
    assert path.suffix == ".soc"
    back = read_preflib(path)
    assert back.names == list("abcdef") and back.data_type == "soc"
    a_rows, a_w = merge_rankings(r)
    b_rows, b_w = merge_rankings(back.rankings, back.weights)
    assert np.array_equal(a_rows, b_rows) and np.array_equal(a_w, b_w)


def test_soi_completion(tmp_path):
    text = "\n".join([
        "# FILE NAME: t.soi", "# TITLE: t", "# DATA TYPE: soi", "# NUMBER ALTERNATIVES: 4",
        "# NUMBER VOTERS: 3", "# NUMBER UNIQUE ORDERS: 2",
        "# ALTERNATIVE NAME 1: a", "# ALTERNATIVE NAME 2: b", "# ALTERNATIVE NAME 3: c", "# ALTERNATIVE NAME 4: d",
        "2: 3,1", "1: 4,3,2,1", ""])
    path = tmp_path / "t.soi"
    path.write_text(text)
    with pytest.raises(InvalidInstanceError, match="incomplete='bottom'"):
        read_preflib(path)
    prof = read_preflib(path, incomplete="bottom")
    rows = {tuple(r): w for r, w in zip(prof.rankings.tolist(), prof.weights)}
    assert rows == {(2, 0, 1, 3): 2.0, (3, 2, 1, 0): 1.0}
    assert prof.completed.tolist().count(True) == 1


def test_preflib_errors(tmp_path):
    with pytest.raises(InvalidInstanceError, match=".soc or .soi"):
        read_preflib(tmp_path / "x.toc")
    with pytest.raises(InvalidInstanceError, match="existing file"):
        read_preflib(tmp_path / "missing.soc")
    with pytest.raises(InvalidInstanceError, match="integer multiplicities"):
        write_preflib(tmp_path / "w.soc", [[0, 1]], weights=[0.5])
