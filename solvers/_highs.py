"""A quiet ``highspy.Highs`` factory shared by the solvers.

HiGHS prints a licence banner from C++ when the first ``Highs`` object of a process is created, straight to
file descriptor 1 (past Python's ``sys.stdout``) and whatever ``output_flag`` says.  The first construction
therefore happens with descriptor 1 pointed at ``/dev/null``; later ones are plain.
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["quiet_highs"]

_BANNER_SILENCED = False


def quiet_highs():
    """Return a new ``highspy.Highs`` with ``output_flag`` off and no banner on stdout."""
    global _BANNER_SILENCED
    import highspy

    if _BANNER_SILENCED:
        h = highspy.Highs()
    else:
        try:
            sys.stdout.flush()
            saved = os.dup(1)
        except (OSError, ValueError):  # no usable descriptor 1: nothing to protect
            saved = None
        if saved is None:
            h = highspy.Highs()
        else:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()
                try:  # flush C stdio while it still points at /dev/null
                    ctypes.CDLL(None).fflush(None)
                except (OSError, AttributeError, TypeError):  # non-POSIX libc
                    pass
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
        _BANNER_SILENCED = True
    h.setOptionValue("output_flag", False)
    return h
