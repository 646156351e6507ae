"""`python -m bot chat`: be a WeChat user of the demo account, from a terminal or a transcript.

Each input goes where WeChat would send it: first the sandbox learns the user acted (which opens
the 48-hour customer-service window), then the webhook gets the signed (optionally encrypted)
XML. The passive reply is printed, then whatever the server sent this user through the API
(customer-service, template, subscription and mass messages), read back from the sandbox.
Output is plain lines with fixed prefixes so a test can assert on what the user would see.

Started again with the same --openid, it first shows what the server sent while it was closed
(an agent's reply, a shipping notice): the last message each openid was shown is kept in
BOT_DATA_DIR/chat_seen.json, as a phone keeps a chat's read mark.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import socket
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import requests

from bot.inbound import parse_xml_fields
from bot.wechat import MessageCrypto, ProtocolError
from devtools.demo import DEMO_ACCOUNT
from devtools.wechat_user import WeChatUser, read_reply

USER = "你: "
BOT = "公众号: "
INDENT = " " * 8  # the display width of BOT, so multi-line replies line up under it
CARD_WIDTH = 40  # text columns inside a news card's box
SANDBOX_TIMEOUT = 2.0  # the sandbox is local; never let it stall the conversation
POLL_INTERVAL = 0.1
BODY_PREVIEW = 200  # characters of a non-200 webhook answer worth showing
SEEN_FILE = "chat_seen.json"  # under BOT_DATA_DIR: the last message shown, per sandbox and openid
MISSED_SHOWN = 20  # messages from while the simulator was closed shown at most, newest kept

HELP = """命令：
  文字                 发一条文字消息（以 / 开头的文字写成 //…）
  /click KEY           点击菜单，如 /click MENU_HELP
  /subscribe           关注公众号
  /subscribe SCENE     扫带参数二维码关注（EventKey 为 qrscene_SCENE）
  /scan SCENE          已关注时扫带参数二维码
  /location LAT LNG [地名]
                       发送位置，地名可省略，如 /location 30.27 120.15 杭州西湖区文一路5号
                       （下单填地址时，地名就是位置里的地址）
  /image               发送一张图片
  /unsubscribe         取消关注
  /as 名字             换成另一位用户（同一名字在同一次对话里是同一个人），如 /as 小王；
                       /as 我 换回自己
                       脚本里写 {砍价码} 会换成最近一次回复里的砍价码
  /pay                 在微信支付沙箱里支付你最近一笔待付款订单
  /wait [秒]           等客服在后台回复（默认 30 秒，有消息就显示）
  /help                显示本帮助
  /quit                退出（也可按 Ctrl-D）"""

PLACEHOLDERS = {
    "image": "图片",
    "voice": "语音",
    "video": "视频",
    "music": "音乐",
    "mpnews": "图文",
    "wxcard": "卡券",
    "miniprogrampage": "小程序卡片",
}


#: The name of the person the simulator starts as (/as 我 comes back to them).
ME = "我"
#: A bargain's code as the account shows it (handlers/bargain.py), caught for {砍价码}.
CODE_SHOWN = re.compile(r"砍价码：([A-Z0-9]{6})")


class UsageError(ValueError):
    """An input line the simulator can't turn into a WeChat action; the text says why."""


class WebhookUnreachable(Exception):
    """The webhook refused the connection: nothing is listening, so the chat can't go on."""


@dataclass(frozen=True)
class Action:
    """One thing the user did: what the sandbox is told, and the XML WeChat would post."""

    kind: str  # a sandbox /sandbox/inbound kind
    xml: str
    scene: str | None = None


# --- input lines → actions -------------------------------------------------------------------


def _one_arg(args: list[str], usage: str) -> str:
    if len(args) != 1:
        raise UsageError(f"用法：{usage}")
    return args[0]


def _no_args(args: list[str], usage: str) -> None:
    if args:
        raise UsageError(f"用法：{usage}")


def _click(user: WeChatUser, args: list[str]) -> Action:
    return Action("click", user.click(_one_arg(args, "/click KEY")))


def _subscribe(user: WeChatUser, args: list[str]) -> Action:
    if len(args) > 1:
        raise UsageError("用法：/subscribe 或 /subscribe SCENE")
    scene = args[0] if args else None
    return Action("subscribe", user.subscribe(scene), scene)


def _scan(user: WeChatUser, args: list[str]) -> Action:
    scene = _one_arg(args, "/scan SCENE")
    return Action("scan", user.scan(scene), scene)


def _location(user: WeChatUser, args: list[str]) -> Action:
    """WeChat sends Location_X as the latitude and Location_Y as the longitude; the rest of the
    line is the place's Label, which the address step reads like a typed address."""
    try:
        lat, lng = float(args[0]), float(args[1])
    except (IndexError, ValueError):
        raise UsageError(
            "用法：/location LAT LNG [地名]，如 /location 30.27 120.15 杭州西湖区文一路5号"
        ) from None
    return Action("message", user.location(lat, lng, " ".join(args[2:])))


def _image(user: WeChatUser, args: list[str]) -> Action:
    _no_args(args, "/image")
    return Action("message", user.image())


def _unsubscribe(user: WeChatUser, args: list[str]) -> Action:
    _no_args(args, "/unsubscribe")
    return Action("unsubscribe", user.unsubscribe())


BUILDERS: dict[str, Callable[[WeChatUser, list[str]], Action]] = {
    "/click": _click,
    "/subscribe": _subscribe,
    "/scan": _scan,
    "/location": _location,
    "/image": _image,
    "/unsubscribe": _unsubscribe,
}


def parse_action(line: str, user: WeChatUser) -> Action:
    """Plain text is a message; `//x` sends the text `/x` (WeChat emoji codes start with /)."""
    if line.startswith("//") or not line.startswith("/"):
        return Action("message", user.text(line[1:] if line.startswith("//") else line))
    command, *args = line.split()
    builder = BUILDERS.get(command.lower())
    if builder is None:
        raise UsageError(f"未知命令 {command}，输入 /help 查看命令")
    return builder(user, args)


# --- what the user sees ----------------------------------------------------------------------


def display_width(text: str) -> int:
    """Terminal columns: CJK and full-width characters take two, combining marks none."""
    return sum(
        0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def wrap(text: str, width: int) -> list[str]:
    """Break text into lines of at most `width` columns (hard breaks: CJK has no spaces)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for ch in paragraph:
            if line and display_width(line + ch) > width:
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    return lines


def card(title: str, description: str = "", url: str = "") -> str:
    """A news article drawn as a box: title, description, then its link."""
    rows = wrap(title or "（无标题）", CARD_WIDTH)
    if description:
        rows += wrap(description, CARD_WIDTH)
    if url:
        rows += wrap("链接：" + url, CARD_WIDTH)
    inner = max(display_width(row) for row in rows)
    body = [f"│ {row}{' ' * (inner - display_width(row))} │" for row in rows]
    return "\n".join(["┌" + "─" * (inner + 2) + "┐", *body, "└" + "─" * (inner + 2) + "┘"])


def _articles(fields: dict[str, Any]) -> list[dict[str, Any]]:
    """Articles/item parses as one dict for one article and a list for several."""
    items = (fields.get("Articles") or {}).get("item") or []
    return items if isinstance(items, list) else [items]


def describe_reply(xml: bytes) -> str:
    """The passive reply XML as the user would see it in the chat."""
    if xml.strip() in (b"", b"success"):
        return "（无回复）"
    fields = parse_xml_fields(xml)
    msg_type = fields.get("MsgType", "")
    if msg_type == "text":
        return fields.get("Content", "")
    if msg_type == "news":
        return "\n".join(
            card(a.get("Title", ""), a.get("Description", ""), a.get("Url", ""))
            for a in _articles(fields)
        )
    if msg_type == "transfer_customer_service":
        return "（已转接人工客服）"
    return f"[{PLACEHOLDERS.get(msg_type, msg_type or '未知')}消息]"


def _data_lines(data: dict[str, Any]) -> list[str]:
    """Template and subscription-notice fields: `{"first": {"value": "…"}}` → `first：…`."""
    return [
        f"  {key}：{value.get('value', '') if isinstance(value, dict) else value}"
        for key, value in (data or {}).items()
    ]


def _custom_body(msgtype: str, body: dict[str, Any]) -> str:
    content = body.get(msgtype) or {}
    if msgtype == "text":
        return content.get("content", "")
    if msgtype == "news":
        return "\n".join(
            card(a.get("title", ""), a.get("description", ""), a.get("url", ""))
            for a in content.get("articles", [])
        )
    if msgtype == "msgmenu":
        items = [f"  · {item.get('content', '')}" for item in content.get("list", [])]
        return "\n".join([content.get("head_content", ""), *items, content.get("tail_content", "")])
    return f"[{PLACEHOLDERS.get(msgtype, msgtype)}]"


def _notice(label: str, body: dict[str, Any], link_key: str) -> str:
    lines = [f"{label}{body.get('template_id', '')}", *_data_lines(body.get("data") or {})]
    if body.get(link_key):
        lines.append(f"  链接：{body[link_key]}")
    return "\n".join(lines)


def describe_sent(message: dict[str, Any]) -> str:
    """One sandbox outbox entry as the user would see it, labelled by how it was sent."""
    api, msgtype, body = message.get("api", ""), message.get("msgtype") or "", message["body"]
    if api == "custom/send":
        return "【客服消息】" + _custom_body(msgtype, body)
    if api == "template/send":
        return _notice("【模板消息】", body, "url")
    if api == "subscribe/bizsend":
        return _notice("【订阅通知】", body, "page")
    if api.startswith("mass/"):
        return "【群发消息】" + _custom_body(msgtype, body)
    return f"【{api}】{msgtype}"


# --- the conversation ------------------------------------------------------------------------


@dataclass
class ChatSession:
    """One user's conversation: posts to the webhook, reads back the sandbox's outbox."""

    url: str
    sandbox_url: str
    user: WeChatUser
    out: TextIO
    timeout: float = 10.0
    wait: float = 0.3
    since: int = 0
    seen_file: Path | None = None  # where the last message shown is kept between runs
    http: requests.Session = field(default_factory=requests.Session)
    _said: set[str] = field(default_factory=set)
    #: The people a transcript plays (/as NAME), each with the last message they were shown.
    _people: dict[str, tuple[WeChatUser, int]] = field(default_factory=dict)
    #: Values a script can use, caught from what the account said: {砍价码}.
    caught: dict[str, str] = field(default_factory=dict)

    def become(self, name: str) -> None:
        """/as NAME: go on as another customer (a starter and their friends in one script);
        the same name is the same openid for the whole conversation."""
        self._people.setdefault(ME, (self.user, self.since))
        self._people[self.current_name()] = (self.user, self.since)
        if name not in self._people:
            digest = hashlib.sha1(f"{self.user.openid}:{name}".encode()).hexdigest()
            other = replace(self.user, openid="o" + digest[:27])
            self._people[name] = (other, self.since)
        self.user, self.since = self._people[name]
        self.write(f"（现在是「{name}」，openid {self.user.openid}）")

    def current_name(self) -> str:
        return next((name for name, (user, _) in self._people.items() if user is self.user), ME)

    def fill(self, line: str) -> str:
        """A script line with the values caught so far put in."""
        for name, value in self.caught.items():
            line = line.replace("{" + name + "}", value)
        return line

    @cached_property
    def crypto(self) -> MessageCrypto | None:
        if not self.user.aes_key:
            return None
        return MessageCrypto(self.user.token, self.user.aes_key, self.user.app_id)

    def write(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def say(self, text: str) -> None:
        """A message from the account, continuation lines indented under the prefix."""
        if code := CODE_SHOWN.search(text):
            self.caught["砍价码"] = code.group(1)
        first, *rest = text.split("\n")
        self.write("\n".join([BOT + first, *(INDENT + line if line else "" for line in rest)]))

    def note_once(self, text: str) -> None:
        """Say a sandbox problem once per session rather than after every input."""
        if text not in self._said:
            self._said.add(text)
            self.write(text)

    def sandbox(self, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        """Call a control endpoint; None (after saying why, once) when the sandbox fails."""
        try:
            response = self.http.request(
                method, self.sandbox_url.rstrip("/") + path, timeout=SANDBOX_TIMEOUT, **kwargs
            )
        except requests.RequestException:
            self.note_once(f"（沙箱 {self.sandbox_url} 无法连接：客服消息和模板消息不会显示）")
            return None
        if response.status_code != 200:
            self.note_once(
                f"（沙箱 {path} 返回 HTTP {response.status_code}: "
                f"{response.text.strip()[:BODY_PREVIEW]}）"
            )
            return None
        return response.json()

    def start(self) -> None:
        """Show what reached this openid while the simulator was closed: the messages after the
        last one it was shown. An openid never shown anything here starts at the sandbox's
        last message (its history stays out of the way), as before."""
        found = self.sandbox("GET", "/sandbox/sent", params={"touser": self.user.openid})
        if found is None:
            return
        last_id = int(found.get("last_id") or 0)
        seen = self._seen_mark()
        if seen is not None:
            # A mark past the sandbox's last id: the sandbox started again and numbers afresh,
            # so everything it holds for this openid came after the mark.
            start = seen if seen <= last_id else 0
            self.show_missed([m for m in found.get("messages", []) if int(m["id"]) > start])
        self.since = last_id
        self._mark_seen()

    def show_missed(self, messages: list[dict[str, Any]]) -> None:
        if not messages:
            return
        self.write(f"（你不在时收到 {len(messages)} 条消息）")
        if len(messages) > MISSED_SHOWN:
            self.write(f"（只显示最近 {MISSED_SHOWN} 条）")
        for message in messages[-MISSED_SHOWN:]:
            self.say(describe_sent(message))

    def _seen_key(self) -> str:
        return f"{self.sandbox_url.rstrip('/')} {self.user.openid}"

    def _read_seen(self) -> dict[str, int]:
        if self.seen_file is None:
            return {}
        try:
            marks = json.loads(self.seen_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or damaged: start as if new
        return marks if isinstance(marks, dict) else {}

    def _seen_mark(self) -> int | None:
        mark = self._read_seen().get(self._seen_key())
        return mark if isinstance(mark, int) else None

    def _mark_seen(self) -> None:
        """Remember the last message shown; a file that cannot be written only costs the
        next start its catch-up."""
        if self.seen_file is None:
            return
        marks = self._read_seen()
        marks[self._seen_key()] = self.since
        try:
            self.seen_file.parent.mkdir(parents=True, exist_ok=True)
            partial = self.seen_file.with_name(self.seen_file.name + ".tmp")
            partial.write_text(json.dumps(marks, ensure_ascii=False), encoding="utf-8")
            partial.replace(self.seen_file)
        except OSError as error:
            self.note_once(f"（无法保存已读位置 {self.seen_file}：{error}）")

    def act(self, action: Action) -> None:
        """Tell the sandbox, post to the webhook, then show the reply and any API messages."""
        inbound = {"openid": self.user.openid, "kind": action.kind}
        if action.scene is not None:
            inbound["scene"] = action.scene
        self.sandbox("POST", "/sandbox/inbound", json=inbound)
        self.deliver(action.xml)
        self.show_sent()

    def pay(self) -> None:
        """Pay this user's latest unpaid order in the sandbox, as tapping 支付 in WeChat would;
        the shop's confirmation then arrives through the customer-service API."""
        paid = self.sandbox("POST", "/sandbox/pay", json={"openid": self.user.openid})
        if paid is not None:
            self.write(f"（微信支付：订单 {paid.get('out_trade_no')} 已支付）")
        self.show_sent()

    def deliver(self, xml: str) -> None:
        signed = self.user.sign(xml)
        try:
            response = self.http.post(
                f"{self.url}?{signed.query}",
                data=signed.body,
                headers={"Content-Type": "text/xml"},
                timeout=self.timeout,
            )
        except requests.ConnectionError as error:
            raise WebhookUnreachable(self.url) from error
        except requests.Timeout:
            self.write(f"webhook 超时：{self.timeout:g} 秒内没有回复（微信会重试）")
            return
        if response.status_code != 200:
            preview = response.content.decode("utf-8", "replace").strip()[:BODY_PREVIEW]
            self.write(f"webhook 返回 HTTP {response.status_code}: {preview}")
            return
        self.show_reply(response.content)

    def show_reply(self, body: bytes) -> None:
        try:
            self.say(describe_reply(read_reply(body, self.crypto)))
        except (ValueError, ProtocolError) as error:
            self.write(f"无法读取回复（{error}）: {body[:BODY_PREVIEW]!r}")

    def wait_for_agent(self, seconds: float) -> None:
        """/wait: an agent answers from the console whenever they do; show what arrives."""
        before = self.since
        self.show_sent(seconds, until_first=True)
        if self.since == before:
            self.write(f"（{seconds:g} 秒内没有新消息）")

    def show_sent(self, wait: float | None = None, until_first: bool = False) -> None:
        """Poll briefly: late replies and follow-ups reach the sandbox after the passive reply."""
        deadline = time.monotonic() + (self.wait if wait is None else wait)
        while True:
            found = self.sandbox(
                "GET", "/sandbox/sent", params={"touser": self.user.openid, "since": self.since}
            )
            if found is None:
                return
            for message in found.get("messages", []):
                self.since = max(self.since, int(message["id"]))
                self.say(describe_sent(message))
            if found.get("messages"):
                self._mark_seen()
            left = deadline - time.monotonic()
            if left <= 0 or (until_first and found.get("messages")):
                return
            time.sleep(min(POLL_INTERVAL, left))


# --- reading input ---------------------------------------------------------------------------


def script_lines(script: TextIO) -> Iterator[str]:
    """A transcript's inputs: blank lines and `#` comments skipped."""
    for raw in script:
        line = raw.strip()
        if line and not line.startswith("#"):
            yield line


def terminal_lines() -> Iterator[str]:
    """What the developer types; Ctrl-D or Ctrl-C ends the chat like /quit."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing for input())
    while True:
        try:
            line = input(USER).strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if line:
            yield line


def reachable(url: str, timeout: float) -> bool:
    """Is anything listening? Checked before the first input so the user isn't left typing."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _banner(session: ChatSession, aes: bool) -> None:
    mode = "安全模式（加密）" if aes else "明文模式"
    session.write(f"微信用户模拟器 · 公众号 {session.user.account} · {mode}")
    session.write(f"你的 openid：{session.user.openid}")
    session.write(f"webhook {session.url} · 沙箱 {session.sandbox_url}")
    session.write("输入文字发消息，/help 查看命令，/quit 退出。")


def converse(session: ChatSession, lines: Iterator[str], echo: bool) -> None:
    """Run inputs until /quit or the end; bad commands are explained, not fatal."""
    for line in lines:
        line = session.fill(line)
        if echo:
            session.write(USER + line)
        if line.lower() in ("/quit", "/exit"):
            return
        if line.split()[:1] == ["/as"]:
            name = line[3:].strip()
            if not name:
                session.write("用法：/as 名字，如 /as 小王")
                continue
            session.become(name)
            continue
        if line.lower() == "/help":
            session.write(HELP)
            continue
        if line.lower() == "/pay":
            session.pay()
            continue
        if line.lower().split()[:1] == ["/wait"]:
            parts = line.split()
            try:
                seconds = float(parts[1]) if len(parts) > 1 else 30.0
                if not 0 < seconds <= 600:
                    raise ValueError
            except ValueError:
                session.write("用法：/wait [秒]，1–600 秒")
                continue
            session.wait_for_agent(seconds)
            continue
        try:
            action = parse_action(line, session.user)
        except UsageError as error:
            session.write(str(error))
            continue
        session.act(action)


def run_chat(
    url: str,
    sandbox_url: str,
    *,
    aes: bool = False,
    openid: str | None = None,
    script: TextIO | None = None,
    out: TextIO = sys.stdout,
    timeout: float = 10.0,
    token: str | None = None,
    app_id: str | None = None,
    aes_key: str | None = None,
    wait: float = 0.3,
    seen_file: Path | None = None,
) -> int:
    """Chat as one user (the demo account's credentials unless given); 1 if no webhook.
    `seen_file` keeps what each openid was last shown (default BOT_DATA_DIR/chat_seen.json)."""
    user = WeChatUser(
        token=token or DEMO_ACCOUNT["WECHAT_TOKEN"],
        app_id=app_id or DEMO_ACCOUNT["WECHAT_APP_ID"],
        account=DEMO_ACCOUNT["WECHAT_ACCOUNT"],
        aes_key=(aes_key or DEMO_ACCOUNT["WECHAT_AES_KEY"]) if aes else None,
        **({"openid": openid} if openid else {}),
    )
    if seen_file is None:
        seen_file = Path(os.environ.get("BOT_DATA_DIR") or "./var") / SEEN_FILE
    session = ChatSession(url, sandbox_url, user, out, timeout=timeout, wait=wait,
                          seen_file=seen_file)
    if not reachable(url, min(timeout, SANDBOX_TIMEOUT)):
        session.write(f"无法连接 {url}：先运行 make run")
        return 1
    _banner(session, aes)
    session.start()
    if script is None and not sys.stdin.isatty():
        script = sys.stdin  # piped input reads like a transcript
    lines = script_lines(script) if script is not None else terminal_lines()
    try:
        converse(session, lines, echo=script is not None)
    except WebhookUnreachable:
        session.write(f"无法连接 {url}：先运行 make run")
        return 1
    finally:
        session.http.close()
    return 0
