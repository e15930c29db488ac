"""Every lazily re-exported name of the packages that re-export lazily resolves."""

import pytest

import mechsim.envs
import mechsim.envs.rl
import mechsim.learners
import mechsim.solvers


@pytest.mark.parametrize("package", [mechsim.solvers, mechsim.envs, mechsim.envs.rl, mechsim.learners])
def test_lazy_reexports_resolve(package):
    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError, match="no attribute"):
        getattr(package, "does_not_exist")  # noqa: B009 - the attribute lookup is the test
