"""Knowledge-base articles and tickets: inserted into a reply next to canned answers,
linked to the ticket, shown on the ticket page and on the article's page."""

from __future__ import annotations

from tests.helpers import Stack, csrf_token
from tests.web.test_composer import action_form, new_ticket
from tests.web.test_kb import article_by_title


def test_article_text_and_link_are_offered_for_a_reply(stack: Stack) -> None:
    number = new_ticket(stack)
    article = article_by_title(stack, "How do I return goods?")
    internal = article_by_title(stack, "Refunds over 500 EUR (internal)")
    agent = stack.login("agent1")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert f'value="kb:{article.id}"' in page and f'value="kblink:{article.id}"' in page
    assert f'value="kb:{internal.id}"' in page
    assert f'value="kblink:{internal.id}"' not in page  # no public address to send
    text = agent.get(f"/kb/tickets/{number}/articles/{article.id}/text").get_json()["text"]
    assert text.startswith("You may return goods within 30 days of delivery.")
    assert "- Pack the goods with the delivery note." in text
    link = agent.get(f"/kb/tickets/{number}/articles/{article.id}/link").get_json()["text"]
    assert link.startswith("How do I return goods?: http") and link.endswith(
        "/help/en/how-do-i-return-goods"
    )
    assert agent.get(f"/kb/tickets/{number}/articles/{internal.id}/link").status_code == 404
    assert agent.get(f"/kb/tickets/NOPE-1/articles/{article.id}/text").status_code == 404


def test_inserting_an_article_without_javascript_links_it_to_the_ticket(stack: Stack) -> None:
    number = new_ticket(stack)
    article = article_by_title(stack, "My kettle does not heat")
    agent = stack.login("agent1")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    response = agent.post(
        f"/desk/tickets/{number}/drafts/reply/insert",
        data={
            **action_form(page, "reply"),
            "body": "Hello,",
            "compose_target": "body",
            "compose_insert_body": f"kb:{article.id}",
        },
    )
    assert response.status_code == 302
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "Hello,\n\nCheck that the base is plugged in" in page
    panel = page[page.index('id="kb-links"') :]
    assert "My kettle does not heat" in panel.split("</ul>")[0]
    editor = agent.get(f"/kb/articles/{article.id}").get_data(as_text=True)
    assert f"/desk/tickets/{number}" in editor


def test_agent_links_and_unlinks_an_article_on_the_ticket_page(stack: Stack) -> None:
    number = new_ticket(stack)
    article = article_by_title(stack, "Refunds over 500 EUR (internal)")
    agent = stack.login("agent1")
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "No article is linked to this ticket." in page
    token = csrf_token(page)
    for _ in range(2):  # linking twice links once
        linked = agent.post(
            f"/kb/tickets/{number}/links", data={"csrf_token": token, "article_id": article.id}
        )
        assert linked.status_code == 302
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert page.count(f"/kb/tickets/{number}/links/{article.id}/delete") == 1
    assert (
        agent.post(f"/kb/tickets/{number}/links", data={"article_id": article.id}).status_code
        == 400
    )  # no CSRF token
    agent.post(f"/kb/tickets/{number}/links/{article.id}/delete", data={"csrf_token": token})
    page = agent.get(f"/desk/tickets/{number}").get_data(as_text=True)
    assert "No article is linked to this ticket." in page


def test_an_agent_who_may_not_see_the_ticket_cannot_link_to_it(stack: Stack) -> None:
    number = new_ticket(stack, channel="phone")  # the guarded process
    escalated = stack.client().post(
        f"/api/v1/tickets/{number}/actions/escalate", json={}, headers=stack.api()
    )
    assert escalated.status_code == 200, escalated.get_data(as_text=True)
    article = article_by_title(stack, "How do I return goods?")
    limited = stack.login("limited")  # escalated is visible to Billing only
    page = limited.get("/kb/").get_data(as_text=True)
    answer = limited.post(
        f"/kb/tickets/{number}/links",
        data={"csrf_token": csrf_token(page), "article_id": article.id},
    )
    assert answer.status_code == 404
