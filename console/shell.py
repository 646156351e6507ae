"""What every console area shares: its blueprint set-up, the navigation, the error pages.

A later area (content review, campaigns, catalog, the agent inbox) makes its blueprint with
`console_blueprint(...)` and adds its menu entry with `add_nav(...)`; it then gets CSRF
checks, security headers and the console's Chinese error pages without repeating them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app, render_template, request

from console.auth import check_csrf, current_account
from console.permissions import ROLES, can

# Everything the console shows comes from the app itself: no CDN, no inline scripts.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)

ERROR_TEXT = {
    400: ("请求无效", "表单已过期或缺少安全校验，请刷新页面后重试。"),
    403: ("没有权限", "您的角色不能使用这个页面。如需开通，请联系管理员。"),
    404: ("页面不存在", "请检查地址，或从导航重新进入。"),
    429: ("尝试过于频繁", "请稍后再试。"),
}


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    permission: str | None  # None: every signed-in account


def add_nav(app: Flask, label: str, endpoint: str, permission: str | None) -> None:
    app.extensions.setdefault("console_nav", []).append(NavItem(label, endpoint, permission))


def nav_for(role: str) -> list[NavItem]:
    """The menu entries this role may use, in the order they were added."""
    items = [
        item
        for item in current_app.extensions.get("console_nav", [])
        if item.permission is None or can(role, item.permission)
    ]
    return sorted(items, key=lambda item: item.permission is None)  # one's account last


def console_blueprint(name: str, import_name: str, url_prefix: str, **kwargs) -> Blueprint:
    """A blueprint for a console area, with CSRF, headers and error pages wired in."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix, **kwargs)
    bp.before_request(check_csrf)
    bp.after_request(_security_headers)
    for status in ERROR_TEXT:
        bp.register_error_handler(status, _error_page(status))
    bp.context_processor(_shell_context)
    return bp


def init_error_pages(app: Flask) -> None:
    """Routing misses answer in the caller's language: JSON under /api, a page under /admin."""

    @app.errorhandler(404)
    def not_found(_error: Exception):
        path = request.path
        if path.startswith("/api/"):
            return {"error": "not_found", "message": "no such resource"}, 404
        if path.startswith("/admin"):
            return _error_page(404)(_error)
        return Response("not found", 404, content_type="text/plain; charset=utf-8")


def _shell_context() -> dict:
    account = current_account()
    return {
        "account": account,
        "nav": nav_for(account.role) if account else [],
        "role_labels": ROLES,
    }


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _error_page(status: int):
    def handler(_error: Exception) -> tuple[str, int]:
        title, text = ERROR_TEXT[status]
        return render_template("console/error.html", title=title, text=text, status=status), status

    return handler
