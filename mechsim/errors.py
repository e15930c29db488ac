"""Exception hierarchy shared by every part of mechsim.

``MechsimError`` is the root.  Bad input raises :class:`InvalidInstanceError`, which is also a
``ValueError`` so that generic callers can catch it the usual way.  Optimisation problems that have no
feasible point raise :class:`InfeasibleError`; solves that fail for any other reason (unbounded,
numerical trouble, time limit) raise :class:`SolverError`.  Both carry the solver's own status string so
that the user can see what the solver said, not only what mechsim concluded.
"""

from __future__ import annotations

__all__ = ["MechsimError", "InvalidInstanceError", "InfeasibleError", "SolverError", "EpisodeOverError"]


class MechsimError(Exception):
    """Base class of every error raised on purpose by mechsim."""


class InvalidInstanceError(MechsimError, ValueError):
    """An argument does not describe a valid instance (wrong shape, not a distribution, ...).

    Parameters
    ----------
    message : str
        Names the argument, what was expected and what was found.
    argument : str, optional
        The offending argument's name, kept for programmatic use.
    """

    def __init__(self, message: str, argument: str | None = None):
        super().__init__(message)
        self.argument = argument


class _StatusError(MechsimError):
    def __init__(self, message: str, status: str | None = None, **details):
        if status is not None and str(status) not in message:
            message = f"{message} (solver status: {status})"
        super().__init__(message)
        self.status = status
        self.details = details


class InfeasibleError(_StatusError):
    """The optimisation problem has no feasible solution.

    Attributes
    ----------
    status : str or None
        The solver's status string (e.g. ``"infeasible"``).
    details : dict
        Extra diagnostic information (e.g. which constraint fails and the best achievable value).
    """


class SolverError(_StatusError):
    """The solver failed for a reason other than infeasibility (unbounded, numerical, limits).

    Attributes
    ----------
    status : str or None
        The solver's status string.
    details : dict
        Extra diagnostic information.
    """


class EpisodeOverError(MechsimError, RuntimeError):
    """``step()`` was called on a finished episode of an environment (``reset()`` starts a new one)."""
