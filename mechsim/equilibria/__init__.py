"""Finite normal-form games: textbook and random games, and exact equilibrium audits (CE, CCE, Nash gaps)."""

from mechsim.equilibria.games import (
    TEXTBOOK_GAMES,
    battle_of_the_sexes,
    chicken,
    matching_pennies,
    prisoners_dilemma,
    random_game,
    rock_paper_scissors,
    shapley_game,
)
from mechsim.equilibria.gaps import (
    cce_gap,
    ce_gap,
    check_payoffs,
    check_profile_distribution,
    deviation_gains,
    expected_payoffs,
    is_nash,
    nash_gap,
    product_distribution,
    pure_nash_equilibria,
    swap_gains,
    welfare,
)

__all__ = [
    "check_payoffs", "check_profile_distribution", "swap_gains", "deviation_gains", "ce_gap", "cce_gap",
    "expected_payoffs", "welfare", "product_distribution", "nash_gap", "is_nash", "pure_nash_equilibria",
    "TEXTBOOK_GAMES", "chicken", "battle_of_the_sexes", "shapley_game", "matching_pennies", "rock_paper_scissors",
    "prisoners_dilemma", "random_game",
]
