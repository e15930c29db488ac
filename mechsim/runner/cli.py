"""The ``mechsim`` command: list scenarios and environments, run scenarios.

Examples
--------
::

    mechsim list
    mechsim run no-regret --quick
    mechsim run all --seed 1 --out results/
    mechsim run fair-selection --full --workers 8
    mechsim report fair-selection --full        # report of the cells finished so far
    mechsim run hiring --backend ray --address auto
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mechsim._registration import GYMNASIUM_ENVS, PETTINGZOO_ENVS, SCENARIOS
from mechsim.errors import MechsimError
from mechsim.runner.run import available_scenarios, did_you_mean, load_scenario, report_scenario, run_scenario

__all__ = ["cli", "main", "scenario_command", "scenario_main"]


class _UsageFailure(click.ClickException):
    exit_code = 2


def _run_options(fn):
    options = [
        click.option("--quick", is_flag=True, help="Smaller sizes (fewer draws, shorter horizons), same logic."),
        click.option("--full", is_flag=True,
                     help="Paper-size grids where the default is cut down (may take hours; resumable; "
                          "spread it with --backend ray). Scenarios without one run their default."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Run seed."),
        click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Output folder [default: results/<scenario>]. With 'all', one sub-folder per scenario."),
        click.option("--backend", type=click.Choice(["local", "ray"]), default="local", show_default=True,
                     help="Local process pool, or Ray (needs the ray extra)."),
        click.option("--address", default=None,
                     help="Ray cluster address (with --backend ray); default: start a local instance."),
        click.option("--workers", type=click.IntRange(min=1), default=None,
                     help="Worker processes (local) or CPUs of a local Ray instance [default: all cores]. "
                          "1 runs in this process."),
        click.option("--progress/--no-progress", default=None,
                     help="Show a progress bar [default: only on a terminal]."),
    ]
    for opt in reversed(options):
        fn = opt(fn)
    return fn


def _run_and_report(scenario, target: Path, quick, full, seed, backend, address, workers, progress) -> None:
    if quick and full:
        raise _UsageFailure("--quick and --full exclude each other; pass at most one")
    try:
        result = run_scenario(scenario, target, quick=quick, seed=seed, backend=backend, workers=workers,
                              address=address, progress=progress, full=full)
    except MechsimError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{result.scenario}: {len(result.records)} cells ({result.computed} computed, {result.reused} "
               f"reused) in {result.elapsed:.1f} s -> {target / 'summary.md'}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mechsim")
def cli():
    """mechsim: mechanism design and multi-agent simulation.

    Run the scenarios that reproduce (and extend) the four papers, and list the Gymnasium/PettingZoo
    environments that `import mechsim` registers.
    """


@cli.command("list")
def list_command():
    """List scenarios (with one-line descriptions) and registered environments."""
    scenarios = available_scenarios()
    click.echo("Scenarios (mechsim run NAME):")
    width = max((len(n) for n in scenarios), default=0)
    for name, scen in scenarios.items():
        click.echo(f"  {name:<{width}}  {scen.description}")
    click.echo("\nGymnasium environments (gymnasium.make(ID) after `import mechsim`):")
    for env_id, (_, desc, _) in GYMNASIUM_ENVS.items():
        click.echo(f"  {env_id:<34}  {desc}")
    click.echo("\nPettingZoo environments (pettingzoo.make(KIND, ID) after `import mechsim`):")
    for env_id, (entry_points, desc) in PETTINGZOO_ENVS.items():
        kinds = "/".join(entry_points)
        click.echo(f"  {env_id:<34}  [{kinds}] {desc}")


def _grid_help(scenario) -> str:
    """The cells a scenario runs at each size, and the values each parameter takes."""
    sizes = [("--quick", scenario.grid(True)), ("default", scenario.grid(False))]
    if scenario.full_grid is not None:
        sizes.append(("--full", scenario.full_grid()))
    lines = [f"Scenario {scenario.name}: {scenario.description}", "",
             "Grid: " + ", ".join(f"{label} {len(cells)} cells" for label, cells in sizes) + "."]
    values: dict[str, list] = {}
    for _, cells in sizes:
        for cell in cells:
            for key, value in cell.items():
                seen = values.setdefault(key, [])
                if value not in seen:
                    seen.append(value)
    lines.append("Parameters (values over all sizes):")
    for key, seen in values.items():
        shown = ", ".join(str(v) for v in seen[:8]) + (f", ... ({len(seen)} values)" if len(seen) > 8 else "")
        lines.append(f"  {key}: {shown}")
    return "\n".join(lines)


class _RunCommand(click.Command):
    """``mechsim run NAME --help`` adds that scenario's grid to the usual options."""

    def parse_args(self, ctx, args):
        ctx.meta["mechsim.scenario"] = next((a for a in args if a in SCENARIOS), None)
        return super().parse_args(ctx, args)

    def format_epilog(self, ctx, formatter):
        super().format_epilog(ctx, formatter)
        name = ctx.meta.get("mechsim.scenario")
        if name is not None:
            formatter.write_paragraph()
            for line in _grid_help(load_scenario(name)).splitlines():
                formatter.write_text(line) if line else formatter.write_paragraph()


@cli.command("run", cls=_RunCommand)
@click.argument("name")
@_run_options
def run_command(name, quick, full, seed, out, backend, address, workers, progress):
    """Run scenario NAME (or `all`), writing config.json, results.json/.csv, plots and summary.md.

    Rerunning into the same folder resumes: finished cells are not recomputed.
    """
    valid = sorted(SCENARIOS)
    if name != "all" and name not in valid:
        raise _UsageFailure(f"unknown scenario {name!r}{did_you_mean(name, valid + ['all'])}; valid names: "
                            f"{', '.join(valid + ['all'])}")
    for scenario in (valid if name == "all" else [name]):
        if out is None:
            target = Path("results") / scenario
        else:
            target = out / scenario if name == "all" else out
        _run_and_report(scenario, target, quick, full, seed, backend, address, workers, progress)


@cli.command("report")
@click.argument("name")
@click.option("--quick", is_flag=True, help="The quick grid's cells.")
@click.option("--full", is_flag=True, help="The full grid's cells.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Run seed.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The run's folder [default: results/<scenario>].")
def report_command(name, quick, full, seed, out):
    """Write scenario NAME's report from the cells finished so far (a run going on or interrupted).

    Computes nothing; missing cells are left out and summary.md says how many.
    """
    valid = sorted(SCENARIOS)
    if name not in valid:
        raise _UsageFailure(f"unknown scenario {name!r}{did_you_mean(name, valid)}; valid names: {', '.join(valid)}")
    if quick and full:
        raise _UsageFailure("--quick and --full exclude each other; pass at most one")
    target = out if out is not None else Path("results") / name
    try:
        result = report_scenario(name, target, quick=quick, full=full, seed=seed)
    except MechsimError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{result.scenario}: report of {len(result.records)} finished cells -> {target / 'summary.md'}")


def scenario_command(scenario) -> click.Command:
    """A stand-alone command running one scenario (used by ``python -m mechsim.scenarios.<name>``)."""

    @click.command(help=f"{scenario.description}\n\nRerunning into the same folder resumes.",
                   epilog=_grid_help(scenario).replace("\n", "\n\n\b\n", 1))
    @_run_options
    def command(quick, full, seed, out, backend, address, workers, progress):
        target = out if out is not None else Path("results") / scenario.name
        _run_and_report(scenario, target, quick, full, seed, backend, address, workers, progress)

    return command


def scenario_main(scenario, argv=None) -> None:
    """Command-line entry of ``python -m mechsim.scenarios.<name>`` (same options as ``mechsim run``)."""
    scenario_command(scenario).main(args=list(argv) if argv is not None else None,
                                    prog_name=f"python -m mechsim.scenarios.{scenario.name.replace('-', '_')}")


def main(argv=None) -> None:
    """Console entry point ``mechsim``."""
    cli.main(args=argv, prog_name="mechsim")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
