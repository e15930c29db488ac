"""Former home of :class:`FiniteCMDPEnv`, now :mod:`mechsim.envs.finite_cmdp` (a Gymnasium environment).

The name stays importable from here (lazily: this domain module imports no gymnasium and no environment).
"""

from mechsim._lazy import lazy_exports

_EXPORTS = {"mechsim.envs.finite_cmdp": ["FiniteCMDPEnv"]}
__all__, __getattr__, __dir__ = lazy_exports("mechsim.cmdp.tabular_env", _EXPORTS, globals())
