"""The demo account: fixed, public, harmless credentials for `serve --demo` and `chat`.

They only ever talk to the local sandbox, never to WeChat.
"""

from __future__ import annotations

DEMO_SANDBOX_PORT = 8081

DEMO_ACCOUNT = {
    "WECHAT_TOKEN": "demotoken",
    "WECHAT_APP_ID": "wxd0d0d0d0d0d0d0d0",
    "WECHAT_APP_SECRET": "demo-secret-not-for-production",
    "WECHAT_AES_KEY": "DemoAesKeyForTheLocalSandbox0000000000000ab",
    "WECHAT_ACCOUNT": "gh_demo00000000",
}


def demo_config(sandbox_url: str) -> dict[str, object]:
    return {key: value for key, value in DEMO_ACCOUNT.items() if key != "WECHAT_ACCOUNT"} | {
        "WECHAT_API_BASE": sandbox_url,
    }
