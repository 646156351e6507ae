"""A local fake of WeChat's official-account HTTP API (paths, JSON shapes, error codes).

Tests, the chat simulator and demo runs talk to it instead of api.weixin.qq.com; /sandbox/*
endpoints let them play the user's side and inspect what the shop sent.
"""

from devtools.sandbox.app import create_sandbox_app
from devtools.sandbox.server import SandboxServer, serve_in_thread

__all__ = ["SandboxServer", "create_sandbox_app", "serve_in_thread"]
