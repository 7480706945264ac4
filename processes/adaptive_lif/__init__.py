"""Diehl & Cook excitatory neuron: Lava's refractory LIF with an adaptive threshold."""
