"""Chat handlers, one router per conversation area.

The order of ROUTERS is the precedence: earlier routers win, and `menu` holds the catch-all,
so it stays last. Later areas (browse, order, bargain, service) slot in before it.
"""

from handlers import menu, subscribe

ROUTERS = [
    subscribe.router,
    menu.router,  # help and the catch-all: keep last
]
