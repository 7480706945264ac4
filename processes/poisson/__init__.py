"""Poisson spike source for rate-coded inputs (images, spectrograms)."""
