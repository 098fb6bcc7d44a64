"""A structure's members: their roles, and the invitations that bring new ones in."""
