"""A fixed-point ProcessModel for lava's own ``Conv`` Process that honours ``weight_exp``."""
