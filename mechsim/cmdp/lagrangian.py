"""Former home of the Lagrangian and PID-Lagrangian learners, now :mod:`mechsim.learners.lagrangian`.

The names stay importable from here (lazily: this domain module imports no learner).
"""

from mechsim._lazy import lazy_exports

_EXPORTS = {
    "mechsim.learners.lagrangian": ["SampleLearnerResult", "TabularLearnerResult", "averaged_occupancy_policy",
                                    "lagrangian_sample", "lagrangian_tabular", "pid_lagrangian_sample",
                                    "pid_lagrangian_tabular"],
    "mechsim.learners.multipliers": ["GradientMultiplier", "PIDMultiplier"],
    "mechsim.learners.policies": ["policy_gradient_step"],
}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.cmdp.lagrangian", _EXPORTS, globals())
