"""Deployment of trained SLAYER networks: ``netx_export`` writes a netx ``.net`` file (HDF5),
``netx_run`` runs one in Lava's CPU simulator (fixed or floating point; output spikes or the
last layer's voltage), ``nir_export`` writes a NIR graph for other simulators and chips."""
