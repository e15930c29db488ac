"""The fuzz suite's entry tables, one module per area; :data:`ENTRIES` collects them."""

from fuzz.committees import ENTRIES as COMMITTEES
from fuzz.core import ENTRIES as CORE

ENTRIES = [*CORE, *COMMITTEES]
