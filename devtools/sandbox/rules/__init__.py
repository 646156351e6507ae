"""The sandbox's business rules, one noun per module: no Flask, the time is always passed in.

Each class is plain and not thread-safe; `devtools.sandbox.state.SandboxState` owns one of each and
the one lock that guards them all.
"""
