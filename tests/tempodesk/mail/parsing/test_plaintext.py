"""tempodesk.mail.parsing.plaintext: HTML read as text, and quoted replies trimmed."""

from __future__ import annotations

from tempodesk.mail import html_to_text, trim_quoted


def test_html_to_text_turns_blocks_into_lines() -> None:
    assert html_to_text("<div>one</div><div>two<br>three</div>") == "one\ntwo\nthree"


def test_html_to_text_shows_links_as_text_and_url() -> None:
    assert html_to_text('<a href="https://x.example/a">the page</a>') == (
        "the page (https://x.example/a)"
    )


def test_html_to_text_does_not_repeat_a_link_that_shows_its_url() -> None:
    html = '<a href="https://x.example/">https://x.example/</a>'
    assert html_to_text(html) == "https://x.example/"


def test_html_to_text_decodes_entities() -> None:
    assert html_to_text("<p>a &amp; b &lt;c&gt; &eacute; &#x41;</p>") == "a & b <c> é A"


def test_html_to_text_drops_script_and_style_content() -> None:
    assert html_to_text("<style>p{}</style><script>x()</script><p>ok</p>") == "ok"


def test_html_to_text_keeps_preformatted_whitespace() -> None:
    assert html_to_text("<pre>a  b\n  c</pre>") == "a  b\n  c"


def test_html_to_text_lists_items() -> None:
    assert html_to_text("<ul>\n <li>\n one</li>\n <li>two</li></ul>") == "- one\n- two"


def test_html_to_text_separates_paragraphs_by_a_blank_line() -> None:
    assert html_to_text("<p>one</p>\n<p>two</p>") == "one\n\ntwo"


def test_html_to_text_separates_table_cells() -> None:
    assert html_to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>") == (
        "a b\nc"
    )


def test_trim_quoted_cuts_at_on_date_name_wrote() -> None:
    text = "Thanks!\n\nOn Mon, 2 Mar 2026 at 09:00, Support <s@x> wrote:\n> old\n> text\n"
    assert trim_quoted(text) == "Thanks!"


def test_trim_quoted_cuts_at_an_attribution_wrapped_over_two_lines() -> None:
    text = (
        "Thanks!\n\nOn Mon, 2 Mar 2026 at 09:00, Support Team <support@\nexample.com> wrote:\n> x"
    )
    assert trim_quoted(text) == "Thanks!"


def test_trim_quoted_cuts_at_czech_attribution() -> None:
    text = "Díky.\n\nDne po 2. 3. 2026 v 9:00 Podpora <s@x> napsal(a):\n> stará zpráva\n"
    assert trim_quoted(text) == "Díky."


def test_trim_quoted_cuts_at_german_attribution() -> None:
    text = "Danke.\n\nAm 02.03.2026 um 09:00 schrieb Support <s@x>:\n> alt\n"
    assert trim_quoted(text) == "Danke."


def test_trim_quoted_cuts_at_original_message_separator() -> None:
    text = "New text.\n\n-----Original Message-----\nFrom: x\nold text\n"
    assert trim_quoted(text) == "New text."


def test_trim_quoted_cuts_at_an_outlook_header_block() -> None:
    text = (
        "New text.\n\n________________________________\nFrom: Support <s@x>\n"
        "Sent: Monday, March 2, 2026 9:00 AM\nTo: Jana\nSubject: RE: x\n\nold text\n"
    )
    assert trim_quoted(text) == "New text."


def test_trim_quoted_drops_a_trailing_quote_block() -> None:
    assert trim_quoted("Answer.\n\n> quoted\n> more\n\n") == "Answer."


def test_trim_quoted_keeps_inline_answers_between_quotes() -> None:
    text = "> question one\nanswer one\n> question two\nanswer two\n"
    assert trim_quoted(text) == "> question one\nanswer one\n> question two\nanswer two"


def test_trim_quoted_drops_the_signature() -> None:
    assert trim_quoted("Answer.\n-- \nJana Novakova\nACME") == "Answer."


def test_trim_quoted_returns_the_full_text_when_the_answer_is_below_the_quote() -> None:
    text = "On Mon, 2 Mar 2026, Support <s@x> wrote:\n> old\n\nMy answer below."
    assert trim_quoted(text) == text


def test_trim_quoted_of_only_quoted_text_is_empty() -> None:
    assert trim_quoted("> only\n> quoted\n") == ""


def test_trim_quoted_does_not_cut_a_sentence_mentioning_from() -> None:
    text = "From: the warehouse, nothing arrived.\nPlease check."
    assert trim_quoted(text) == text
