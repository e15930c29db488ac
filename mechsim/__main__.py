"""``python -m mechsim``: the ``mechsim`` command (list, run, report)."""

from mechsim.runner.cli import main

if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in the tests
    main()
