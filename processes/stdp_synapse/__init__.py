"""Plastic input synapses with power-law weight-dependent STDP, pruning mask and quantization."""
