"""Detection layer: identity graph, candidate rings, features, evidence codes, scorers, ``detect()``.

Pure functions of frames and arrays; no workspace, no I/O.
"""
