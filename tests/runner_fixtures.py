"""Scenarios used by the runner tests (importable by spawned workers and Ray workers)."""

import os
import time

import numpy as np

from mechsim.runner.scenario import Scenario


def _grid(quick):
    return [{"x": x, "sleep": 0.0} for x in range(3 if quick else 6)]


def _compute(params, seed):
    if params["x"] == 3 and os.environ.get("MECHSIM_TEST_FAIL") == "1":
        raise RuntimeError("deliberate failure for x=3")
    time.sleep(params["sleep"])
    rng = np.random.default_rng(seed)
    draws = rng.normal(size=4)
    return {"mean": float(draws.mean()), "draws": draws, "x_squared": params["x"] ** 2}


def _report(r):
    import matplotlib.pyplot as plt

    xs = [rec["params"]["x"] for rec in r.records]
    means = [rec["result"]["mean"] for rec in r.records]
    fig, ax = plt.subplots()
    ax.plot(xs, means, "o-")
    r.add_figure("means", fig, caption="cell means")
    r.add_table("means", [{"x": x, "mean": m} for x, m in zip(xs, means)])
    r.add_section("Means", r.markdown_table([{"x": x, "mean": m} for x, m in zip(xs, means)]))


def _full_grid():
    return [{"x": x, "sleep": 0.0} for x in range(9)]


DEMO = Scenario(name="runner-demo", description="runner test scenario", grid=_grid, compute=_compute,
                report=_report, full_grid=_full_grid)


def _slow_grid(quick):
    return [{"x": x, "sleep": 0.4} for x in range(8)]


SLOW = Scenario(name="runner-slow", description="runner resume test scenario", grid=_slow_grid,
                compute=_compute)

def _pid_compute(params, seed):
    with open(os.path.join(os.environ["MECHSIM_TEST_PID_DIR"], f"{os.getpid()}.pid"), "w") as fh:
        fh.write("started")
    time.sleep(params["sleep"])
    return {"x": params["x"]}


PIDS = Scenario(name="runner-pids", description="runner orphan test scenario",
                grid=lambda quick: [{"x": x, "sleep": 30.0} for x in range(2)], compute=_pid_compute)

if __name__ == "__main__":
    import sys

    from mechsim.runner.run import run_scenario

    if len(sys.argv) > 2 and sys.argv[2] == "pool":
        run_scenario(PIDS, sys.argv[1], seed=3, workers=2)
    else:
        run_scenario(SLOW, sys.argv[1], seed=3, workers=1)


def _parts_grid(quick):
    return [{"part": "a", "x": x} for x in range(2)] + [{"part": "b", "y": y, "z": 1} for y in range(3)]


def _parts_compute(params, seed):
    if params["part"] == "a":
        return {"value": float("nan") if params["x"] else 1.0, "ci95": [0.5, 1.5], "curve": list(range(40))}
    return {"total": params["y"] + 0.5, "worst": float("-inf")}


def _parts_report(r):
    nan_seen = [rec["result"]["value"] for rec in r.records if rec["params"]["part"] == "a"]
    r.add_table("summary", [{"part": "a", "values": {"min": 0.0, "max": 2.5}, "ci95": [0.1, 0.2],
                             "nan_cells": sum(v != v for v in nan_seen)}])


PARTS = Scenario(name="runner-parts", description="runner scenario with two parts and non-finite numbers",
                 grid=_parts_grid, compute=_parts_compute, report=_parts_report)
