"""Novelty: which sentences state something not stated before.

Every fact ever stated (a figure, a name, a quote; content words for scripts
without capitals) is known by its 63-bit key. A sentence of a relevant original
that states a fact not known yet is a development.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from analysis.facts import NAME, TERM, Fact, Sentence, name_variants
from analysis.text import fold, words

NEW_TERMS_SHARE = 0.5  # caseless sentences: share of unseen content words that makes news
MIN_HEADLINE_PART = 3  # words: a shorter run of the headline is a phrase any sentence may hold


def fact_keys(sentences: Iterable[Sentence]) -> set[int]:
    """The keys to look up to tell which of these sentences' facts are known."""
    return {
        variant.key
        for sentence in sentences
        for fact in sentence.facts
        for variant in name_variants(fact)
    }


def is_known(fact: Fact, known: set[int]) -> bool:
    """A name counts as known when its last word is: 'Donald Trump' after 'Trump'."""
    return (
        any(variant.key in known for variant in name_variants(fact))
        if fact.kind == NAME
        else fact.key in known
    )


def is_development(sentence: Sentence, new: list[Fact]) -> bool:
    """A sentence with a new fact; in a caseless script, where content words stand in for
    names, one with a new figure or quote or with enough new words."""
    if not new:
        return False
    if sentence.caseless:
        terms = sum(f.kind == TERM for f in sentence.facts)
        new_terms = sum(f.kind == TERM for f in new)
        return len(new) > new_terms or new_terms >= NEW_TERMS_SHARE * terms
    return True


def is_headline(sentence: str, title: str | None) -> bool:
    """The article's headline repeated in its text, whole or a run of three words or more
    of it: a digest shows the headline already, so it is never a development of its own."""
    said, headline = words(fold(sentence)), words(fold(title or ""))
    if not said or not headline:
        return False
    if said == headline:
        return True
    return len(said) >= MIN_HEADLINE_PART and f" {' '.join(said)} " in f" {' '.join(headline)} "


def development_id(article_id: int, position: int) -> int:
    """A stable id for the development at `position` in an article."""
    digest = hashlib.blake2b(f"{article_id}:{position}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1
