"""Analysis of learned embeddings: trajectory projections (UMAP) and distance figures.

Submodules are imported on use (``alignome.analysis.trajectories`` pulls in
umap-learn, whose first call compiles with numba).
"""
