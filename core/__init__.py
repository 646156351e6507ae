"""The foundation every other package stands on: SQL and Redis handles, the clock,
configuration, logging, money and text normalisation.

It imports nothing from the packages above it (`lint-imports` checks), so the chat, the
console, the jobs and the developer tools can all share it without a cycle.
"""
