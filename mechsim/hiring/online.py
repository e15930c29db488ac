"""Former home of the online hiring learner, now :mod:`mechsim.learners.hiring_online`.

The learner calls the solvers of layer 2, so it lives in the learners layer; this module keeps the old
import path working through a lazy re-export (a string, not an import statement).
"""

from mechsim._lazy import lazy_exports

_EXPORTS = {"mechsim.learners.hiring_online": ["simulate_online", "OnlineResult", "VARIANTS",
                                               "empirical_bernstein_width"]}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.hiring.online", _EXPORTS, globals())
