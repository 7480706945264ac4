"""The whole Diehl & Cook network as one hierarchical Process."""
