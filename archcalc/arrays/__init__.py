"""Array code shared by the layer types' forward functions and the executor, written once against
an array module `xp` (NumPy or CuPy): `kernels` (convolution, pooling, LRN, ...) and `workspace`
(scratch buffers reused between kernel calls)."""
