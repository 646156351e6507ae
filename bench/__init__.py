"""Benchmarks (not part of the bot). See webhook_bench.py."""
