"""PrefLib ordinal files (.soc, .soi, .toc, .toi) through preflibtools: reading, completion rules, round trips."""

import numpy as np
import pytest

from mechsim.committees.preflib import FORMATS, PreflibProfile, read_preflib, write_preflib
from mechsim.committees.rankings import merge_rankings, sample_rankings
from mechsim.errors import InvalidInstanceError

pytest.importorskip("preflibtools")


def preflib_text(data_type: str, names, lines, title="test election") -> str:
    """A file as PrefLib publishes them (the 2022 header; multiplicity: order, alternatives from 1)."""
    n_voters = sum(int(line.split(":")[0]) for line in lines)
    header = [f"# FILE NAME: test.{data_type}", f"# TITLE: {title}", "# DESCRIPTION: written by a test",
              f"# DATA TYPE: {data_type}", "# MODIFICATION TYPE: synthetic", "# RELATES TO: ", "# RELATED FILES: ",
              "# PUBLICATION DATE: 2024-01-01", "# MODIFICATION DATE: 2024-01-01",
              f"# NUMBER ALTERNATIVES: {len(names)}", f"# NUMBER VOTERS: {n_voters}",
              f"# NUMBER UNIQUE ORDERS: {len(lines)}",
              *[f"# ALTERNATIVE NAME {i + 1}: {name}" for i, name in enumerate(names)]]
    return "\n".join([*header, *lines, ""])


SAMPLES = {
    "soc": ["3: 1,2,3,4", "2: 4,3,2,1", "1: 2,1,4,3"],
    "soi": ["2: 3,1", "1: 4,3,2,1", "1: 2"],
    "toc": ["2: 1,{2,3},4", "1: {4,3,2,1}", "3: 2,1,3,4"],
    "toi": ["2: {3,1}", "1: 4,3,2,1", "1: 2,{4,1}"],
}
NAMES = ["Ada", "Brook", "Cyd", "Dee"]


def write_sample(tmp_path, data_type):
    path = tmp_path / f"election.{data_type}"
    path.write_text(preflib_text(data_type, NAMES, SAMPLES[data_type]))
    return path


def multiset(orders, weights):
    return sorted(zip(orders, weights.tolist()))


def test_round_trip_keeps_profile_and_weights(tmp_path):
    r = sample_rankings("urn", 30, 6, seed=2, alpha=0.4)
    path = write_preflib(tmp_path / "election", r, names=list("abcdef"), title="urn test")
    assert path.suffix == ".soc"
    back = read_preflib(path)
    assert back.names == list("abcdef") and back.data_type == "soc" and back.title == "urn test"
    a_rows, a_w = merge_rankings(r)
    b_rows, b_w = merge_rankings(back.rankings, back.weights)
    assert np.array_equal(a_rows, b_rows) and np.array_equal(a_w, b_w)


@pytest.mark.parametrize("data_type", list(FORMATS))
def test_every_format_reads_and_round_trips_exactly(tmp_path, data_type):
    path = write_sample(tmp_path, data_type)
    prof = read_preflib(path, incomplete="bottom", ties="index")
    assert prof.data_type == data_type and prof.names == NAMES and prof.title == "test election"
    assert prof.n_voters == sum(int(line.split(":")[0]) for line in SAMPLES[data_type])
    strict, complete = FORMATS[data_type]
    assert prof.tied.any() != strict and prof.completed.any() != complete
    # every completed row is a permutation that keeps the order's classes in sequence
    for order, row in zip(prof.orders, prof.rankings):
        flat = [c for cls in order for c in sorted(cls)]
        assert row[: len(flat)].tolist() == flat and sorted(row.tolist()) == [0, 1, 2, 3]
    for target in ("toi", data_type):       # the same format, and the most general one
        out = write_preflib(tmp_path / f"copy-{target}.{target}", prof)
        again = read_preflib(out, incomplete="bottom", ties="index")
        assert multiset(again.orders, again.weights) == multiset(prof.orders, prof.weights)
        assert again.names == NAMES and again.title == prof.title and again.data_type == target
        assert again.completed.sum() == prof.completed.sum() and again.tied.sum() == prof.tied.sum()


def test_completion_rules_are_the_documented_ones(tmp_path):
    prof = read_preflib(write_sample(tmp_path, "soi"), incomplete="bottom")
    rows = {tuple(r): w for r, w in zip(prof.rankings.tolist(), prof.weights)}
    # "2: 3,1" -> items 2, 0, then the unranked 1, 3 in index order; "1: 2" -> 1, then 0, 2, 3
    assert rows == {(2, 0, 1, 3): 2.0, (3, 2, 1, 0): 1.0, (1, 0, 2, 3): 1.0}
    prof = read_preflib(write_sample(tmp_path, "toc"), ties="index")
    # "{2,3}" -> items 1, 2 in index order; "{4,3,2,1}" -> 0, 1, 2, 3 (rows stay one per order of the file)
    assert prof.rankings.tolist() == [[0, 1, 2, 3], [0, 1, 2, 3], [1, 0, 2, 3]]
    assert prof.weights.tolist() == [2.0, 1.0, 3.0]
    assert prof.orders[0] == ((0,), (1, 2), (3,)) and prof.tied.tolist() == [True, True, False]


@pytest.mark.parametrize("data_type", ["soi", "toc", "toi"])
def test_completion_is_refused_unless_asked_for(tmp_path, data_type):
    path = write_sample(tmp_path, data_type)
    strict, complete = FORMATS[data_type]
    if not complete:
        with pytest.raises(InvalidInstanceError, match="incomplete='bottom'"):
            read_preflib(path, ties="index")
    if not strict:
        with pytest.raises(InvalidInstanceError, match="ties='index'") as err:
            read_preflib(path, incomplete="bottom")
        assert err.value.argument == "ties"


def test_orders_must_fit_the_declared_format(tmp_path):
    path = tmp_path / "liar.soc"
    path.write_text(preflib_text("soc", NAMES, ["1: 1,{2,3},4"]))
    with pytest.raises(InvalidInstanceError, match="declares the 'soc' format, but its orders need 'toc'"):
        read_preflib(path, ties="index")
    path = tmp_path / "bad.soc"
    path.write_text(preflib_text("soc", NAMES, ["1: 1,2,3,7"]))
    with pytest.raises(InvalidInstanceError, match=r"path: bad.soc: expected items in 0..3.*alternatives are 1..4"):
        read_preflib(path)
    path.write_text(preflib_text("soc", NAMES, ["1: 1,2,2,3"]))
    with pytest.raises(InvalidInstanceError, match="at most once per order"):
        read_preflib(path)
    path.write_text("# NUMBER ALTERNATIVES: 2\nnot an order\n")
    with pytest.raises(InvalidInstanceError, match="path: could not parse bad.soc"):
        read_preflib(path)
    prof = read_preflib(write_sample(tmp_path, "toc"), ties="index")
    for target in ("soc", "soi"):
        with pytest.raises(InvalidInstanceError, match=f"a .{target} file holds strict"):
            write_preflib(tmp_path / f"out.{target}", prof)
    prof = read_preflib(write_sample(tmp_path, "soi"), incomplete="bottom")
    with pytest.raises(InvalidInstanceError, match="a .toc file holds weak, complete orders"):
        write_preflib(tmp_path / "out.toc", prof)
    assert write_preflib(tmp_path / "no-extension", prof).suffix == ".soi"


def test_from_orders_builds_what_reading_would():
    prof = PreflibProfile.from_orders([[2, (0, 1)], [1, 0]], 3, weights=[2, 1], names=["a", "b", "c"])
    assert prof.data_type == "toi" and prof.rankings.tolist() == [[2, 0, 1], [1, 0, 2]]
    assert prof.tied.tolist() == [True, False] and prof.completed.tolist() == [False, True]
    assert prof.voters().tolist() == [[2, 0, 1], [2, 0, 1], [1, 0, 2]]
    with pytest.raises(InvalidInstanceError, match="ties='index'"):
        PreflibProfile.from_orders([[2, (0, 1)]], 3, ties="error")
    with pytest.raises(InvalidInstanceError, match="data_type: the orders need the 'toi' format"):
        PreflibProfile(prof.rankings, prof.weights, data_type="soc", orders=prof.orders)
    with pytest.raises(InvalidInstanceError, match="weights: expected integer multiplicities"):
        PreflibProfile(prof.rankings, [0.5, 1.0]).voters()


def test_preflib_errors(tmp_path):
    # .toc and .toi are read now (they used to be refused as "expected a .soc or .soi file")
    with pytest.raises(InvalidInstanceError, match=r"\.soc, \.soi, \.toc or \.toi"):
        read_preflib(tmp_path / "x.csv")
    with pytest.raises(InvalidInstanceError, match="existing file"):
        read_preflib(tmp_path / "missing.soc")
    with pytest.raises(InvalidInstanceError, match="integer multiplicities"):
        write_preflib(tmp_path / "w.soc", [[0, 1]], weights=[0.5])
    with pytest.raises(InvalidInstanceError, match="path: expected a file path"):
        read_preflib(None)
    with pytest.raises(InvalidInstanceError, match="names: expected 2 names"):
        write_preflib(tmp_path / "w.soc", [[0, 1]], names=["a"])
    with pytest.raises(InvalidInstanceError, match="title: expected one line"):
        write_preflib(tmp_path / "w.soc", [[0, 1]], title="two\nlines")
    with pytest.raises(InvalidInstanceError, match="path: could not write"):
        write_preflib(tmp_path / "no-such-dir" / "w.soc", [[0, 1]])
