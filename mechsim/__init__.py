"""mechsim: mechanism design and multi-agent simulation.

Four domains (``mechsim.hiring``, ``mechsim.committees``, ``mechsim.cmdp``, ``mechsim.debate``), exact
solvers (``mechsim.solvers``), learners (``mechsim.learners``), regret measurement (``mechsim.regret``),
Gymnasium/PettingZoo environments (``mechsim.envs``), scenarios (``mechsim.scenarios``) and hypothesis
strategies for property tests (``mechsim.testing``).

Importing ``mechsim`` registers every environment with Gymnasium and PettingZoo under ids
``mechsim/<Name>-v0``; the environment modules themselves are imported only when an environment is made.
"""

from mechsim._registration import register_all as _register_all
from mechsim.errors import InfeasibleError, InvalidInstanceError, MechsimError, SolverError

__version__ = "0.1.0"
__all__ = ["MechsimError", "InvalidInstanceError", "InfeasibleError", "SolverError", "__version__"]

_register_all()
