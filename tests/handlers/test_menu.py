"""Transcripts for help, the menu buttons and the catch-all."""

from __future__ import annotations

import pytest

from bot.custom_menu import click_keys, load_menu
from bot.inbound import parse_xml_fields


def content(reply: str) -> str:
    return parse_xml_fields(reply.encode())["Content"]


@pytest.mark.parametrize("word", ["帮助", "菜单", "HELP", "ｈｅｌｐ", " 帮助！"])
def test_help_shows_the_menu(wechat, word):
    assert "回复「帮助」随时查看本菜单" in content(wechat.say(word))


def test_every_menu_button_gets_an_answer(wechat):
    for key in sorted(click_keys(load_menu())):
        assert content(wechat.reply(wechat.user.click(key)))


def test_unknown_text_is_searched_and_a_miss_shows_the_menu(wechat):
    reply = content(wechat.say("今天天气怎么样"))
    assert reply.startswith("抱歉，暂时没有找到「今天天气怎么样」的答案。\n没解决？回复「人工」")
    assert "逛逛" in reply
    reply = content(wechat.say("蓝牙耳机"))
    assert reply.startswith("没有找到与「蓝牙耳机」相关的商品") and "逛逛" in reply


@pytest.mark.parametrize("kind", ["image", "location"])
def test_non_text_messages_get_the_menu_too(wechat, kind):
    body = wechat.user.image() if kind == "image" else wechat.user.location(30.2, 120.1)
    assert "抱歉" in content(wechat.reply(body))


def test_empty_text_survives(wechat):
    assert content(wechat.say(""))


def test_a_crashing_handler_apologises_without_a_trace(make_app):
    from bot.router import Router
    from tests.conftest import WeChat

    router = Router("broken")

    @router.text("坏")
    def broken(msg, ctx):
        raise ZeroDivisionError("boom")

    wechat = WeChat(make_app(ROUTERS=[router]).test_client())
    reply = content(wechat.say("坏"))
    assert "系统开小差" in reply and "boom" not in reply


@pytest.mark.parametrize(("said", "answer"), [
    ("在吗", "在的～"), ("亲，在吗？", "在的～"), ("谢谢", "不客气～"), ("好的，谢谢", "不客气～"),
    ("😀", "😊"), ("👍🏻", "😊"), ("/::)", "😊"), ("[微笑]", "😊"), ("好的", "好的～"),
    ("拜拜", "再见～"),
])
def test_13_small_talk_gets_a_short_human_answer(wechat, said, answer):
    reply = content(wechat.say(said))
    assert reply.startswith(answer)
    assert "没有找到" not in reply and "您可以：" not in reply  # no search, no whole menu


def test_13_more_and_back_turn_the_list_on_screen_else_lead_somewhere(app, wechat):
    from content_audit import default_screener
    from devtools.demo import seed_catalog

    seed_catalog(app.extensions["storage"].sessions, default_screener())
    assert content(wechat.say("更多")).startswith("想看更多商品，请回复「逛逛」")
    assert content(wechat.say("返回")).startswith("好的，回到主菜单。\n\n您可以：")
    assert "（第 1/2 页）" in content(wechat.say("分类 美妆护肤"))
    assert "（第 2/2 页）" in content(wechat.say("更多"))
    assert content(wechat.say("更多")).startswith("已经是最后一页了。")
    assert "（第 1/2 页）" in content(wechat.say("返回"))
    assert content(wechat.say("返回")).startswith("好的，回到主菜单。")
