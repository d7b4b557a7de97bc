"""The ``mm-dim`` recipe kind: multimodal Deep InfoMax zoo on 3D T1 + fALFF, linear probes, introspection (paper 001)."""
