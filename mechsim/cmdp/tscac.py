"""Former home of TSCAC (Cai et al., WWW 2023), now :mod:`mechsim.learners.tscac`.

The names stay importable from here (lazily: this domain module imports no learner).
"""

from mechsim._lazy import lazy_exports

_EXPORTS = {
    "mechsim.learners.tscac": ["TSCACResult", "TSCACSampleResult", "tscac_sample", "tscac_tabular", "tscac_target"],
}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.cmdp.tscac", _EXPORTS, globals())
