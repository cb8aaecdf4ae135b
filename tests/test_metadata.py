"""What a page declares, read the way real news pages declare it (pages written here)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from extractors.article import extract_article
from newsmon.records import Article

URL = "https://www.harbortimes.example/2025/01/talks.html"
ENGLISH = (
    "Negotiators met in Cairo on Tuesday to discuss the second phase of the ceasefire, "
    "officials from both delegations said after the meeting ended late in the evening. "
    "The talks covered the exchange of hostages and prisoners, the return of displaced "
    "families to the north and the number of aid trucks allowed to cross each day."
)
SWAHILI = (
    "Serikali imetangaza kwamba mazungumzo ya amani yataendelea wiki ijayo mjini Cairo. "
    "Wajumbe kutoka pande zote mbili walikubaliana kusitisha mapigano kwa muda wa siku saba, "
    "na malori ya misaada yataruhusiwa kuingia kila siku. Wananchi wengi wamesema kwamba "
    "wanataka amani ya kudumu na kurudi nyumbani kwao haraka iwezekanavyo."
)
NORWEGIAN = (
    "Forhandlerne møttes i Kairo tirsdag for å diskutere den andre fasen av våpenhvilen, "
    "sier tjenestemenn fra begge delegasjonene etter at møtet ble avsluttet sent på kvelden. "
    "Samtalene handlet om utveksling av gisler og fanger og om hvor mange lastebiler med "
    "nødhjelp som skal slippe inn hver dag."
)


def page(head: str = "", body: str = ENGLISH, *, html: str = "<html>", extra: str = "") -> bytes:
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in body.split(". "))
    return (
        f"<!DOCTYPE html>{html}<head><meta charset='utf-8'>"
        f"<title>Ceasefire talks resume | Harbor Times</title>{head}</head>"
        f"<body><header><nav><a href='/'>Home</a></nav></header><main><article>"
        f"<h1>Ceasefire talks resume</h1>{extra}{paragraphs}</article></main>"
        "<footer><p>© Harbor Times</p></footer></body></html>"
    ).encode()


def extract(body: bytes) -> Article:
    article = extract_article(body, URL)
    assert isinstance(article, Article)
    return article


SITE = '<meta property="og:site_name" content="Harbor Times">'


def test_the_json_ld_article_s_people_win_over_a_publisher_in_meta_author() -> None:
    ld = """<script type="application/ld+json">//<![CDATA[
    {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Ceasefire talks",
     "author": [{"@type": "Person", "givenName": "Lina", "familyName": "Haddad"},
                {"@type": "Person", "name": "Omar Said (os)"}],
     "publisher": {"@type": "Organization", "name": "Harbor Times Media Group"}}
    //]]></script>"""
    article = extract(page(SITE + '<meta name="author" content="Harbor Times">' + ld))
    assert article.author == "Lina Haddad, Omar Said"


@pytest.mark.parametrize(
    "declared",
    [
        "Harbor Times",  # the site's name
        "HARBORTIMES Newsroom",  # the host's own name, as a prefix
        "desk@harbortimes.example",
        "https://www.facebook.com/harbortimes",
        "4711",
    ],
)
def test_an_author_that_is_the_publisher_an_address_or_a_number_is_no_author(
    declared: str,
) -> None:
    assert extract(page(SITE + f'<meta name="author" content="{declared}">')).author is None


def test_the_byline_names_the_authors_when_the_tags_only_name_the_publisher() -> None:
    byline = '<p class="article-byline">By Sara Cohen and Daniel Levi, 14.01.2025 09:30</p>'
    body = page(SITE + '<meta name="author" content="Harbor Times">', extra=byline)
    assert extract(body).author == "Sara Cohen, Daniel Levi"


def test_a_name_split_over_elements_in_a_rel_author_link_is_one_name() -> None:
    link = '<p>By <a rel="author" href="/team/sara"><span>Sara</span> <b>Cohen</b></a></p>'
    assert extract(page(SITE, extra=link)).author == "Sara Cohen"


def test_a_link_to_one_author_s_page_names_the_author_a_link_to_the_list_does_not() -> None:
    links = (
        '<p><a href="/authors/">Our authors</a> <a href="/autoren">Autoren</a></p>'
        '<p>Text: <a href="/autoren/name/sara-cohen">Dr. Sara Cohen</a></p>'
    )
    assert extract(page(SITE, extra=links)).author == "Dr. Sara Cohen"


def test_a_labelled_line_in_a_byline_is_not_an_author() -> None:
    """'Quelle: dpa' (the source), 'Foto: ...', 'Sendung: ...' label something else."""
    bylines = (
        '<p class="byline">Quelle: dpa</p>'
        '<p class="author">Foto: Sara Cohen<span>Sendung: Morning Show</span></p>'
    )
    assert extract(page(SITE, extra=bylines)).author is None


@pytest.mark.parametrize("credited", ["harbortimes.com", "Harbor Times staff reporter"])
def test_whom_the_json_ld_article_credits_is_kept_when_nobody_is_named(credited: str) -> None:
    ld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Talks",'
        f' "author": {{"@type": "Organization", "name": "{credited}"}}}}</script>'
    )
    body = page(SITE + '<meta name="author" content="Harbor Times">' + ld)
    assert extract(body).author == credited


def test_dublin_core_creators_are_given_name_first_and_all_kept() -> None:
    head = (
        '<meta name="dc.creator" content="Haddad, Lina">'
        '<meta name="dc.creator" content="Said, Omar">'
    )
    assert extract(page(head)).author == "Lina Haddad, Omar Said"


def test_a_placeholder_date_falls_through_to_the_next_declared_one() -> None:
    head = (
        '<meta property="article:published_time" content="0001-01-01T00:00:00">'
        '<meta name="date" content="2025-01-14T09:30:00+02:00">'
    )
    assert extract(page(head)).published_at == datetime(2025, 1, 14, 7, 30, tzinfo=UTC)


def test_an_undeclared_date_is_read_from_the_page() -> None:
    dated = '<p class="date">Published: <time>2025-01-14</time></p>'
    article = extract(page(extra=dated))
    assert article.published_at == datetime(2025, 1, 14, tzinfo=UTC)


def test_a_date_in_the_future_or_before_1990_is_no_date() -> None:
    head = (
        '<meta property="article:published_time" content="2199-01-01T00:00:00Z">'
        '<meta name="date" content="1970-01-01T00:00:00Z">'
    )
    assert extract(page(head)).published_at is None


def test_the_language_is_read_from_the_text_not_a_cms_default() -> None:
    assert extract(page(body=SWAHILI, html='<html lang="en">')).language == "sw"
    assert extract(page(html='<html lang="en-GB">')).language == "en"


def test_a_lang_in_an_ie_conditional_comment_is_not_the_page_s() -> None:
    # Norwegian reads as the macrolanguage 'no'; the page's own 'nb' is the more exact
    # code and is kept, but only if it is the page's <html lang>, not the comment's.
    html = '<!--[if lt IE 9]><html class="ie" lang="fr"><![endif]--><html lang="nb">'
    assert extract(page(body=NORWEGIAN, html=html)).language == "nb"
