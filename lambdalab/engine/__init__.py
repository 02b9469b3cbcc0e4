"""Lambda in virtual time: scenario -> validated model -> run -> metrics -> report.

Nothing here imports Textual or reads the wall clock; see tests/test_layering.py.
"""

from lambdalab.engine.scenario import load_scenario, parse_scenario
from lambdalab.engine.simulation import Simulation

__all__ = ["Simulation", "load_scenario", "parse_scenario"]
