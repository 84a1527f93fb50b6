from __future__ import annotations

import html
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.call_timeline import TimelineEntry
from shared.json_body import BadRequest
from shared.summary import CallSummaryInput, summary_input_from_dict
from shared.summary_render import INCOMPLETE_NOTE, format_duration, render_summary
from shared.transcript_lines import TranscriptSegment, parse_transcript


def parse_transcript_jsonl(text: str) -> list[TranscriptSegment]:
    return parse_transcript(text).segments

CALLER = "4:+15551234567"
_TAG_NAMES = ("html", "head", "title", "body", "h2", "h3", "table", "tr", "th", "td", "p", "strong", "em")
OWN_TAGS = {"!DOCTYPE", "meta", *_TAG_NAMES, *(f"/{name}" for name in _TAG_NAMES)}
BLOB = "calls/call-0123/transcript.jsonl"


def make_call(**changes: object) -> CallSummaryInput:
    fields: dict[str, object] = {
        "instance_id": "call-0123",
        "caller": CALLER,
        "callee": "4:+18005550100",
        "outcome": "completed",
        "ringing_at": "2026-11-25T21:00:00Z",
        "connected_at": "2026-11-25T21:00:02.5000000Z",
        "ended_at": "2026-11-25T21:02:07.5Z",
        "end_reason": "CallDisconnected",
        "timeline": (
            TimelineEntry("2026-11-25T21:00:00Z", "ringing", None),
            TimelineEntry("2026-11-25T21:00:02Z", "CallConnected", "code 200"),
            TimelineEntry("2026-11-25T21:02:07Z", "CallDisconnected", "transferred to +15559876543"),
        ),
        "transcript_blob": BLOB,
        "media": {"framesReceived": 6250, "dtmfTones": ["5", "5", "5", "1", "2", "3", "4", "5", "6", "7"], "gaps": 0},
        "partial": False,
    }
    fields.update(changes)
    return CallSummaryInput(**fields)  # type: ignore[arg-type]


def line(speaker: str, text: str, offset: object, **extra: object) -> str:
    return json.dumps({"speaker": speaker, "text": text, "offsetMs": offset, **extra}, ensure_ascii=False)


TRANSCRIPT = [
    TranscriptSegment(CALLER, "Hi, my router keeps dropping the connection.", 1_000),
    TranscriptSegment("assistant", "Sorry to hear that. Have you restarted the router?", 4_000),
    TranscriptSegment(CALLER, "Yes, the router restarted twice; connection still drops.", 9_500),
]


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_parse_transcript_jsonl_is_lenient_and_counts_bad_lines() -> None:
    text = "\n".join(
        [
            line("caller", "hello", 0, durationMs=500, confidence=0.9, source="caller"),
            "",
            "not json",
            "[1, 2]",
            line("caller", "no offset", None),
            line("caller", "negative", -5),
            line("caller", "bool offset", True),
            json.dumps({"speaker": 1, "text": "x", "offsetMs": 1}),
            "[" * 10_000,
            line(
                "assistant", "line\u2028separator inside", 1200.0, durationMs=None, confidence=None, source="assistant"
            ),
            "   ",
            line("caller", "last, no newline", 2000)[:-1],
        ]
    )
    parsed = parse_transcript(text)
    assert parsed.segments == [
        TranscriptSegment("caller", "hello", 0, 500, 0.9, "caller"),
        TranscriptSegment("assistant", "line\u2028separator inside", 1200, None, None, "assistant"),
    ]
    assert parsed.skipped_lines == 8
    assert parse_transcript_jsonl(text) == parsed.segments
    assert parse_transcript_jsonl("") == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_transcript_parsing_never_raises(text: str) -> None:
    parsed = parse_transcript(text)
    assert parsed.skipped_lines + len(parsed.segments) <= text.count("\n") + 1


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, "0 s"), (0.4, "0 s"), (45, "45 s"), (60, "1 min"), (125, "2 min 5 s"), (3600, "1 h"), (3725, "1 h 2 min 5 s")],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected


def test_completed_call_summary() -> None:
    rendered = render_summary(make_call(), TRANSCRIPT)
    assert rendered.subject == "Call completed: +1 555 *** **67, 2 min 5 s"
    assert rendered.topics[0] == "router"
    assert "connection" in rendered.topics
    assert not rendered.transcript_truncated
    text = rendered.plain_text
    for expected in [
        "Caller: +1 555 *** **67",
        "Called: +1 800 *** **00",
        "Outcome: completed",
        "Duration: 2 min 5 s",
        "End reason: CallDisconnected",
        "Topics: router, connection",
        "framesReceived: 6250",
        "2026-11-25T21:00:02Z  CallConnected - code 200",
        "[00:01] +1 555 *** **67: Hi, my router keeps dropping the connection.",
        "[00:04] assistant: Sorry to hear that.",
        "Call id: call-0123",
    ]:
        assert expected in text
    assert text.index("Timeline") < text.index("Transcript")
    assert INCOMPLETE_NOTE not in text
    for body in (rendered.plain_text, rendered.html, rendered.subject):
        # caller, callee, the number in a timeline detail and the keyed-in tones are all masked
        for number in ("15551234567", "18005550100", "15559876543", "5551234567"):
            assert number not in digits(body.replace("6250", ""))


def test_transcript_is_ordered_by_offset() -> None:
    rendered = render_summary(make_call(), list(reversed(TRANSCRIPT)))
    assert rendered.plain_text.index("[00:01]") < rendered.plain_text.index("[00:04]")
    assert rendered.plain_text.index("[00:04]") < rendered.plain_text.index("[00:09]")


def test_missed_call_gets_a_short_email() -> None:
    call = make_call(outcome="missed", connected_at=None, ended_at="2026-11-25T21:00:45Z", end_reason="no answer")
    rendered = render_summary(call, TRANSCRIPT)
    assert rendered.subject == "Missed call: +1 555 *** **67"
    assert rendered.topics == () and not rendered.transcript_truncated
    for section in ("Transcript", "Timeline", "Media statistics", "router"):
        assert section not in rendered.plain_text and section not in rendered.html
    assert "End reason: no answer" in rendered.plain_text
    assert "Rang at: 2026-11-25T21:00:00Z" in rendered.plain_text
    assert len(rendered.plain_text) < 500


@pytest.mark.parametrize(
    ("outcome", "subject_start"),
    [
        ("max_duration", "Call ended at maximum duration: "),
        ("answer_failed", "Call could not be answered: "),
        ("transferred", "Call transferred: "),
        ("weird", "Call ended (weird): "),
    ],
)
def test_other_outcomes(outcome: str, subject_start: str) -> None:
    assert render_summary(make_call(outcome=outcome), TRANSCRIPT).subject.startswith(subject_start)


def test_not_connected_call_has_no_duration() -> None:
    rendered = render_summary(make_call(outcome="answer_failed", connected_at=None), [])
    assert rendered.subject == "Call could not be answered: +1 555 *** **67"
    assert "Connected at: not connected" in rendered.plain_text
    assert "No transcript was recorded." in rendered.plain_text


def test_partial_transcript_is_flagged() -> None:
    rendered = render_summary(make_call(partial=True), TRANSCRIPT)
    assert INCOMPLETE_NOTE in rendered.plain_text
    assert html.escape(INCOMPLETE_NOTE) in rendered.html


def test_html_escapes_every_piece_of_data() -> None:
    hostile = "<script>alert(\"x\")</script> & 'quoted' <b>bold</b>"
    call = make_call(
        caller='<img src=x onerror="alert(1)">',
        callee="&callee<",
        outcome="<outcome>",
        end_reason=hostile,
        instance_id="call-<i>",
        ringing_at="<t>",
        timeline=(TimelineEntry("<at>", "<event>", hostile),),
        media={"<key>": "<value>", "nested": {"<k2>": '"v2"'}},
    )
    transcript = [TranscriptSegment("<speaker>", hostile, 0), TranscriptSegment("caller", "a & b \"c\" 'd'", 10)]
    rendered = render_summary(call, transcript)
    body = rendered.html
    assert "<script" not in body and "<img" not in body and "<b>" not in body and "<i>" not in body
    for tag in ("<outcome>", "<event>", "<at>", "<t>", "<key>", "<value>", "<k2>", "<speaker>", "&callee<"):
        assert tag not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;" in body
    assert "a &amp; b &quot;c&quot; &#x27;d&#x27;" in body
    assert "&lt;event&gt;" in body and "&lt;speaker&gt;" in body and "&amp;callee&lt;" in body
    # only our own markup remains
    assert set(re.findall(r"<(/?[^\s>]*)", body)) <= OWN_TAGS
    assert "\n" not in rendered.subject and "\r" not in rendered.subject


@pytest.mark.parametrize("separator", ["\r\n", "\n", "\x85", "\u2028", "\u2029", "\x00"])
def test_subject_has_no_line_breaks(separator: str) -> None:
    rendered = render_summary(make_call(caller=f"evil{separator}Bcc: victim@example.com", outcome=f"x{separator}y"), [])
    assert len(rendered.subject.splitlines()) == 1 and "\x00" not in rendered.subject


def test_long_transcript_is_cut_with_a_note_naming_the_blob() -> None:
    transcript = [
        TranscriptSegment("caller", f"sentence number {index} about billing", index * 1000) for index in range(5000)
    ]
    rendered = render_summary(make_call(), transcript, max_transcript_chars=2_000)
    assert rendered.transcript_truncated
    section = rendered.plain_text.split("Transcript\n----------\n", 1)[1]
    assert len(section) < 2_000 + 500
    assert f"the full transcript is in blob {BLOB}" in rendered.plain_text
    assert BLOB in rendered.html
    assert "sentence number 0 " in section and "sentence number 4999" not in section


def test_one_huge_segment_is_cut_too() -> None:
    rendered = render_summary(make_call(), [TranscriptSegment("caller", "word " * 1_000_000, 0)], 10_000)
    assert rendered.transcript_truncated
    assert len(rendered.plain_text) < 15_000


def test_email_size_stays_far_below_the_acs_limit() -> None:
    hostile = '<&"' * 2_000
    transcript = [TranscriptSegment("8:acs:" + "x" * 500, hostile, index) for index in range(100_000)]
    call = make_call(
        timeline=tuple(TimelineEntry("t" * 1000, "e" * 1000, "d" * 10_000) for _ in range(10_000)),
        media={f"key{index}": "<" * 10_000 for index in range(1000)},
        end_reason="r" * 100_000,
    )
    rendered = render_summary(call, transcript)
    size = len(rendered.plain_text.encode()) + len(rendered.html.encode()) + len(rendered.subject.encode())
    assert rendered.transcript_truncated
    assert size < 2 * 1024 * 1024  # ACS Email accepts 10 MB


def test_summary_input_round_trips_through_json() -> None:
    call = make_call(partial=True)
    data = json.loads(json.dumps(call.to_dict()))
    assert summary_input_from_dict(data) == call


def test_summary_input_accepts_the_orchestration_fields() -> None:
    fields = {
        "instance_id": "call-1",
        "caller": CALLER,
        "callee": "x",
        "outcome": "missed",
        "ringing_at": "2026-11-25T21:00:00Z",
        "connected_at": None,
        "ended_at": None,
        "end_reason": None,
        "timeline": [{"at": "2026-11-25T21:00:00Z", "event": "ringing", "detail": None}],
        "media": None,
        "partial": False,
    }
    call = summary_input_from_dict(fields)
    assert call.timeline == (TimelineEntry("2026-11-25T21:00:00Z", "ringing", None),)
    assert call.transcript_blob is None and call.outcome == "missed"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"instance_id": None}, "instance_id"),
        ({"caller": 5}, "caller"),
        ({"timeline": "x"}, "timeline"),
        ({"timeline": [{"at": 1, "event": "x"}]}, "timeline[0]"),
        ({"timeline": ["x"]}, "timeline[0]"),
        ({"media": []}, "media"),
        ({"partial": "yes"}, "partial"),
    ],
)
def test_summary_input_rejects_wrong_types(change: dict[str, object], path: str) -> None:
    data = {**make_call().to_dict(), **change}
    with pytest.raises(BadRequest) as caught:
        summary_input_from_dict(data)
    assert caught.value.path == path


segments = st.builds(
    TranscriptSegment,
    st.text(max_size=20) | st.sampled_from([CALLER, "caller", "assistant"]),
    st.text(max_size=80),
    st.integers(min_value=0, max_value=10**9),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(segments, max_size=20), st.text(max_size=30), st.sampled_from(["completed", "missed", "x<y"]))
def test_rendering_never_leaks_raw_markup_or_the_caller_number(
    transcript: list[TranscriptSegment], reason: str, outcome: str
) -> None:
    rendered = render_summary(make_call(end_reason=reason, outcome=outcome), transcript, max_transcript_chars=500)
    assert "15551234567" not in digits(rendered.subject)
    assert "+15551234567" not in rendered.html and "+15551234567" not in rendered.plain_text
    # every "<" in the HTML opens one of our own tags: no data can open markup
    assert set(re.findall(r"<(/?[^\s>]*)", rendered.html)) <= OWN_TAGS


def test_already_masked_parties_render_the_same() -> None:
    from shared.pii import mask_raw_id

    acs_user = "8:acs:98e4cbef-70e7-4733-8594-063c4a72d711_00000014-1889-f3a7-6a0b-343a0d0061f3"
    raw = render_summary(make_call(callee=acs_user), TRANSCRIPT)
    masked = render_summary(make_call(caller=mask_raw_id(CALLER), callee=mask_raw_id(acs_user)), TRANSCRIPT)
    assert masked.subject == raw.subject == "Call completed: +1 555 *** **67, 2 min 5 s"
    assert masked.plain_text == raw.plain_text
    assert "Called: 8:acs:98e4...61f3" in masked.plain_text


def test_the_email_says_why_a_call_has_no_transcript() -> None:
    from shared.summary_render import NOT_STARTED_NOTE, NOT_TRANSCRIBED_NOTE

    requested = render_summary(make_call(), [])
    assert NOT_TRANSCRIBED_NOTE not in requested.plain_text and NOT_STARTED_NOTE not in requested.plain_text
    not_configured = render_summary(make_call(transcription="not_configured"), [])
    assert NOT_TRANSCRIBED_NOTE in not_configured.plain_text
    assert "ACS_COGNITIVE_SERVICES_ENDPOINT" in not_configured.html
    assert NOT_STARTED_NOTE in render_summary(make_call(transcription="off"), []).plain_text


def test_a_fallback_email_names_the_summary_failure_escaped() -> None:
    rendered = render_summary(make_call(summary_error="<b>blob down</b>\nsecond line"), [])
    assert "The call's summary could not be prepared (<b>blob down</b> second line)" in rendered.plain_text
    assert "&lt;b&gt;blob down&lt;/b&gt;" in rendered.html and "<b>blob down" not in rendered.html


def test_the_new_fields_round_trip_through_the_strict_decoder() -> None:
    call = make_call(transcription="not_configured", summary_error="x")
    assert summary_input_from_dict(call.to_dict()) == call
    assert summary_input_from_dict({**call.to_dict(), "transcription": None}).transcription == "requested"


def test_the_email_has_one_line_on_the_voice_turns() -> None:
    media = {"turns": 3, "turnLatencyP50Ms": 410.5, "turnLatencyP95Ms": 620.0, "turnLatencyMaxMs": 700.2,
             "bargeIns": 1, "bargeInStopAudioP95Ms": 2.5, "deadAirCount": 2, "deadAirMs": 9000.0}
    rendered = render_summary(make_call(media=media), [])
    assert ("Voice: 3 turn(s); latency p50 410.5 ms, p95 620.0 ms, max 700.2 ms; 1 barge-in(s), StopAudio p95 "
            "2.5 ms; dead air 2 time(s), 9000.0 ms in all.") in rendered.plain_text
    assert "Voice:" not in render_summary(make_call(media={"turns": 0}), []).plain_text


def test_an_outbound_call_is_named_by_whom_it_called() -> None:
    completed = make_call(direction="outbound", caller="+18005550199", callee="+14255550100")
    assert render_summary(completed, TRANSCRIPT).subject.startswith("Outbound call completed: +1 425 *** **00")
    declined = make_call(direction="outbound", outcome="not_answered", connected_at=None, callee="+14255550100",
                         end_reason="code 603, subCode 0, declined")
    rendered = render_summary(declined, TRANSCRIPT)
    assert rendered.subject == "Outbound call not answered: +1 425 *** **00"
    assert "Transcript" not in rendered.plain_text and "End reason: code 603" in rendered.plain_text
    assert summary_input_from_dict(completed.to_dict()).direction == "outbound"
    assert summary_input_from_dict({**completed.to_dict(), "direction": "sideways"}).direction == "inbound"


def test_the_timeline_is_rendered_in_time_order_with_undated_entries_last() -> None:
    # A key press is noted when the media host's report arrives, after the call ended, at its own earlier time.
    call = make_call(timeline=(
        TimelineEntry("2026-11-25T21:00:00Z", "ringing", None),
        TimelineEntry("not a time", "odd", None),
        TimelineEntry("2026-11-25T21:02:07Z", "CallDisconnected", None),
        TimelineEntry("2026-11-25T21:01:00.510Z", "dtmf_received", "1"),
        TimelineEntry("2026-11-25T21:02:07Z", "MediaStreamEnded", None),
    ), transcript_blob=None)
    rendered = render_summary(call, []).plain_text
    timeline = rendered[rendered.index("Timeline"):]
    order = [timeline.index(f"  {name}") for name in ("ringing", "dtmf_received", "CallDisconnected",
                                                     "MediaStreamEnded", "odd")]
    assert order == sorted(order)
