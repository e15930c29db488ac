"""Debate-based justification: judges, preference data, small exact testbeds, and (lazily) the debaters.

Two debaters reveal features of a state in turn to argue for competing decisions; a judge that sees only
the revealed evidence decides (Sukovic & Radanovic, "Reward Design for Justifiable Sequential
Decision-Making", ICLR 2024).  This package is the debate domain (layer 1):

- :mod:`~mechsim.debate.judges`: the judge protocol, ``LinearJudge``, ``ConstantJudge`` and the trainable
  ``BradleyTerryJudge`` (and its ideal, full-state variant);
- :mod:`~mechsim.debate.preferences`: preference generators (behaviour beats random, value oracle, sparse
  guideline rule) and evidence precision/recall;
- :mod:`~mechsim.debate.oberst_sontag`: the exact tabular Oberst–Sontag sepsis simulator;
- :mod:`~mechsim.debate.icu_sepsis`: the ICU-Sepsis MDP, its exact evaluation and the sepsis judge.

The exact minimax solver lives in :mod:`mechsim.solvers.debate` (``solve_debate``, ``best_response``,
``subgame_values``, ``debate_win_table``); the greedy, beam, isolated and learned (policy-gradient)
debaters, their training and robustness measurement in :mod:`mechsim.learners.debaters`.  The debaters'
names are re-exported here lazily (``from mechsim.debate import train_debater`` imports the learner on
first use), so importing the domain never imports a solver.
"""

from mechsim._lazy import lazy_exports
from mechsim.debate import icu_sepsis, oberst_sontag
from mechsim.debate.icu_sepsis import (
    SEPSIS_COLUMNS,
    SEPSIS_FEATURES,
    IcuSepsisUnavailableError,
    SepsisMDP,
    clinician_preferences,
    load_icu_sepsis,
    train_sepsis_judge,
)
from mechsim.debate.judges import (
    BradleyTerryJudge,
    ConstantJudge,
    Judge,
    LinearJudge,
    TrainingHistory,
    debate_outcome,
    judge_accuracy,
    random_evidence_masks,
)
from mechsim.debate.preferences import (
    GuidelineRule,
    PreferenceData,
    behaviour_preferences,
    evidence_precision_recall,
    value_oracle_preferences,
)

_EXPORTS = {
    "mechsim.learners.debaters": [
        "BaseDebater", "RandomDebater", "GreedyDebater", "BeamDebater", "IsolatedDebater", "PolicyGradientDebater",
        "ArguingFor", "DebateRecords", "play_debates", "TrainingResult", "train_debater", "RobustnessReport",
        "measure_robustness",
    ],
}
_lazy_all, __getattr__, __dir__ = lazy_exports("mechsim.debate", _EXPORTS, globals())

__all__ = [
    "Judge", "LinearJudge", "ConstantJudge", "BradleyTerryJudge", "TrainingHistory", "debate_outcome",
    "judge_accuracy", "random_evidence_masks",
    "PreferenceData", "behaviour_preferences", "value_oracle_preferences", "GuidelineRule",
    "evidence_precision_recall",
    "oberst_sontag",
    "icu_sepsis", "SEPSIS_COLUMNS", "SEPSIS_FEATURES", "IcuSepsisUnavailableError", "SepsisMDP",
    "clinician_preferences", "load_icu_sepsis", "train_sepsis_judge",
    *_lazy_all,
]
