"""Runs survive damage and write what people can read (damaged cells, locks, modes, strict JSON, tidy CSV)."""

import csv
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mechsim.runner import run as runmod
from mechsim.runner.cli import cli
from mechsim.runner.executors import LocalExecutor, SerialExecutor
from mechsim.runner.run import (
    OutputFolderError,
    RunInProgressError,
    UnknownScenarioError,
    load_results,
    report_scenario,
    run_scenario,
)
from mechsim.runner.scenario import atomic_write_text

sys.path.insert(0, str(Path(__file__).parent))
import runner_fixtures  # noqa: E402

HERE = Path(__file__).parent


def _cell_files(folder: Path) -> list[Path]:
    return sorted((folder / "cells").glob("*.json"))


@pytest.mark.parametrize("damage", [
    b"\xff\xfe not utf-8 \x00",                      # undecodable bytes
    b"[1, 2, 3]",                                    # valid JSON that is not an object
    b'{"key": "wrong"}',                             # an object of the wrong cell
    None,                                            # a damaged result (filled in below)
])
def test_damaged_cell_is_moved_aside_and_recomputed(tmp_path, capfd, damage):
    clean = run_scenario(runner_fixtures.DEMO, tmp_path / "clean", seed=3, workers=1).records
    run_scenario(runner_fixtures.DEMO, tmp_path / "run", seed=3, workers=1)
    victim = _cell_files(tmp_path / "run")[2]
    if damage is None:
        cell = json.loads(victim.read_text())
        cell["result"] = "garbled"
        damage = json.dumps(cell).encode()
    victim.write_bytes(damage)
    capfd.readouterr()
    again = run_scenario(runner_fixtures.DEMO, tmp_path / "run", seed=3, workers=1)
    err = [line for line in capfd.readouterr().err.splitlines() if "damaged" in line]
    assert len(err) == 1 and victim.name in err[0] and "recomputed" in err[0]
    assert (again.computed, again.reused) == (1, 5)
    assert again.records == clean
    assert len(list((tmp_path / "run" / "cells").glob(f"{victim.name}.damaged-*"))) == 1
    assert json.loads(victim.read_text())["key"] == victim.stem          # rewritten whole


def test_report_leaves_a_damaged_cell_out_and_says_so(tmp_path, capfd):
    run_scenario(runner_fixtures.DEMO, tmp_path, seed=3, workers=1)
    _cell_files(tmp_path)[0].write_text("{not json")
    res = report_scenario(runner_fixtures.DEMO, tmp_path, seed=3)
    assert len(res.records) == 5
    assert "left out of this report" in capfd.readouterr().err
    assert "Partial report" in (tmp_path / "summary.md").read_text()


def test_unwritable_out_is_one_line_naming_the_path(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputFolderError, match="a-file"):
        run_scenario(runner_fixtures.DEMO, blocker / "sub", workers=1)
    res = CliRunner().invoke(cli, ["run", "no-regret", "--quick", "--out", str(blocker / "sub"), "--no-progress"])
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert res.exit_code == 1 and len(lines) == 1
    assert str(blocker / "sub") in lines[0] and "Not a directory" in lines[0]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_output_files_honour_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "f.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == mode


def test_run_outputs_have_ordinary_modes(tmp_path):
    old = os.umask(0o022)
    try:
        run_scenario(runner_fixtures.DEMO, tmp_path, seed=1, workers=1)
    finally:
        os.umask(old)
    for path in [tmp_path / "results.json", tmp_path / "summary.md", *_cell_files(tmp_path)]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def _strict(text):
    def refuse(token):
        raise AssertionError(f"non-JSON token {token}")
    return json.loads(text, parse_constant=refuse)


def test_results_json_is_strict_json_with_null_and_cells_keep_nan(tmp_path):
    run_scenario(runner_fixtures.PARTS, tmp_path, seed=0, workers=1)
    payload = _strict((tmp_path / "results.json").read_text())
    assert "null" in payload["format"]["non_finite"]
    a1 = next(r for r in payload["records"] if r["params"] == {"part": "a", "x": 1})
    assert a1["result"]["value"] is None
    for cell in _cell_files(tmp_path):
        _strict(cell.read_text())
    # A resumed run hands the report the same NaN and -inf it computed (cells round-trip losslessly).
    again = run_scenario(runner_fixtures.PARTS, tmp_path, seed=0, workers=1)
    assert again.reused == 5
    values = [r["result"].get("value") for r in again.records[:2]]
    assert values[0] == 1.0 and values[1] != values[1]
    assert again.records[2]["result"]["worst"] == float("-inf")
    assert _strict((tmp_path / "results.json").read_text())["tables"]["summary"][0]["nan_cells"] == 1


def test_one_tidy_csv_per_table_numbers_as_numbers(tmp_path):
    run_scenario(runner_fixtures.PARTS, tmp_path, seed=0, workers=1)
    assert not (tmp_path / "results.csv").exists()
    a = list(csv.DictReader((tmp_path / "results_a.csv").open()))
    b = list(csv.DictReader((tmp_path / "results_b.csv").open()))
    assert list(a[0]) == ["part", "x", "seed", "value", "ci95.0", "ci95.1"]
    assert list(b[0]) == ["part", "y", "z", "seed", "total", "worst"]
    assert [row["value"] for row in a] == ["1.0", ""] and float(a[0]["ci95.1"]) == 1.5
    assert all(v != "" for row in b for v in row.values()) and b[0]["worst"] == "-inf"
    summary = list(csv.DictReader((tmp_path / "summary.csv").open()))
    assert summary[0]["values.max"] == "2.5" and summary[0]["ci95.0"] == "0.1"


def test_load_results_gives_dataframes(tmp_path):
    pytest.importorskip("pandas")
    run_scenario(runner_fixtures.PARTS, tmp_path, seed=0, workers=1)
    tables = load_results(tmp_path)
    assert set(tables) == {"results_a", "results_b", "summary"}
    assert tables["results_b"]["total"].tolist() == [0.5, 1.5, 2.5]
    assert tables["results_a"]["value"].isna().tolist() == [False, True]
    assert tables["summary"].loc[0, "values.max"] == 2.5
    with pytest.raises(runmod.MechsimError, match="cannot read"):
        load_results(tmp_path / "nowhere")


def test_config_records_mechsim_version_and_revision_only_of_its_own_checkout(tmp_path):
    run_scenario(runner_fixtures.DEMO, tmp_path / "run", seed=1, workers=1)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["mechsim"] == runmod.mechsim.__version__
    user_project = tmp_path / "project"
    (user_project / ".git").mkdir(parents=True)
    (user_project / "setup.cfg").write_text("[metadata]\nname = someone-elses-project\n")
    assert runmod._own_checkout(user_project) is None
    (user_project / "setup.cfg").write_text("[metadata]\nname = mechsim\n")
    assert runmod._own_checkout(user_project) == user_project


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_holds_the_lock(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    with runmod._RunLock(tmp_path):
        with pytest.raises(RunInProgressError, match=f"pid {os.getpid()}"):
            run_scenario(runner_fixtures.DEMO, tmp_path, seed=1, workers=1)
    assert run_scenario(runner_fixtures.DEMO, tmp_path, seed=1, workers=1).computed == 6   # released


def test_lock_is_released_when_the_holder_is_killed(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code = ("import runner_fixtures, sys; from mechsim.runner.run import run_scenario; "
            f"run_scenario(runner_fixtures.SLOW, {str(tmp_path)!r}, seed=0, workers=1)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not list((tmp_path / "cells").glob("*.json")):
            time.sleep(0.1)
        with pytest.raises(RunInProgressError):
            run_scenario(runner_fixtures.SLOW, tmp_path, seed=0, workers=1)
    finally:
        proc.kill()
        proc.wait()
    res = run_scenario(runner_fixtures.SLOW, tmp_path, seed=0, workers=1)
    assert res.reused >= 1 and res.computed + res.reused == 8


def test_executors_report_what_is_running():
    seen = []
    list(SerialExecutor().run(runner_fixtures._compute, [({"x": 0, "sleep": 0.0}, 1)] * 2, heartbeat=seen.append))
    assert seen == [[0], [1]]
    beats = []
    tasks = [({"x": i, "sleep": 2.5}, i) for i in range(2)]
    out = list(LocalExecutor(2).run(runner_fixtures._compute, tasks, heartbeat=beats.append))
    assert sorted(i for i, _ in out) == [0, 1]
    assert any(b == [0, 1] for b in beats)


def test_did_you_mean_for_misspelt_scenarios():
    with pytest.raises(UnknownScenarioError, match="did you mean 'no-regret'"):
        runmod.load_scenario("no-regrat")
    res = CliRunner().invoke(cli, ["run", "fair-selectoin"])
    assert res.exit_code == 2 and "did you mean 'fair-selection'" in res.output


def test_run_name_help_shows_the_scenarios_grid():
    res = CliRunner().invoke(cli, ["run", "no-regret", "--help"])
    assert res.exit_code == 0 and "--backend [local|ray]" in res.output
    assert "Scenario no-regret" in res.output and "Grid: --quick" in res.output and "cells" in res.output
    res = CliRunner().invoke(cli, ["run", "--help"])
    assert "Grid:" not in res.output


def test_python_dash_m_mechsim():
    out = subprocess.run([sys.executable, "-m", "mechsim", "list"], capture_output=True, text=True)
    assert out.returncode == 0 and "no-regret" in out.stdout
