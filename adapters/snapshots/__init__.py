"""Stores for session snapshots (`SessionSnapshots`): memory, a shared folder, Redis."""
