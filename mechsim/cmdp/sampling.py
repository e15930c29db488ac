"""Former home of the sample-based learner machinery, now :mod:`mechsim.learners.policies`.

The names stay importable from here (lazily: this domain module imports no gymnasium and no learner).
"""

from mechsim._lazy import lazy_exports

_EXPORTS = {
    "mechsim.learners.policies": ["EpisodeBatch", "SoftmaxPolicy", "collect_episodes", "featurizer",
                                  "fit_linear_critic"],
}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.cmdp.sampling", _EXPORTS, globals())
