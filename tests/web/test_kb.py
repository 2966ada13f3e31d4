"""The knowledge base on the web: the public help centre, its editors, search, "was this
helpful", suggestions, the look, and hostile text in every field."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tempodesk.core.models import KbArticle
from tests.helpers import Stack, csrf_token

HOSTILE_BODY = (
    '<script>alert("body")</script><img src=x onerror=alert(1)>'
    '<a href="javascript:alert(2)">click</a><p onclick="alert(3)" style="color:red">Safe '
    'words</p><iframe src="https://evil.example"></iframe><svg onload=alert(4)></svg>'
)
HOSTILE_TITLE = '<script>alert("title")</script> Kettle & "quotes"'


def save_article(client: FlaskClient, **fields: Any) -> Any:
    page = client.get("/kb/articles/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(page),
        "title": "An article",
        "slug": "",
        "body": "<p>Text</p>",
        "language": "en",
        "category_id": "",
        "visibility": "public",
        "published": "1",
        **fields,
    }
    if not data["published"]:
        del data["published"]
    return client.post("/kb/articles/new", data=data)


def article_by_title(stack: Stack, title: str) -> KbArticle:
    with stack.sessions() as session:
        found = session.scalar(select(KbArticle).where(KbArticle.title == title))
        assert found is not None
        session.expunge(found)
        return found


def test_help_centre_home_lists_the_categories_of_the_visitors_language(stack: Stack) -> None:
    english = stack.client().get("/help/", headers={"Accept-Language": "en"})
    text = english.get_data(as_text=True)
    assert english.status_code == 200
    assert "Orders and returns" in text and "How do I return goods?" in text
    assert "Refunds over 500 EUR" not in text  # internal
    assert "Opening hours" in text  # the information page in the footer
    czech = stack.client().get("/help/", headers={"Accept-Language": "cs"}).get_data(as_text=True)
    assert "Objednávky a vrácení" in czech and "Jak vrátit zboží?" in czech


def test_internal_article_is_hidden_from_the_public_and_shown_to_agents(stack: Stack) -> None:
    internal = article_by_title(stack, "Refunds over 500 EUR (internal)")
    path = f"/help/en/{internal.slug}"
    assert stack.client().get(path).status_code == 404
    assert "Refunds over 500 EUR" not in stack.client().get("/help/search?q=refunds").get_data(
        as_text=True
    )
    agent = stack.login("agent1")
    page = agent.get(path)
    assert page.status_code == 200
    assert "only agents see it" in page.get_data(as_text=True)


def test_search_finds_words_without_diacritics_and_prefixes(any_stack: Stack) -> None:
    client = any_stack.client()
    found = client.get("/help/search?q=vratit").get_data(as_text=True)
    assert "Jak vrátit zboží?" in found
    prefix = client.get("/help/search?q=kett").get_data(as_text=True)
    assert "My kettle does not heat" in prefix
    none = client.get("/help/search?q=zebra").get_data(as_text=True)
    assert "No article matches your search." in none


@pytest.mark.parametrize(
    "query",
    ['<script>alert("q")</script>', '"', "kettle*", "NEAR(a b)", "a' OR 1=1 --", "\\", "&|!:*"],
)
def test_hostile_search_text_is_inert(any_stack: Stack, query: str) -> None:
    response = any_stack.client().get("/help/search", query_string={"q": query})
    assert response.status_code == 200
    assert '<script>alert("q")' not in response.get_data(as_text=True)
    api = any_stack.client().get(
        "/api/v1/kb/articles", query_string={"q": query}, headers=any_stack.api()
    )
    assert api.status_code == 200


def test_hostile_html_and_title_are_sanitised_and_escaped(stack: Stack) -> None:
    agent = stack.login("agent1")
    saved = save_article(agent, title=HOSTILE_TITLE, body=HOSTILE_BODY, slug="hostile")
    assert saved.status_code == 302, saved.get_data(as_text=True)
    article = article_by_title(stack, " ".join(HOSTILE_TITLE.split()))
    assert "script" not in article.body and "onerror" not in article.body
    assert "javascript:" not in article.body and "iframe" not in article.body
    assert "style" not in article.body and "onclick" not in article.body
    assert "Safe words" in article.body
    page = stack.client().get("/help/en/hostile").get_data(as_text=True)
    assert '<script>alert("title")' not in page
    assert "&lt;script&gt;alert(" in page
    assert "onerror" not in page and "javascript:alert" not in page
    editor = agent.get(f"/kb/articles/{article.id}").get_data(as_text=True)
    assert '<script>alert("title")' not in editor


def test_article_fields_are_checked_against_their_columns(stack: Stack) -> None:
    agent = stack.login("agent1")
    too_long = save_article(agent, title="x" * 201)
    assert too_long.status_code == 422
    assert "At most 200 characters." in too_long.get_data(as_text=True)
    bad_slug = save_article(agent, title="Slugs", slug="../../etc")
    assert bad_slug.status_code == 422
    empty = save_article(agent, title="Empty", body="<script>only()</script>")
    assert empty.status_code == 422
    huge = save_article(agent, title="Huge", body="<p>" + "a" * 100_001 + "</p>")
    assert huge.status_code == 422


def test_a_draft_is_not_published(stack: Stack) -> None:
    agent = stack.login("agent1")
    assert (
        save_article(agent, title="Draft only", slug="draft-only", published="").status_code == 302
    )
    assert stack.client().get("/help/en/draft-only").status_code == 404
    assert agent.get("/help/en/draft-only").status_code == 404  # agents read published ones
    assert "Draft only" in agent.get("/kb/").get_data(as_text=True)


def test_helpful_is_counted_once_per_session(stack: Stack) -> None:
    agent = stack.login("agent1")
    save_article(agent, title="Helpful counts", slug="helpful-counts")
    visitor = stack.client()
    page = visitor.get("/help/en/helpful-counts").get_data(as_text=True)
    for _ in range(2):  # a second vote of the same session is not counted
        answer = visitor.post(
            "/help/en/helpful-counts/helpful",
            data={"csrf_token": csrf_token(page), "helpful": "yes"},
        )
        assert answer.status_code == 302
    assert 'name="helpful"' not in visitor.get("/help/en/helpful-counts").get_data(as_text=True)
    other = stack.client()
    page = other.get("/help/en/helpful-counts").get_data(as_text=True)
    other.post(
        "/help/en/helpful-counts/helpful", data={"csrf_token": csrf_token(page), "helpful": "no"}
    )
    assert other.post("/help/en/helpful-counts/helpful", data={"helpful": "no"}).status_code == 400
    article = article_by_title(stack, "Helpful counts")
    assert (article.helpful_yes, article.helpful_no) == (1, 1)


def test_suggestions_offer_public_articles_for_a_customers_words(stack: Stack) -> None:
    answer = stack.client().get("/help/suggest", query_string={"q": "my kettle is cold"})
    assert answer.status_code == 200
    titles = [a["title"] for a in answer.get_json()["articles"]]
    assert "My kettle does not heat" in titles
    refunds = stack.client().get("/help/suggest", query_string={"q": "refunds approve"})
    assert refunds.get_json()["articles"] == []  # the internal article is never suggested


def test_public_form_message_field_asks_for_suggestions(stack: Stack) -> None:
    page = stack.client().get("/support/new").get_data(as_text=True)
    assert 'data-kb-suggest="/help/suggest"' in page
    assert "kb-suggest.js" in page


def test_api_searches_public_articles_and_internal_on_request(stack: Stack) -> None:
    client = stack.client()
    assert client.get("/api/v1/kb/articles?q=refunds").status_code == 401
    public = client.get("/api/v1/kb/articles?q=refunds", headers=stack.api("agent1"))
    assert public.status_code == 200 and public.get_json()["articles"] == []
    internal = client.get(
        "/api/v1/kb/articles?q=refunds&internal=true", headers=stack.api("agent1")
    ).get_json()["articles"]
    assert [a["title"] for a in internal] == ["Refunds over 500 EUR (internal)"]
    assert internal[0]["url"] is None
    czech = client.get("/api/v1/kb/articles?q=vratit&lang=cs", headers=stack.api()).get_json()
    assert czech["articles"][0]["title"] == "Jak vrátit zboží?"
    assert czech["articles"][0]["url"].endswith("/help/cs/jak-vratit-zbozi")
    assert "30 dnů" in czech["articles"][0]["text"]
    bad = client.get("/api/v1/kb/articles?lang=xx", headers=stack.api())
    assert bad.status_code == 422
    odd_limit = client.get("/api/v1/kb/articles", query_string={"limit": "²"}, headers=stack.api())
    assert odd_limit.status_code == 200  # a digit to Python, no number to int()


def test_settings_categories_and_pages_are_for_admins(stack: Stack) -> None:
    agent = stack.login("agent1")
    for path in ("/kb/categories", "/kb/pages", "/kb/look"):
        assert agent.get(path).status_code == 403
    assert agent.get("/kb/").status_code == 200
    assert stack.client().get("/kb/").status_code == 302  # sign in first


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff"
    b"\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def post_look(admin: FlaskClient, logo: tuple[bytes, str] | None = None, **fields: str) -> Any:
    page = admin.get("/kb/look").get_data(as_text=True)
    data: dict[str, Any] = {
        "csrf_token": csrf_token(page),
        "title": "Acme help",
        "color_accent": "#aa3300",
        "color_background": "#fffff0",
        "color_text": "#101010",
        **fields,
    }
    if logo is not None:
        data["logo"] = (io.BytesIO(logo[0]), logo[1])
    return admin.post("/kb/look", data=data, content_type="multipart/form-data")


def test_look_takes_raster_logos_and_hex_colours_only(stack: Stack) -> None:
    admin = stack.login("admin")
    svg = post_look(admin, logo=(b'<svg xmlns="http://www.w3.org/2000/svg" onload="x"/>', "a.png"))
    assert svg.status_code == 422
    assert "Use a PNG, JPEG or GIF image." in svg.get_data(as_text=True)
    colour = post_look(admin, color_accent="red;}body{background:url(//evil)")
    assert colour.status_code == 422
    assert post_look(admin, logo=(PNG, "logo.png")).status_code == 302
    theme = stack.client().get("/help/theme.css")
    assert theme.mimetype == "text/css"
    assert "--help-accent: #aa3300;" in theme.get_data(as_text=True)
    logo = stack.client().get("/help/logo")
    assert logo.mimetype == "image/png" and logo.data == PNG
    home = stack.client().get("/help/")
    assert "Acme help" in home.get_data(as_text=True)
    assert "style-src 'self';" in home.headers["Content-Security-Policy"]
    assert post_look(admin, title='<script>alert("look")</script>').status_code == 302
    shown = stack.client().get("/help/").get_data(as_text=True)
    assert '<script>alert("look")' not in shown and "&lt;script&gt;alert(" in shown
    assert post_look(admin, title="Help centre", color_accent="#1f6feb").status_code == 302


def test_information_pages_are_sanitised_and_linked_from_the_footer(stack: Stack) -> None:
    admin = stack.login("admin")
    page = admin.get("/kb/pages").get_data(as_text=True)
    saved = admin.post(
        "/kb/pages",
        data={
            "csrf_token": csrf_token(page),
            "title": "Terms <b>of</b> use",
            "slug": "terms",
            "body": '<p>Fair terms</p><script>alert("page")</script>',
            "language": "en",
            "position": "2",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    shown = stack.client().get("/help/pages/terms").get_data(as_text=True)
    assert "Fair terms" in shown and 'alert("page")' not in shown
    assert "Terms &lt;b&gt;of&lt;/b&gt; use" in shown
    assert "/help/pages/terms" in stack.client().get("/help/").get_data(as_text=True)


def test_categories_are_edited_by_admins(stack: Stack) -> None:
    admin = stack.login("admin")
    page = admin.get("/kb/categories").get_data(as_text=True)
    hostile = admin.post(
        "/kb/categories",
        data={
            "csrf_token": csrf_token(page),
            "name": "<img src=x onerror=alert(1)>Billing",
            "slug": "billing",
            "language": "en",
            "position": "5",
        },
    )
    assert hostile.status_code == 302
    listed = admin.get("/kb/categories").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;Billing" in listed
    assert re.search(r"<img src=x", listed) is None


def test_suggestions_per_address_are_limited(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stack.settings, "kb_suggest_rate_limit", "2/minute")
    client = stack.client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"
    statuses = [client.get("/help/suggest?q=kettle").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
