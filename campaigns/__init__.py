"""Segments, scheduled pushes and the sender. For now: the scheduler and its job table."""
