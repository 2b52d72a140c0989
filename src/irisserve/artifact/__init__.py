"""Artifact folders: the manifest, opening and verifying a folder, Cloud Storage, skops."""
