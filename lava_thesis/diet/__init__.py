"""DIET-SNN: direct input, per-layer learnable leak and threshold (method 4)."""

from lava_thesis.diet.model import DietSNN, parse_spec

__all__ = ["DietSNN", "parse_spec"]
