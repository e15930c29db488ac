"""The fuzz suite's entry tables, one module per area; :data:`ENTRIES` collects them."""

from fuzz.auction_env import ENTRIES as AUCTION_ENV
from fuzz.bidding import ENTRIES as BIDDING
from fuzz.cmdp import ENTRIES as CMDP
from fuzz.committees import ENTRIES as COMMITTEES
from fuzz.core import ENTRIES as CORE
from fuzz.debate import ENTRIES as DEBATE
from fuzz.design import ENTRIES as DESIGN
from fuzz.dynamics import ENTRIES as DYNAMICS
from fuzz.equilibria import ENTRIES as EQUILIBRIA
from fuzz.hiring import ENTRIES as HIRING
from fuzz.ma_vector import ENTRIES as MA_VECTOR
from fuzz.neural_debaters import ENTRIES as NEURAL_DEBATERS
from fuzz.vector_envs import ENTRIES as VECTOR_ENVS

ENTRIES = [*AUCTION_ENV, *BIDDING, *CMDP, *COMMITTEES, *CORE, *DEBATE, *DESIGN, *DYNAMICS, *EQUILIBRIA, *HIRING,
           *MA_VECTOR, *NEURAL_DEBATERS, *VECTOR_ENVS]
