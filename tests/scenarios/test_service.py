"""Issue 6's whole path from `python -m bot chat`: ask, reach a person, an agent answers in
the console, the customer writes back, the agent closes, and the rating arrives."""

from __future__ import annotations

import io
import re
import threading
import time
from pathlib import Path

from console import accounts
from customer_service.tickets import Ticket
from devtools.demo import seed_faq
from devtools.simulator import run_chat
from tests.conftest import AES_KEY, APP_ID, TOKEN
from tests.console.conftest import PASSWORD, signed_in
from tests.scenarios.test_simulator import exchanges

TRANSCRIPT = Path(__file__).resolve().parent / "transcripts" / "service.txt"
OPENID = "oServiceTestUser000000000000"


def chat(url: str, sandbox: str, lines: str) -> dict[str, list[str]]:
    out = io.StringIO()
    code = run_chat(f"{url}/wechat", sandbox, script=io.StringIO(lines), out=out, token=TOKEN,
                    app_id=APP_ID, aes_key=AES_KEY, openid=OPENID, wait=0.6)
    assert code == 0, out.getvalue()
    return dict(exchanges(out.getvalue()))


def chat_while(url: str, sandbox: str, lines: str, act) -> dict[str, list[str]]:
    """The customer has the simulator open (/wait) while an agent acts in the console."""
    result: dict[str, dict[str, list[str]]] = {}
    waiting = threading.Thread(target=lambda: result.update(seen=chat(url, sandbox, lines)))
    waiting.start()
    time.sleep(1.0)  # the simulator has started and is waiting
    act()
    waiting.join(timeout=30)
    return result["seen"]


def test_ask_reach_a_person_get_an_answer_and_rate_it(shop):
    base = shop.storage.wxpay.config.notify_url.removesuffix("/shop/wxpay/notify")
    seed_faq(shop.storage.sessions)
    with shop.storage.sessions.begin() as db:
        accounts.create(db, "agent", "agent", PASSWORD)

    seen = chat(base, shop.sandbox, TRANSCRIPT.read_text(encoding="utf-8"))
    assert seen["退货怎么办"][0].startswith("签收后 7 天内支持无理由退货")
    assert seen["可以送货上门吗"][0].startswith("抱歉，暂时没有找到「可以送货上门吗」的答案。")
    handed = seen["人工"][0]  # in hours or not, the customer learns their ticket number
    ticket_id = int(re.search(r"工单 #(\d+)", handed).group(1))

    agent = signed_in(shop.app, "agent")
    assert f"#{ticket_id}" in agent.get("/admin/service/").text
    agent.post(f"/admin/service/tickets/{ticket_id}/claim")
    page = agent.get(f"/admin/service/tickets/{ticket_id}").text
    assert "可以送货上门吗" in page  # the question the FAQ missed came with the customer
    answer = "您好，杭州市区可以送货上门。"
    later = chat_while(base, shop.sandbox, "/wait 10\n好的，谢谢\n", lambda: agent.post(
        f"/admin/service/tickets/{ticket_id}/reply", {"body": answer}))
    assert any("可以送货上门" in m for m in later["/wait 10"])
    assert later["好的，谢谢"] == ["（无回复）"]  # it goes to the agent, not the bot

    agent.get(f"/admin/service/tickets/{ticket_id}")
    rated = chat_while(base, shop.sandbox, "/wait 10\n5\n", lambda: agent.post(
        f"/admin/service/tickets/{ticket_id}/close"))
    assert any("请为本次服务打分" in m for m in rated["/wait 10"])
    assert rated["5"][0] == "感谢您的评价（5 分）！我们会继续改进。"
    with shop.storage.sessions() as db:
        ticket = db.get(Ticket, ticket_id)
        assert (ticket.state, ticket.rating, ticket.agent) == ("closed", 5, "agent")
