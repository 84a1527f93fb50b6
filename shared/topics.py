"""Deterministic keyword extraction for call summaries, without any external service.

Words are lowercased, stop words and short words dropped, and terms ranked by frequency then first
appearance. Two-word phrases that recur count double, because a recurring phrase ("billing address")
says more than either word; a word already covered by a chosen phrase is not listed again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MIN_WORD_LENGTH = 3
MIN_PHRASE_COUNT = 2
PHRASE_WEIGHT = 2
# Bounds the work for very long transcripts; the opening of a call is where topics are named anyway.
MAX_SCANNED_CHARS = 500_000

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")

STOP_WORDS = frozenset(
    """
    a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each few for from further get gets getting got had hadn't has hasn't have haven't having he he'd
    he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't
    it it's its itself let's me more most mustn't my myself no nor not of off on once only or other ought our
    ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such than that
    that's the their theirs them themselves then there there's these they they'd they'll they're they've this
    those through to too under until up very was wasn't we we'd we'll we're we've were weren't what what's
    when when's where where's which while who who's whom why why's will with won't would wouldn't you you'd
    you'll you're you've your yours yourself yourselves
    yes yeah yep nope okay ok hello hi hey bye goodbye thanks thank please sure right well um uh uhm hmm oh ah
    like just know really actually maybe one two going gonna wanna want need let see say said tell told
    thing things something anything nothing way lot much many now still even back today good great fine
    morning afternoon evening day time calling called
    """.split()
)


@dataclass
class _Term:
    words: tuple[str, ...]
    count: int
    first: int

    @property
    def score(self) -> int:
        return self.count * (PHRASE_WEIGHT if len(self.words) > 1 else 1)


def _tokens(text: str) -> list[str | None]:
    """Words of `text`, with None where a stop word or short word stood (so phrases do not span it)."""
    return [
        word if len(word) >= MIN_WORD_LENGTH and word not in STOP_WORDS else None
        for word in (match.group(0).lower() for match in _WORD.finditer(text))
    ]


def _count_tokens(tokens: list[str | None], terms: dict[tuple[str, ...], _Term], position: int) -> int:
    """Count each word and each two-word phrase of one text into `terms`; returns the position after it."""
    previous: str | None = None
    for token in tokens:
        position += 1
        if token is None:
            previous = None
            continue
        keys: list[tuple[str, ...]] = [(token,)]
        if previous is not None and previous != token:
            keys.append((previous, token))
        for key in keys:
            term = terms.get(key)
            if term is None:
                terms[key] = _Term(key, 1, position)
            else:
                term.count += 1
        previous = token
    return position


def _count_terms(texts: Sequence[str]) -> dict[tuple[str, ...], _Term]:
    terms: dict[tuple[str, ...], _Term] = {}
    position = 0
    remaining = MAX_SCANNED_CHARS
    for text in texts:
        if remaining <= 0:
            break
        tokens = _tokens(text[:remaining])
        remaining -= len(text)
        position = _count_tokens(tokens, terms, position)
    return terms


def _choose(terms: dict[tuple[str, ...], _Term], limit: int) -> list[_Term]:
    """The best-scoring terms, skipping any that repeats a word of one already chosen."""
    candidates = [term for term in terms.values() if len(term.words) == 1 or term.count >= MIN_PHRASE_COUNT]
    candidates.sort(key=lambda term: (-term.score, term.first, term.words))
    chosen: list[_Term] = []
    covered: set[str] = set()
    for term in candidates:
        if covered.intersection(term.words):
            continue
        chosen.append(term)
        covered.update(term.words)
        if len(chosen) == limit:
            break
    return chosen


def extract_topics(texts: Sequence[str], limit: int = 5) -> tuple[str, ...]:
    """Up to `limit` topic words or two-word phrases, most frequent first; equal input gives equal output."""
    if limit <= 0:
        return ()
    return tuple(" ".join(term.words) for term in _choose(_count_terms(texts), limit))
