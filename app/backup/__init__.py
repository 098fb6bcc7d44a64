"""Backups of the database, the evidence files and the keys: create, restore, verify."""
