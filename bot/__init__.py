"""The WeChat side of the shop: webhook, protocol, routing, storage, sandbox and CLI."""
