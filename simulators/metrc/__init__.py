"""A local METRC v2 API for the demo, the benchmarks and the tests (docs/metrc.md)."""

from simulators.metrc.app import create_metrc_app
from simulators.metrc.state import MetrcFaults, MetrcState

__all__ = ["MetrcFaults", "MetrcState", "create_metrc_app"]
