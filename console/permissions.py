"""Roles and what each may use: one table shared by the pages, the API and the navigation.

Later areas name their permission here when they add their pages, so a newcomer finds every
rule of who-sees-what in one place.
"""

from __future__ import annotations

#: Role → the label the console shows.
ROLES: dict[str, str] = {
    "admin": "管理员",
    "manager": "运营",
    "compliance": "合规审核",
    "agent": "客服",
}

#: Permission → the roles that have it. Admins have every permission.
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard": frozenset({"manager"}),
    "accounts": frozenset(),  # admin only
    "audit_log": frozenset(),  # admin only
    "catalog": frozenset({"manager"}),
    "orders": frozenset({"manager"}),
    "customers": frozenset({"manager", "agent"}),  # agents see who they are helping
    "campaigns": frozenset({"manager"}),
    "promotions": frozenset({"manager"}),  # coupons, flash sales, points
    "review": frozenset({"compliance"}),
    "lexicon": frozenset({"compliance"}),
    "inbox": frozenset({"agent"}),
    "faq": frozenset({"manager", "agent"}),
}


def can(role: str | None, permission: str) -> bool:
    """Whether `role` may use `permission`; an unknown permission is nobody's but the admin's."""
    if role == "admin":
        return True
    return role in PERMISSIONS.get(permission, frozenset())


def permissions_of(role: str) -> list[str]:
    return sorted(name for name in PERMISSIONS if can(role, name))
