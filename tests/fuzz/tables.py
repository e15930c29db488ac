"""The fuzz suite's entry tables, one module per area; :data:`ENTRIES` collects them."""

from fuzz.cmdp import ENTRIES as CMDP
from fuzz.committees import ENTRIES as COMMITTEES
from fuzz.core import ENTRIES as CORE
from fuzz.debate import ENTRIES as DEBATE
from fuzz.design import ENTRIES as DESIGN
from fuzz.equilibria import ENTRIES as EQUILIBRIA
from fuzz.hiring import ENTRIES as HIRING

ENTRIES = [*CMDP, *COMMITTEES, *CORE, *DEBATE, *DESIGN, *EQUILIBRIA, *HIRING]
