"""The public blueprint, with every public page registered on it.

Routes live in small modules by page; importing them here registers them on `bp`.
"""

from opdigital.public import cycle_pages, home, proposal_pages, submit  # noqa: F401
from opdigital.public.blueprint import bp

__all__ = ["bp"]
