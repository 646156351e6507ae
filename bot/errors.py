"""The protocol's one error type, shared by parsing and crypto without an import cycle."""


class ProtocolError(Exception):
    """Input that did not come from WeChat, or came broken. `status` is the HTTP answer."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.reason = reason
        self.status = status
