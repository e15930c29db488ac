"""The fuzz suite's entry tables, one module per area; :data:`ENTRIES` collects them."""

from fuzz.cmdp import ENTRIES as CMDP
from fuzz.core import ENTRIES as CORE

ENTRIES = [*CORE, *CMDP]
