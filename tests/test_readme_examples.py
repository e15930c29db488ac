"""The README's design walkthrough runs as written and prints what its comments say."""

import contextlib
import io
import re
import warnings
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _blocks(section: str) -> list[str]:
    body = README.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, flags=re.S)


def test_design_walkthrough_prints_what_it_says():
    first, second, games = _blocks("Design and test your own mechanism")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(first, "README design walkthrough", "exec"), {})
    lines = out.getvalue().split("\n")
    assert lines[0] == "2.7 2.7" and lines[1] == "2.268 [0.9]" and lines[2] == "2.268"
    namespace = {}
    exec(compile(second, "README property test", "exec"), namespace)
    namespace["test_second_price_is_truthful"]()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(games, "README equilibrium programs", "exec"), {})
    lines = out.getvalue().split("\n")
    assert lines[0] == "10.5 [[0.0, 0.25], [0.25, 0.5]]" and lines[1] == "complete [9.0, 9.0, 9.333]"
