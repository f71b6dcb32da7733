"""Offline Azure emulator: Entra ID, ARM with RBAC, and the managed-identity endpoints, on loopback.

Run it with ``python -m azure_emulator --help``. See README.md in this directory.
"""

__version__ = "0.1.0"
