"""Debate-based justification: judges, preference data, debaters and small exact testbeds.

Two debaters reveal features of a state in turn to argue for competing decisions; a judge that sees only
the revealed evidence decides (Sukovic & Radanovic, ICLR 2024).  This package holds the layer-1/3 parts:

- :mod:`~mechsim.debate.judges`: the judge protocol, ``LinearJudge``, ``ConstantJudge`` and the trainable
  ``BradleyTerryJudge`` (and its ideal, full-state variant);
- :mod:`~mechsim.debate.preferences`: preference generators (behaviour beats random, value oracle, sparse
  guideline rule) and evidence precision/recall;
- :mod:`~mechsim.debate.debaters`: greedy, beam, isolated and learned (policy-gradient) debaters and
  robustness measurement against the exact confuser;
- :mod:`~mechsim.debate.oberst_sontag`: the exact tabular Oberst–Sontag sepsis simulator.

The exact minimax solver lives in :mod:`mechsim.solvers.debate` (``solve_debate``, ``best_response``).
"""

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

__all__ = [
    "Judge", "LinearJudge", "ConstantJudge", "BradleyTerryJudge", "TrainingHistory", "debate_outcome",
    "judge_accuracy", "random_evidence_masks",
    "PreferenceData", "behaviour_preferences", "value_oracle_preferences", "GuidelineRule",
    "evidence_precision_recall",
]

# --- debaters and the Oberst–Sontag testbed (debate core) ---------------------------------------------
from mechsim.debate import oberst_sontag  # noqa: E402  (module: build_model, value_iteration, ...)
from mechsim.debate.debaters import (  # noqa: E402
    ArguingFor,
    BaseDebater,
    BeamDebater,
    DebateRecords,
    GreedyDebater,
    IsolatedDebater,
    PolicyGradientDebater,
    RandomDebater,
    RobustnessReport,
    TrainingResult,
    measure_robustness,
    play_debates,
    train_debater,
)

__all__ += [
    "oberst_sontag", "BaseDebater", "RandomDebater", "GreedyDebater", "BeamDebater", "IsolatedDebater",
    "PolicyGradientDebater", "ArguingFor", "DebateRecords", "play_debates", "TrainingResult", "train_debater",
    "RobustnessReport", "measure_robustness",
]

# --- ICU-Sepsis (appended by the sepsis helper below this line) --------------------------------------
from mechsim.debate import icu_sepsis  # noqa: E402  (module: evaluate_policy, policy_iteration, wis_estimate, ...)
from mechsim.debate.icu_sepsis import (  # noqa: E402
    SEPSIS_COLUMNS,
    SEPSIS_FEATURES,
    IcuSepsisUnavailableError,
    SepsisMDP,
    clinician_preferences,
    load_icu_sepsis,
    train_sepsis_judge,
)

__all__ += [
    "icu_sepsis", "SEPSIS_COLUMNS", "SEPSIS_FEATURES", "IcuSepsisUnavailableError", "SepsisMDP",
    "clinician_preferences", "load_icu_sepsis", "train_sepsis_judge",
]
