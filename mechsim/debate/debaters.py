"""Former home of the debaters, kept so that ``from mechsim.debate.debaters import GreedyDebater`` works.

Debaters call the exact solver (:mod:`mechsim.solvers.debate`), so they are learners (layer 3) and live in
:mod:`mechsim.learners.debaters`; this module re-exports their public names lazily (no import statement, so
the debate domain stays below the solvers).
"""

from mechsim._lazy import lazy_exports

_EXPORTS = {
    "mechsim.learners.debaters": [
        "BaseDebater", "RandomDebater", "GreedyDebater", "BeamDebater", "IsolatedDebater", "PolicyGradientDebater",
        "ArguingFor", "TrainingResult", "train_debater", "DebateRecords", "play_debates", "greedy_debate_values",
        "RobustnessReport", "measure_robustness",
    ],
}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.debate.debaters", _EXPORTS, globals())
