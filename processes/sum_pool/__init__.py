"""``SumPool``: spiking sum pooling over square windows, one weight (floating and fixed point)."""
