r"""Textbook normal-form games and random games, as payoff arrays of shape ``(n, A_1, ..., A_n)``.

Each function returns a fresh ``float`` array ``u`` with ``u[i][a]`` the payoff of player ``i`` at profile ``a``
(row player 0, column player 1).  The textbook games are the standard test cases of equilibrium computation:

- :func:`chicken` — two pure Nash equilibria and one mixed; some correlated equilibria (a signal that never
  recommends (Dare, Dare)) have higher welfare than every Nash equilibrium (Aumann 1974).
- :func:`battle_of_the_sexes` — two pure equilibria and a mixed one; a public coin between the two pure ones
  is a correlated equilibrium.
- :func:`shapley_game` — Shapley's 3x3 game (1964), where fictitious play cycles; its unique Nash equilibrium is
  uniform play.
- :func:`matching_pennies`, :func:`rock_paper_scissors` — zero-sum, unique uniform equilibrium.
- :func:`prisoners_dilemma` — a dominant-strategy equilibrium, the only CCE.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mechsim.errors import InvalidInstanceError
from mechsim.validation import as_generator, check_allocation, check_array, check_integer

__all__ = ["chicken", "battle_of_the_sexes", "shapley_game", "matching_pennies", "rock_paper_scissors",
           "prisoners_dilemma", "random_game", "TEXTBOOK_GAMES"]


def _bimatrix(a, b) -> np.ndarray:
    return np.stack([np.asarray(a, dtype=float), np.asarray(b, dtype=float)])


def chicken() -> np.ndarray:
    """Chicken (actions Dare, Chicken): ``(D, D) -> (0, 0)``, ``(D, C) -> (7, 2)``, ``(C, C) -> (6, 6)``."""
    return _bimatrix([[0, 7], [2, 6]], [[0, 2], [7, 6]])


def battle_of_the_sexes() -> np.ndarray:
    """Battle of the sexes: both prefer to coordinate, player 0 on action 0 (payoff 2), player 1 on action 1."""
    return _bimatrix([[2, 0], [0, 1]], [[1, 0], [0, 2]])


def shapley_game() -> np.ndarray:
    """Shapley's 3x3 game: each player gets 1 on its 'winning' pairs, 0 otherwise; unique NE uniform play."""
    a = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    b = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    return _bimatrix(a, b)


def matching_pennies() -> np.ndarray:
    """Matching pennies: player 0 wins (+1) on a match, player 1 on a mismatch."""
    a = np.array([[1, -1], [-1, 1]])
    return _bimatrix(a, -a)


def rock_paper_scissors() -> np.ndarray:
    """Rock-paper-scissors (win 1, loss -1, tie 0)."""
    a = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
    return _bimatrix(a, -a)


def prisoners_dilemma() -> np.ndarray:
    """Prisoner's dilemma (actions Cooperate, Defect): ``(C, C) -> 3``, ``(D, C) -> 5/0``, ``(D, D) -> 1``."""
    return _bimatrix([[3, 0], [5, 1]], [[3, 5], [0, 1]])


#: name -> constructor of each textbook game.
TEXTBOOK_GAMES = {
    "chicken": chicken, "battle_of_the_sexes": battle_of_the_sexes, "shapley": shapley_game,
    "matching_pennies": matching_pennies, "rock_paper_scissors": rock_paper_scissors,
    "prisoners_dilemma": prisoners_dilemma,
}


def random_game(n_actions: Sequence[int], seed=None, *, low: float = 0.0, high: float = 1.0) -> np.ndarray:
    """Payoffs drawn i.i.d. uniform on ``[low, high)`` for ``len(n_actions)`` players.

    Parameters
    ----------
    n_actions : sequence of int
        ``A_i >= 1`` per player (at least one player).
    seed : int, numpy Generator or None
    low, high : float
        ``low < high``, both finite.
    """
    if n_actions is None or isinstance(n_actions, (str, bytes)) or not isinstance(n_actions, (Sequence,
                                                                                           np.ndarray)):
        raise InvalidInstanceError(f"n_actions: expected a sequence of action counts, found "
                                   f"{type(n_actions).__name__}", argument="n_actions")
    if len(n_actions) == 0:
        raise InvalidInstanceError("n_actions: expected at least one player, found an empty sequence",
                                   argument="n_actions")
    shape = tuple(check_integer(f"n_actions[{i}]", a, minimum=1) for i, a in enumerate(n_actions))
    lo, hi = float(check_array("low", low, ndim=0)), float(check_array("high", high, ndim=0))
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InvalidInstanceError(f"low, high: expected finite low < high, found low={low!r}, high={high!r}",
                                   argument="low")
    check_allocation("n_actions", 8.0 * len(shape) * float(np.prod([float(a) for a in shape])),
                     f"a random game with action counts {shape}")
    rng = as_generator(seed)
    return rng.uniform(lo, hi, size=(len(shape), *shape))
