"""Sync protocol: canonical entries, hash chains, signed checkpoints. Pure: no I/O."""
