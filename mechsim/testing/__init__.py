"""Hypothesis strategies for property-testing mechanisms (see mechsim.testing.core)."""
from mechsim.testing.debate import DebateGame, debate_games, debate_states, evidence_masks, linear_judges  # noqa: F401
from mechsim.testing.core import assert_probability_vector, assert_stochastic_tensor, probability_vectors, seeds, stochastic_tensors  # noqa: F401,E501
from mechsim.testing.hiring import assert_hiring_incentive_compatible, hiring_instances, mechanisms  # noqa: F401,E501
from mechsim.testing.committees import committee_instances, group_structures, rankings_profiles  # noqa: F401
from mechsim.testing.cmdp import finite_cmdps  # noqa: F401
