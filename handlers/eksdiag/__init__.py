"""eksdiag: Amazon EKS worker-node diagnostics from log bundles."""

__version__ = "0.1.0"
