"""The world builder: one object holding the whole world as integer arrays while the steps run.

Its state and tools are in ``core``, the fraud steps in ``fraud``, the innocent structures in
``innocent``; ``world.generate_world`` calls the steps in a fixed order.
"""

from __future__ import annotations

from fraudgraph.synthetic.fraud import FraudSteps
from fraudgraph.synthetic.innocent import InnocentSteps


class WorldBuilder(FraudSteps, InnocentSteps):
    """Accumulates accounts, link observations and transactions as integer arrays."""
