"""The Apex Trading simulator: its data and switches, the HTTP app, and a seeded catalogue."""

from simulators.apex.app import create_apex_app
from simulators.apex.seed import NON_PREROLL, PREROLL_PRODUCTS, seed_apex
from simulators.apex.state import ApexState, Faults, RecordedRequest, apex_time

__all__ = [
    "NON_PREROLL",
    "PREROLL_PRODUCTS",
    "ApexState",
    "Faults",
    "RecordedRequest",
    "apex_time",
    "create_apex_app",
    "seed_apex",
]
