"""`python -m bot chat` end to end: a transcript in, what the WeChat user would see out.

The webhook is the real app on a real port and the WeChat API is the real sandbox, so these
tests cover signing, safe mode, the sandbox's outbox and the simulator's rendering together.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from devtools.sandbox import serve_in_thread
from devtools.simulator import (
    BOT,
    INDENT,
    USER,
    UsageError,
    card,
    describe_reply,
    describe_sent,
    display_width,
    parse_action,
    run_chat,
)
from devtools.wechat_user import WeChatUser
from tests.conftest import AES_KEY, APP_ID, TOKEN

TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
OPENID = "oSimulatorTestUser0000000000"
FAST = 0.05  # seconds to poll the sandbox after each input; nothing here is sent late


@pytest.fixture()
def webhook(app) -> Iterator[str]:
    """The test app's webhook served on a free local port; yields its /wechat URL."""
    server = serve_in_thread(app)
    yield server.url + "/wechat"
    server.stop()


def free_url(path: str = "") -> str:
    """A local URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def chat(webhook: str, sandbox: str, script, **options) -> tuple[int, str]:
    out = io.StringIO()
    options = {"token": TOKEN, "app_id": APP_ID, "aes_key": AES_KEY, "wait": FAST} | options
    code = run_chat(webhook, sandbox, script=script, out=out, **options)
    return code, out.getvalue()


def exchanges(output: str) -> list[tuple[str, list[str]]]:
    """(what the user sent, each message shown after it without prefixes), in order."""
    pairs = []
    for block in output.split("\n" + USER)[1:]:
        said, _, shown = block.partition("\n")
        messages = [m.replace("\n" + INDENT, "\n") for m in shown.split(BOT) if m.strip()]
        pairs.append((said, [m.rstrip("\n") for m in messages]))
    return pairs


# --- the transcript, as the user sees it -----------------------------------------------------


@pytest.mark.parametrize("aes", [False, True], ids=["plain", "safe-mode"])
def test_first_visit_transcript(webhook: str, sandbox: str, aes: bool) -> None:
    script = (TRANSCRIPTS / "first_visit.txt").open(encoding="utf-8")
    with script:
        code, output = chat(webhook, sandbox, script, aes=aes, openid=OPENID)

    assert code == 0
    assert f"你的 openid：{OPENID}" in output
    assert ("安全模式" if aes else "明文模式") in output
    assert "webhook 返回" not in output and "（沙箱" not in output
    seen = dict(exchanges(output))
    assert list(seen) == [
        "/subscribe poster_spring",
        "帮助",
        "/click MENU_HELP",
        "今天天气怎么样",
        "/image",
        "/location 39.9 116.4",
        "/unsubscribe",
    ]
    assert seen["/subscribe poster_spring"][0].startswith("欢迎关注！")
    assert seen["帮助"] == seen["/click MENU_HELP"]
    assert seen["帮助"][0].startswith("您可以：\n1. ")
    assert seen["今天天气怎么样"][0].startswith("抱歉，暂时没有找到「今天天气怎么样」的答案。")
    for action in ("/image", "/location 39.9 116.4"):
        assert len(seen[action]) == 1 and seen[action][0].strip()
    assert seen["/unsubscribe"] == ["（无回复）"]


def test_multiline_replies_line_up_under_the_prefix(webhook: str, sandbox: str) -> None:
    _, output = chat(webhook, sandbox, io.StringIO("帮助\n"))

    reply = output.split(USER + "帮助\n", 1)[1]
    first, *rest = reply.rstrip("\n").split("\n")
    assert first == BOT + "您可以："
    assert rest and all(line.startswith(INDENT + line.strip()[:1]) for line in rest)


def test_the_sandbox_learns_what_the_user_did(webhook: str, sandbox: str) -> None:
    chat(webhook, sandbox, io.StringIO("/subscribe poster_spring\n"), openid=OPENID)
    user = requests.get(f"{sandbox}/sandbox/users/{OPENID}", timeout=5).json()
    assert user["info"]["subscribe"] == 1
    assert user["windows"], "a follow opens the customer-service window"

    chat(webhook, sandbox, io.StringIO("/unsubscribe\n"), openid=OPENID)
    user = requests.get(f"{sandbox}/sandbox/users/{OPENID}", timeout=5).json()
    assert user["info"]["subscribe"] == 0


# --- what the server sends through the API ---------------------------------------------------


class HookedScript:
    """A transcript that runs a server-side action just before the user types a given line."""

    def __init__(self, lines: list[str], before: dict[str, Callable[[], object]]):
        self.lines, self.before = lines, before

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            if line in self.before:
                self.before[line]()
            yield line


def test_api_messages_since_the_last_input_are_shown(app, webhook: str, sandbox: str) -> None:
    api, outbox = app.extensions["wechat_api"], app.extensions["outbox"]
    template = {
        "touser": OPENID,
        "template_id": "TPL_SHIPPED",
        "url": "https://shop.example/o/1",
        "data": {"first": {"value": "您的订单已发货"}, "keyword1": {"value": "顺丰"}},
    }

    def ship() -> None:
        api.call("POST", "/cgi-bin/message/template/send", template)
        outbox.send(OPENID, "快递单号 SF123，请留意查收。")  # async: arrives during the poll

    script = HookedScript(["/subscribe", "我的快递呢"], {"我的快递呢": ship})
    code, output = chat(webhook, sandbox, script, openid=OPENID, wait=0.3)

    assert code == 0
    (_, welcome), (_, shipped) = exchanges(output)
    assert len(welcome) == 1, "nothing was sent before the first input"
    assert shipped[0] == "您还没有订单。回复「逛逛」看看吧～"
    assert shipped[1:] == [
        "【模板消息】TPL_SHIPPED\n  first：您的订单已发货\n  keyword1：顺丰\n"
        "  链接：https://shop.example/o/1",
        "【客服消息】快递单号 SF123，请留意查收。",
    ]


def interacts(sandbox: str, *openids: str) -> None:
    """These users wrote to the account (WeChat then lets it send to them)."""
    for openid in openids:
        answer = requests.post(f"{sandbox}/sandbox/inbound",
                               json={"openid": openid, "kind": "subscribe"}, timeout=5)
        assert answer.ok


def before_the_first_input(output: str) -> list[str]:
    """What the simulator showed between its banner and the first input."""
    opening = output.split("\n" + USER, 1)[0]
    return [m.replace("\n" + INDENT, "\n").rstrip("\n") for m in opening.split(BOT)[1:]]


def test_13_what_was_sent_while_closed_is_shown_on_the_next_start(
        app, webhook: str, sandbox: str) -> None:
    api, someone = app.extensions["wechat_api"], "oSomeoneElse0000000000000000"
    interacts(sandbox, OPENID, someone)
    api.send_text(OPENID, "以前的消息")  # history from before the simulator used this openid
    chat(webhook, sandbox, io.StringIO("/subscribe\n"), openid=OPENID)
    api.send_text(OPENID, "客服：您的口红已补发")  # an agent answers while the simulator is closed
    api.send_text(someone, "别人的消息")

    _, output = chat(webhook, sandbox, io.StringIO("帮助\n"), openid=OPENID)
    assert "（你不在时收到 1 条消息）" in output
    assert before_the_first_input(output) == ["【客服消息】客服：您的口红已补发"]
    assert "以前的消息" not in output and "别人的消息" not in output

    _, again = chat(webhook, sandbox, io.StringIO("帮助\n"), openid=OPENID)
    assert "你不在时" not in again and "补发" not in again  # shown once


def test_13_a_sandbox_started_afresh_shows_all_it_holds_for_the_openid(
        app, webhook: str, sandbox: str, simulator_marks) -> None:
    chat(webhook, sandbox, io.StringIO("/subscribe\n"), openid=OPENID)
    app.extensions["wechat_api"].send_text(OPENID, "新的沙箱里的消息")
    marks = json.loads(simulator_marks.read_text(encoding="utf-8"))
    simulator_marks.write_text(json.dumps({key: 1000 for key in marks}), encoding="utf-8")

    _, output = chat(webhook, sandbox, io.StringIO("帮助\n"), openid=OPENID)
    assert before_the_first_input(output) == ["【客服消息】新的沙箱里的消息"]


def test_a_fresh_openid_does_not_replay_history(app, webhook: str, sandbox: str) -> None:
    interacts(sandbox, OPENID)
    app.extensions["wechat_api"].send_text(OPENID, "旧消息")
    _, output = chat(webhook, sandbox, io.StringIO("帮助\n"), openid=OPENID)
    assert "旧消息" not in output


# --- when something is wrong -----------------------------------------------------------------


def test_unreachable_webhook_is_one_clear_line() -> None:
    url = free_url("/wechat")
    code, output = chat(url, free_url(), io.StringIO("你好\n"))
    assert code == 1
    assert output == f"无法连接 {url}：先运行 make run\n"


def test_unreachable_sandbox_is_said_once(webhook: str) -> None:
    sandbox = free_url()
    code, output = chat(webhook, sandbox, io.StringIO("帮助\n你好\n"))
    assert code == 0
    assert output.count(f"（沙箱 {sandbox} 无法连接") == 1
    assert [said for said, _ in exchanges(output)] == ["帮助", "你好"]
    assert all(shown for _, shown in exchanges(output))


def test_a_refused_request_shows_the_status(webhook: str, sandbox: str) -> None:
    _, output = chat(webhook, sandbox, io.StringIO("你好\n"), token="not-the-token")
    assert "webhook 返回 HTTP 403: " in output


def test_help_comments_bad_commands_and_quit(webhook: str, sandbox: str) -> None:
    script = io.StringIO("# a comment\n\n/help\n/click\n/dance\n/quit\n帮助\n")
    code, output = chat(webhook, sandbox, script)
    assert code == 0
    assert "/location LAT LNG [地名]" in output  # the label the address step reads
    assert "用法：/click KEY" in output
    assert "未知命令 /dance" in output
    assert "a comment" not in output
    assert USER + "帮助" not in output, "nothing runs after /quit"


# --- the pieces ------------------------------------------------------------------------------


def test_inputs_become_the_right_wechat_actions() -> None:
    user = WeChatUser(token=TOKEN, app_id=APP_ID)
    subscribe = parse_action("/subscribe poster_spring", user)
    assert (subscribe.kind, subscribe.scene) == ("subscribe", "poster_spring")
    assert "qrscene_poster_spring" in subscribe.xml
    assert parse_action("/scan s1", user).kind == "scan"
    assert parse_action("/click MENU_HELP", user).kind == "click"
    location = parse_action("/location 39.9 116.4", user)
    assert location.kind == "message" and "<Location_X>39.9</Location_X>" in location.xml
    assert "<Content><![CDATA[/::)]]></Content>" in parse_action("//::)", user).xml
    with pytest.raises(UsageError):
        parse_action("/location north", user)


def test_replies_render_as_the_user_sees_them() -> None:
    news = (
        b"<xml><MsgType><![CDATA[news]]></MsgType><ArticleCount>1</ArticleCount><Articles>"
        b"<item><Title><![CDATA[\xe6\x98\xa5\xe5\xad\xa3\xe4\xb8\x8a\xe6\x96\xb0]]></Title>"
        b"<Description><![CDATA[new]]></Description><Url><![CDATA[https://x.cn/a]]></Url>"
        b"</item></Articles></xml>"
    )
    assert describe_reply(news) == card("春季上新", "new", "https://x.cn/a")
    assert (
        describe_reply(b"<xml><MsgType>transfer_customer_service</MsgType></xml>")
        == "（已转接人工客服）"
    )
    assert describe_reply(b"success") == describe_reply(b"") == "（无回复）"


def test_a_card_is_a_closed_box() -> None:
    lines = card("春季上新：全场八折起", "一段很长的描述" * 10, "https://shop.example/p/1").split(
        "\n"
    )
    assert lines[0].startswith("┌") and lines[-1].startswith("└")
    assert len({display_width(line) for line in lines}) == 1
    assert any("链接：https://shop.example" in line for line in lines)


def test_other_api_messages_are_labelled() -> None:
    def sent(api: str, msgtype: str, body: dict) -> str:
        return describe_sent({"id": 1, "api": api, "msgtype": msgtype, "body": body})

    assert sent("custom/send", "image", {"image": {"media_id": "m"}}) == "【客服消息】[图片]"
    assert (
        sent(
            "subscribe/bizsend",
            "subscribe",
            {"template_id": "T", "data": {"thing1": {"value": "到货"}}},
        )
        == "【订阅通知】T\n  thing1：到货"
    )
    assert sent("mass/sendall", "text", {"text": {"content": "周末特惠"}}) == "【群发消息】周末特惠"
