"""The generators of every results table, registered in :data:`TABLES` by the name a page's markers use.

``docs/gen_results.py`` renders them into the pages; each module here holds one area's tables.
"""

from results_tables import exploration, headline, hierarchy, reward, scale  # noqa: F401  (they register)
from results_tables.base import TABLES, bootstrap_ci, find, iqm

__all__ = ["TABLES", "bootstrap_ci", "find", "iqm"]
