"""Method 2: the image + audio ensembles with cross-modal STDP synapses as one Process."""
