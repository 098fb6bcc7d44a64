"""Personal data: a structure's data in one archive, and the erasure of a structure."""
