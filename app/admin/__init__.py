"""The administration pages (`/admin`): accounts, structures, the audit log, the catalog installed."""
