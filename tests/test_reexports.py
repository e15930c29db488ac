"""Every lazily re-exported name of mechsim.solvers and mechsim.envs resolves."""

import pytest

import mechsim.envs
import mechsim.solvers


@pytest.mark.parametrize("package", [mechsim.solvers, mechsim.envs])
def test_lazy_reexports_resolve(package):
    for name in package.__all__:
        assert getattr(package, name) is not None
    with pytest.raises(AttributeError, match="no attribute"):
        getattr(package, "does_not_exist")
