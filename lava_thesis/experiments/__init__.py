"""Experiment entry points: each takes plain arguments, writes results JSON + plots, returns
the metrics. The CLI (`lava-thesis train ...`) only parses arguments and calls these."""
