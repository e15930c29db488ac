"""Runner: outputs, determinism, executors, atomic writes, resuming, failures, Ray."""

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mechsim.errors import MechsimError
from mechsim.runner import run as runmod
from mechsim.runner.run import CellFailures, UnknownScenarioError, cell_key, cell_seed, run_scenario
from mechsim.runner.scenario import atomic_write_text

sys.path.insert(0, str(Path(__file__).parent))
import runner_fixtures  # noqa: E402

HERE = Path(__file__).parent


def test_outputs_written(tmp_path):
    res = run_scenario(runner_fixtures.DEMO, tmp_path, seed=5, workers=1)
    for name in ["config.json", "results.json", "results.csv", "summary.md", "means.png", "means.csv"]:
        assert (tmp_path / name).is_file(), name
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["seed"] == 5 and config["scenario"] == "runner-demo"
    assert config["versions"]["numpy"] and config["cells"] == [{"x": x, "sleep": 0.0} for x in range(6)]
    assert "finished" in config
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["params"]["x"] for r in results["records"]] == list(range(6))
    assert results["tables"]["means"][0]["x"] == 0
    csv_lines = (tmp_path / "results.csv").read_text().splitlines()
    assert csv_lines[0].split(",")[:4] == ["x", "sleep", "seed", "mean"] and len(csv_lines) == 7
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("# runner-demo") and "![cell means](means.png)" in summary
    assert res.computed == 6 and res.reused == 0
    assert not list(tmp_path.glob(".*.tmp"))


def test_same_seed_same_results_different_seed_differs(tmp_path):
    a = run_scenario(runner_fixtures.DEMO, tmp_path / "a", seed=1, workers=1).records
    b = run_scenario(runner_fixtures.DEMO, tmp_path / "b", seed=1, workers=1).records
    c = run_scenario(runner_fixtures.DEMO, tmp_path / "c", seed=2, workers=1).records
    assert a == b
    assert [r["result"]["mean"] for r in a] != [r["result"]["mean"] for r in c]


def test_process_pool_matches_serial(tmp_path):
    serial = run_scenario(runner_fixtures.DEMO, tmp_path / "s", seed=7, workers=1).records
    pooled = run_scenario(runner_fixtures.DEMO, tmp_path / "p", seed=7, workers=2).records
    assert serial == pooled


def test_cell_seed_depends_on_params_not_order():
    assert cell_seed(0, {"a": 1, "b": 2}) == cell_seed(0, {"b": 2, "a": 1})
    assert cell_seed(0, {"a": 1}) != cell_seed(1, {"a": 1})
    assert cell_seed(0, {"a": 1}) != cell_seed(0, {"a": 2})
    assert 0 <= cell_seed(123, {"a": 1}) < 2**63
    # a fixed value guards against accidental changes of the derivation (it would silently change results)
    assert cell_seed(0, {"a": 1}) == 4648084491521046577
    assert cell_key("s", {"a": 1}, 3) != cell_key("t", {"a": 1}, 3)


def test_cell_seed_is_stable_across_processes():
    code = "from mechsim.runner.run import cell_seed; print(cell_seed(42, {'x': 1, 'name': 'a'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == cell_seed(42, {"x": 1, "name": "a"})


def test_resume_recomputes_only_missing_cells(tmp_path):
    first = run_scenario(runner_fixtures.DEMO, tmp_path, seed=9, workers=1)
    # forget two finished cells, as if the run had been interrupted before they completed
    cell_files = sorted((tmp_path / "cells").glob("*.json"))
    for f in cell_files[:2]:
        f.unlink()
    second = run_scenario(runner_fixtures.DEMO, tmp_path, seed=9, workers=1)
    assert (second.computed, second.reused) == (2, 4)
    assert second.records == first.records


def test_resume_after_killed_run(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, str(HERE / "runner_fixtures.py"), str(out)], env=env)
    deadline = time.time() + 60
    try:
        while time.time() < deadline:
            if len(list((out / "cells").glob("*.json"))) >= 3:
                break
            if proc.poll() is not None:
                pytest.fail("the run finished before it could be killed")
            time.sleep(0.05)
        proc.kill()
    finally:
        proc.wait()
    done_before = len(list((out / "cells").glob("*.json")))
    assert 3 <= done_before < 8
    assert not (out / "results.json").exists()
    resumed = run_scenario(runner_fixtures.SLOW, out, seed=3, workers=1)
    assert resumed.reused == done_before and resumed.computed == 8 - done_before
    fresh = run_scenario(runner_fixtures.SLOW, tmp_path / "fresh", seed=3, workers=2)
    assert resumed.records == fresh.records


def test_failed_cells_are_reported_and_finished_ones_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("MECHSIM_TEST_FAIL", "1")
    with pytest.raises(CellFailures, match="1 of 6 cells") as info:
        run_scenario(runner_fixtures.DEMO, tmp_path, seed=0, workers=1)
    assert "deliberate failure for x=3" in str(info.value)
    assert len(list((tmp_path / "cells").glob("*.json"))) == 5
    monkeypatch.setenv("MECHSIM_TEST_FAIL", "0")
    res = run_scenario(runner_fixtures.DEMO, tmp_path, seed=0, workers=1)
    assert (res.computed, res.reused) == (1, 5)


def test_atomic_write_keeps_old_file_when_interrupted(tmp_path, monkeypatch):
    target = tmp_path / "file.txt"
    atomic_write_text(target, "old")

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "new content")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]


def test_corrupt_cell_file_is_recomputed(tmp_path):
    run_scenario(runner_fixtures.DEMO, tmp_path, seed=4, workers=1)
    victim = sorted((tmp_path / "cells").glob("*.json"))[0]
    victim.write_text("{not json")
    res = run_scenario(runner_fixtures.DEMO, tmp_path, seed=4, workers=1)
    assert (res.computed, res.reused) == (1, 5)


def test_unknown_scenario_and_bad_arguments(tmp_path):
    with pytest.raises(UnknownScenarioError, match="valid names"):
        run_scenario("no-such-scenario", tmp_path)
    with pytest.raises(MechsimError, match="seed"):
        run_scenario(runner_fixtures.DEMO, tmp_path, seed=-1)
    with pytest.raises(MechsimError, match="backend"):
        run_scenario(runner_fixtures.DEMO, tmp_path, backend="dask")


def test_compute_must_return_dict(tmp_path):
    from mechsim.runner.scenario import Scenario

    bad = Scenario("bad", "returns a list", grid=lambda q: [{"a": 1}], compute=lambda p, s: [1, 2])
    with pytest.raises(CellFailures, match="must return a dict"):
        run_scenario(bad, tmp_path, workers=1)


@pytest.mark.ray
def test_ray_backend_matches_local(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.setenv("PYTHONPATH", str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    local = run_scenario(runner_fixtures.DEMO, tmp_path / "local", seed=11, workers=2)
    ray_run = run_scenario(runner_fixtures.DEMO, tmp_path / "ray", seed=11, backend="ray", workers=2)
    assert ray_run.records == local.records
    assert ray_run.computed == 6
    assert (tmp_path / "ray" / "summary.md").is_file()


def test_discovery_lists_only_scenarios():
    scenarios = runmod.available_scenarios()
    for name, scen in scenarios.items():
        assert scen.name == name and scen.description


def test_full_grid_reuses_the_default_cells_and_is_recorded(tmp_path):
    default = run_scenario(runner_fixtures.DEMO, tmp_path, seed=2, workers=1)
    full = run_scenario(runner_fixtures.DEMO, tmp_path, seed=2, workers=1, full=True)
    assert (len(default.records), len(full.records)) == (6, 9)
    assert (full.reused, full.computed) == (6, 3)
    assert full.records[:6] == default.records
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["size"] == "full" and not config["quick"]
    assert "full size" in (tmp_path / "summary.md").read_text()


def test_full_without_a_full_grid_runs_the_default_grid(tmp_path):
    res = run_scenario(runner_fixtures.SLOW, tmp_path, seed=2, workers=1, full=True)
    assert len(res.records) == len(runner_fixtures.SLOW.grid(False))


def test_quick_and_full_exclude_each_other(tmp_path):
    with pytest.raises(MechsimError, match="quick, full"):
        run_scenario(runner_fixtures.DEMO, tmp_path, quick=True, full=True)


def test_report_of_a_partial_run_leaves_missing_cells_out(tmp_path):
    from mechsim.runner.run import report_scenario

    with pytest.raises(MechsimError, match="no finished cell"):
        report_scenario(runner_fixtures.DEMO, tmp_path, seed=2, full=True)
    run_scenario(runner_fixtures.DEMO, tmp_path, seed=2, workers=1)          # the 6 default cells
    partial = report_scenario(runner_fixtures.DEMO, tmp_path, seed=2, full=True)
    assert partial.computed == 0 and [r["params"]["x"] for r in partial.records] == list(range(6))
    text = (tmp_path / "summary.md").read_text()
    assert "Partial report" in text and "6 of 9 cells" in text
    assert len(json.loads((tmp_path / "results.json").read_text())["records"]) == 6
    complete = run_scenario(runner_fixtures.DEMO, tmp_path, seed=2, workers=1, full=True)
    assert complete.reused == 6 and "Partial" not in (tmp_path / "summary.md").read_text()
    assert complete.records[:6] == partial.records


def test_report_errors_from_the_scenario_are_named(tmp_path, monkeypatch):
    from mechsim.runner.run import report_scenario

    run_scenario(runner_fixtures.DEMO, tmp_path, seed=2, workers=1)

    def broken(report):
        raise KeyError("missing part")

    monkeypatch.setattr(runner_fixtures, "DEMO", dataclasses.replace(runner_fixtures.DEMO, report=broken))
    with pytest.raises(MechsimError, match="report failed on 6 of 9 cells"):
        report_scenario(runner_fixtures.DEMO, tmp_path, seed=2, full=True)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in fh)
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_of_a_killed_run_stop(tmp_path):
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               MECHSIM_TEST_PID_DIR=str(pid_dir))
    proc = subprocess.Popen([sys.executable, str(HERE / "runner_fixtures.py"), str(tmp_path / "run"), "pool"],
                            env=env)
    deadline = time.time() + 60
    try:
        while time.time() < deadline and len(list(pid_dir.glob("*.pid"))) < 2:
            time.sleep(0.05)
        proc.kill()                                   # no chance to shut the pool down
    finally:
        proc.wait()
    workers = [int(p.stem) for p in pid_dir.glob("*.pid")]
    assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    deadline = time.time() + 15                       # the cells would sleep 30 s
    while time.time() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def test_scenario_registry_lists_every_scenario_module_and_only_those():
    """Adding a scenario is one registry line: a module with a SCENARIO that is not registered is an error."""
    import importlib
    import pkgutil

    import mechsim.scenarios
    from mechsim._registration import SCENARIOS

    modules = {info.name for info in pkgutil.iter_modules(mechsim.scenarios.__path__) if not info.name.startswith("_")}
    defined = {name for name in modules
               if isinstance(getattr(importlib.import_module(f"mechsim.scenarios.{name}"), "SCENARIO", None),
                             runmod.Scenario)}
    registered = {entry.partition(":")[0].rpartition(".")[2] for entry in SCENARIOS.values()}
    assert registered == defined
    assert list(runmod.available_scenarios()) == sorted(SCENARIOS)
