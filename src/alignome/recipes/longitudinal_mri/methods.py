"""Names of the encoders paper 004 compares, as written in results tables."""

#: The contrastive encoder of paper 004.
CONTRASTIVE = "clinimcl"
#: The probes on a simulated cohort's true volumes (the ceiling).
ORACLE = "oracle"
#: The linear baseline on raw features: PCA of the preprocessed voxels, fitted on training subjects.
VOXEL_PCA = "voxels-pca"
