"""The FAQ pages: add, edit, disable, delete; the content gate on answers; what nothing answered."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from console import accounts
from console.audit_log import AuditEntry
from customer_service import faq, faq_answers
from customer_service.faq import Faq, UnansweredQuestion
from tests.console.conftest import ADMIN_PASSWORD, PASSWORD, ROLE_ACCOUNTS, signed_in

FAQ_PAGE = "/admin/service/faq"


@pytest.fixture()
def service(make_app):
    app = make_app(ADMIN_PASSWORD=ADMIN_PASSWORD)
    storage = app.extensions["storage"]
    with storage.sessions.begin() as db:
        for name, role in ROLE_ACCOUNTS.items():
            accounts.create(db, name, role, PASSWORD)
    return SimpleNamespace(app=app, storage=storage)


@pytest.fixture()
def manager(service):
    person = signed_in(service.app, "manager")
    person.get(FAQ_PAGE)
    return person


def entries(service) -> list[tuple[str, str, bool]]:
    with service.storage.sessions() as db:
        return [(e.question, e.answer, e.enabled) for e in faq.entries(db)]


def only_id(service) -> int:
    with service.storage.sessions() as db:
        [entry] = faq.entries(db)
        return entry.id


def actions(service) -> list[str]:
    with service.storage.sessions() as db:
        return [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def add(person, question: str = "可以寄到国外吗？", answer: str = "目前只发中国大陆地区。",
        keywords: str = "国外 海外", **extra):
    return person.post(FAQ_PAGE, {"question": question, "answer": answer,
                                  "keywords": keywords, **extra})


def test_a_manager_adds_an_entry_the_bot_then_answers_with(service, manager):
    answer = add(manager)
    assert answer.status_code == 302
    page = manager.get(answer.location).text
    assert "已添加" in page and "目前只发中国大陆地区。" in page and "启用" in page
    assert entries(service) == [("可以寄到国外吗？", "目前只发中国大陆地区。", True)]
    with service.storage.sessions() as db:
        match = faq_answers.best_match(db, "能寄海外吗")
        assert match is not None and match.answer == "目前只发中国大陆地区。"
        assert db.get(Faq, match.faq_id).updated_by == "manager"
    assert "faq.create" in actions(service)


def test_agents_use_the_faq_and_reviewers_do_not(service):
    agent = signed_in(service.app, "agent")
    assert agent.get(FAQ_PAGE).status_code == 200
    assert add(agent).status_code == 302
    reviewer = signed_in(service.app, "reviewer")
    assert reviewer.get(FAQ_PAGE).status_code == 403
    reviewer.get("/admin/account")
    assert add(reviewer, question="别的问题？").status_code == 403
    assert len(entries(service)) == 1


def test_a_bad_entry_comes_back_as_typed(service, manager):
    answer = add(manager, question="吗", answer="目前只发中国大陆地区。")
    assert answer.status_code == 400
    assert "问题需 2–200 个字" in answer.text
    assert ">目前只发中国大陆地区。</textarea>" in answer.text
    assert entries(service) == []


def test_an_answer_with_a_banned_phrase_is_explained_and_not_saved(service, manager):
    answer = add(manager, question="你们家便宜吗？", answer="本店全网最低价，买贵退差价。")
    assert answer.status_code == 400
    assert "未保存" in answer.text and "「最低价」" in answer.text
    assert ">本店全网最低价，买贵退差价。</textarea>" in answer.text
    assert entries(service) == []


def test_an_answer_held_for_review_is_kept_disabled(service, manager):
    answer = add(manager, question="这款适合敏感肌吗？", answer="关注公众号才能查看优惠券。")
    assert answer.status_code == 302
    assert "已提交合规审核" in manager.get(answer.location).text
    assert entries(service) == [("这款适合敏感肌吗？", "关注公众号才能查看优惠券。", False)]
    enable = manager.post(f"{FAQ_PAGE}/{only_id(service)}/toggle")
    assert "通过后才会启用" in manager.get(enable.location).text
    assert entries(service)[0][2] is False


def test_editing_keeps_the_entry_and_screens_the_new_words(service, manager):
    add(manager)
    faq_id = only_id(service)
    form = manager.get(f"{FAQ_PAGE}/{faq_id}/edit").text
    assert 'value="可以寄到国外吗？"' in form and ">目前只发中国大陆地区。</textarea>" in form
    saved = manager.post(f"{FAQ_PAGE}/{faq_id}/edit",
                         {"question": "可以寄到国外吗？", "answer": "可以寄到港澳台，运费另计。",
                          "keywords": "国外 港澳台"})
    assert saved.status_code == 302 and "已保存" in manager.get(saved.location).text
    assert entries(service) == [("可以寄到国外吗？", "可以寄到港澳台，运费另计。", True)]
    refused = manager.post(f"{FAQ_PAGE}/{faq_id}/edit",
                           {"question": "可以寄到国外吗？", "answer": "国家级物流，最快送达。",
                            "keywords": ""})
    assert refused.status_code == 400 and "「国家级物流」" in refused.text
    assert ">国家级物流，最快送达。</textarea>" in refused.text
    assert entries(service) == [("可以寄到国外吗？", "可以寄到港澳台，运费另计。", True)]
    assert actions(service).count("faq.update") == 1


def test_disabling_stops_the_answer_and_enabling_brings_it_back(service, manager):
    add(manager)
    faq_id = only_id(service)
    answer = manager.post(f"{FAQ_PAGE}/{faq_id}/toggle")
    assert "已停用" in manager.get(answer.location).text
    with service.storage.sessions() as db:
        assert faq_answers.best_match(db, "可以寄到国外吗") is None
    manager.post(f"{FAQ_PAGE}/{faq_id}/toggle")
    with service.storage.sessions() as db:
        assert faq_answers.best_match(db, "可以寄到国外吗") is not None
    assert actions(service)[-2:] == ["faq.disable", "faq.enable"]


def test_deleting_removes_the_entry_and_logs_it(service, manager):
    add(manager)
    faq_id = only_id(service)
    answer = manager.post(f"{FAQ_PAGE}/{faq_id}/delete")
    assert "已删除" in manager.get(answer.location).text
    assert entries(service) == []
    with service.storage.sessions() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "faq.delete"))
        assert entry.target == f"faq:{faq_id}" and entry.details["question"] == "可以寄到国外吗？"


def test_unanswered_questions_become_entries_or_are_ignored(service, manager):
    with service.storage.sessions.begin() as db:
        for text in ("可以寄到国外吗", "可以寄到国外吗", "你们老板是谁"):
            faq.record_unanswered(db, text)
    page = manager.get(FAQ_PAGE).text
    section = page.split('id="unanswered"')[1]
    assert section.index("可以寄到国外吗") < section.index("你们老板是谁")  # most asked first
    assert "<td>可以寄到国外吗</td><td>2</td>" in section
    with service.storage.sessions() as db:
        ids = {q.text: q.id for q in db.scalars(select(UnansweredQuestion))}

    row = section.split(f'data-unanswered="{ids["可以寄到国外吗"]}"')[1].split("</tr>")[0]
    link = html.unescape(re.search(r'href="([^"]+)">新建问答', row).group(1))
    prefilled = manager.get(link).text
    assert 'name="question" value="可以寄到国外吗"' in prefilled
    assert f'name="unanswered" value="{ids["可以寄到国外吗"]}"' in prefilled
    add(manager, question="可以寄到国外吗", unanswered=str(ids["可以寄到国外吗"]))

    ignored = manager.post(f"{FAQ_PAGE}/unanswered/{ids['你们老板是谁']}/ignore")
    assert "已忽略" in manager.get(ignored.location).text
    with service.storage.sessions() as db:
        assert faq.unanswered(db) == []
    assert "没有未解答的问题" in manager.get(FAQ_PAGE).text
    assert "faq.unanswered_ignore" in actions(service)


def test_a_form_without_its_csrf_token_saves_nothing(service, manager):
    answer = manager.post(FAQ_PAGE, {"question": "可以寄到国外吗？", "answer": "不可以。"},
                          with_token=False)
    assert answer.status_code == 400 and entries(service) == []


def test_alternative_wordings_are_saved_shown_and_answered(service, manager):
    add(manager, wordings="能不能寄去美国\n\n能不能寄去美国\n可以寄到国外吗？")
    faq_id = only_id(service)
    with service.storage.sessions() as db:
        assert faq.wordings(db, faq_id) == ["能不能寄去美国"]  # once; not the question again
        assert faq_answers.best_match(db, "能不能寄去美国").faq_id == faq_id
    form = manager.get(f"{FAQ_PAGE}/{faq_id}/edit").text
    assert ">能不能寄去美国</textarea>" in form
    manager.post(f"{FAQ_PAGE}/{faq_id}/edit",
                 {"question": "可以寄到国外吗？", "answer": "目前只发中国大陆地区。",
                  "keywords": "", "wordings": "日本能寄吗"})
    with service.storage.sessions() as db:
        assert faq.wordings(db, faq_id) == ["日本能寄吗"]
    assert "<td>1 条</td>" in manager.get(FAQ_PAGE).text


def test_an_unanswered_question_becomes_a_wording_of_an_entry_in_one_click(service, manager):
    with service.storage.sessions.begin() as db:
        faq.seed_defaults(db)
        faq.record_unanswered(db, "娃穿着小了想换大一码")
        asked = db.scalar(select(UnansweredQuestion))
        returns = db.scalar(select(Faq).where(Faq.question == "退货怎么办？"))
    section = manager.get(FAQ_PAGE).text.split('id="unanswered"')[1]
    assert "加为相似问" in section
    assert f'<option value="{returns.id}">退货怎么办？</option>' in section
    with service.storage.sessions() as db:
        before = faq_answers.best_match(db, "娃穿着小了想换大一码")
        assert before is None or before.faq_id != returns.id
    done = manager.post(f"{FAQ_PAGE}/wordings", {"faq_id": str(returns.id),
                                                 "text": asked.text, "unanswered": str(asked.id)})
    notice = manager.get(done.location).text
    assert "已把「娃穿着小了想换大一码」加为「退货怎么办？」的相似问" in notice
    with service.storage.sessions() as db:
        assert faq.unanswered(db) == []
        assert faq_answers.best_match(db, "娃穿着小了想换大一码").faq_id == returns.id
    again = manager.post(f"{FAQ_PAGE}/wordings", {"faq_id": str(returns.id), "text": asked.text})
    assert "已是「退货怎么办？」的相似问" in manager.get(again.location).text
    assert actions(service).count("faq.wording_add") == 2
    assert manager.post(f"{FAQ_PAGE}/wordings", {"faq_id": "x", "text": "a"}).status_code == 302


def test_each_entry_shows_what_reached_it_and_its_near_misses(service, manager):
    with service.storage.sessions.begin() as db:
        faq.seed_defaults(db)
        shipping = db.scalar(select(Faq).where(Faq.question == "多久发货？"))
        faq.record_reach(db, shipping.id, "几号能发", "answered")
        faq.record_reach(db, shipping.id, "你们周末上班吗", "offered")
        faq.record_reach(db, shipping.id, "你们周末上班吗", "chosen")
    row = manager.get(FAQ_PAGE).text.split(f'data-reach="{shipping.id}"')[1].split("</tr>")[0]
    assert "顾客这样问到了它" in row and "几号能发 ×1" in row
    assert "你们周末上班吗 ×1（点选）" in row and "加为相似问" in row
    manager.post(f"{FAQ_PAGE}/{shipping.id}/wordings", {"text": "你们周末上班吗"})
    with service.storage.sessions() as db:
        assert "你们周末上班吗" in faq.wordings(db, shipping.id)


def test_a_manager_tries_a_question_and_sees_what_the_customer_would_get(service, manager):
    with service.storage.sessions.begin() as db:
        faq.seed_defaults(db)
    page = manager.get(f"{FAQ_PAGE}?try=可以退不").text
    assert "直接回答「退货怎么办？」" in page
    assert "问答库里没有接近的问题" in manager.get(f"{FAQ_PAGE}?try=你们老板是哪里人").text
    assert "这是在问自己的订单" in manager.get(f"{FAQ_PAGE}?try=我的快递到哪了").text


def test_reviewers_cannot_add_wordings(service):
    reviewer = signed_in(service.app, "reviewer")
    with service.storage.sessions.begin() as db:
        faq.seed_defaults(db)
    assert reviewer.post(f"{FAQ_PAGE}/1/wordings", {"text": "能退吗"}).status_code == 403
