"""The mechsim command line."""

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from mechsim.runner.cli import cli
from mechsim.runner.run import available_scenarios


def invoke(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_everywhere():
    for args in [["--help"], ["run", "--help"], ["list", "--help"]]:
        res = invoke(*args)
        assert res.exit_code == 0 and "Usage:" in res.output
    assert "--backend [local|ray]" in invoke("run", "--help").output


def test_list_shows_scenarios_and_environments():
    res = invoke("list")
    assert res.exit_code == 0
    assert "mechsim/Hiring-v0" in res.output and "mechsim/Recommender-v0" in res.output
    for name, scen in available_scenarios().items():
        assert name in res.output and scen.description in res.output


def test_unknown_scenario_is_a_one_line_error_listing_valid_names():
    res = CliRunner().invoke(cli, ["run", "no-such-thing"])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1
    assert "unknown scenario 'no-such-thing'" in lines[0] and "all" in lines[0]
    for name in available_scenarios():
        assert name in lines[0]


def test_bad_option_values_are_rejected():
    assert CliRunner().invoke(cli, ["run", "all", "--seed", "-3"]).exit_code == 2
    assert CliRunner().invoke(cli, ["run", "all", "--backend", "dask"]).exit_code == 2
    assert CliRunner().invoke(cli, ["run", "all", "--workers", "0"]).exit_code == 2
    both = CliRunner().invoke(cli, ["run", "no-regret", "--quick", "--full"])
    assert both.exit_code == 2 and "--quick and --full" in both.output


def test_console_script_is_installed():
    exe = Path(sys.executable).with_name("mechsim")
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "mechsim" in out.stdout


def test_run_quick_scenario_and_resume(tmp_path):
    out = tmp_path / "nr"
    first = invoke("run", "no-regret", "--quick", "--out", str(out), "--workers", "2", "--no-progress")
    assert first.exit_code == 0 and "computed, 0 reused" in first.output
    assert (out / "summary.md").is_file() and (out / "config.json").is_file()
    again = invoke("run", "no-regret", "--quick", "--out", str(out), "--workers", "1", "--no-progress")
    assert again.exit_code == 0 and "(0 computed, " in again.output


def test_python_dash_m_scenario_help():
    out = subprocess.run([sys.executable, "-m", "mechsim.scenarios.no_regret", "--help"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "--quick" in out.stdout and "--backend" in out.stdout


def test_scenario_command_runs_the_full_grid(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    import runner_fixtures

    from mechsim.runner.cli import scenario_command

    res = CliRunner().invoke(scenario_command(runner_fixtures.DEMO),
                             ["--full", "--out", str(tmp_path), "--workers", "1", "--no-progress"],
                             catch_exceptions=False)
    assert res.exit_code == 0 and "9 cells (9 computed, 0 reused)" in res.output


def test_report_command(tmp_path):
    out = tmp_path / "nr"
    missing = CliRunner().invoke(cli, ["report", "no-regret", "--quick", "--out", str(out)])
    assert missing.exit_code == 1 and "no finished cell" in missing.output
    assert invoke("run", "no-regret", "--quick", "--out", str(out), "--workers", "2", "--no-progress").exit_code == 0
    res = invoke("report", "no-regret", "--quick", "--out", str(out))
    assert res.exit_code == 0 and "report of" in res.output
    assert "Partial report" not in (out / "summary.md").read_text()      # every quick cell is there
    assert CliRunner().invoke(cli, ["report", "nope"]).exit_code == 2
