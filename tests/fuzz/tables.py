"""The fuzz suite's entry tables, one module per area; :data:`ENTRIES` collects them."""

from fuzz.core import ENTRIES as CORE
from fuzz.hiring import ENTRIES as HIRING

ENTRIES = [*CORE, *HIRING]
