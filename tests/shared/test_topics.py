from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.topics import MIN_WORD_LENGTH, STOP_WORDS, extract_topics

BILLING_CALL = [
    "Hello, I am calling about my billing address.",
    "Sure, what is the billing address on the account?",
    "The billing address changed when I moved. Also the invoice was wrong.",
    "Okay, I will update the invoice and the billing address.",
]


def test_recurring_phrase_and_frequent_words_rank_first() -> None:
    assert extract_topics(BILLING_CALL) == ("billing address", "invoice", "account", "changed", "moved")


def test_limit_is_respected() -> None:
    assert extract_topics(BILLING_CALL, limit=2) == ("billing address", "invoice")
    assert extract_topics(BILLING_CALL, limit=0) == ()
    assert len(extract_topics(BILLING_CALL, limit=50)) <= 50


def test_frequency_then_first_appearance() -> None:
    texts = ["zebra apple mango", "mango apple", "apple"]
    assert extract_topics(texts) == ("apple", "mango", "zebra")
    assert extract_topics(["delta gamma", "beta"]) == ("delta", "gamma", "beta")


def test_stop_words_short_words_and_numbers_are_dropped() -> None:
    texts = ["The a an is it ok yes yeah um to of and 12345 go by", "it is the of ok ok ok"]
    assert extract_topics(texts) == ()


def test_case_and_punctuation_do_not_split_terms() -> None:
    assert extract_topics(["Refund! refund? REFUND. Router's router's"]) == ("refund", "router's")


def test_phrases_need_to_recur_and_not_cross_stop_words() -> None:
    assert extract_topics(["password reset", "reset password"]) == ("password", "reset")
    # "account the locked": the stop word breaks the phrase, so only single words come out
    assert extract_topics(["account the locked account the locked"]) == ("account", "locked")


def test_non_english_letters_are_words() -> None:
    assert extract_topics(["Fähre Fähre Überweisung"]) == ("fähre", "überweisung")


def test_empty_input() -> None:
    assert extract_topics([]) == ()
    assert extract_topics(["", "   "]) == ()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=8), st.integers(min_value=0, max_value=8))
def test_output_is_deterministic_bounded_and_clean(texts: list[str], limit: int) -> None:
    topics = extract_topics(texts, limit)
    assert topics == extract_topics(list(texts), limit)
    assert len(topics) <= limit
    assert len(set(topics)) == len(topics)
    joined = " ".join(texts).lower()
    for topic in topics:
        for word in topic.split(" "):
            assert len(word) >= MIN_WORD_LENGTH and word not in STOP_WORDS
            assert word in joined


def test_very_long_input_is_bounded() -> None:
    import time

    texts = ["network outage again and again router restart"] * 50_000
    started = time.perf_counter()
    topics = extract_topics(texts)
    assert time.perf_counter() - started < 3.0
    assert topics[0] in {"network outage", "router restart"}
