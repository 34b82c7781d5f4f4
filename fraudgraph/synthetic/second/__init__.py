"""A second, independent world generator (issue 10): different people, ring tactics and innocent
look-alikes from ``fraudgraph.synthetic.world``, to judge detection on data it was not tuned on."""

from fraudgraph.synthetic.second.city import TRUTH_COLUMNS, CityWorld, generate_city, write_city
from fraudgraph.synthetic.second.fraud import LONE_KIND, TACTICS
from fraudgraph.synthetic.second.people import GROUP_KINDS

__all__ = ["GROUP_KINDS", "LONE_KIND", "TACTICS", "TRUTH_COLUMNS", "CityWorld", "generate_city", "write_city"]
