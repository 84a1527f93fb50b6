"""The Durable SDK's timestamp hook: the same instants as dateutil, installed where the pinned SDK looks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from azure.durable_functions.models.DurableOrchestrationContext import DurableOrchestrationContext
from dateutil.parser import parse as dateutil_parse
from hypothesis import given
from hypothesis import strategies as st

from calls import replay_timestamps
from calls.replay_timestamps import SDK_MODULES, parse_timestamp

history_module, status_module = SDK_MODULES

MOMENTS = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59))


def _same(text: str) -> None:
    fast, slow = parse_timestamp(text), dateutil_parse(text)
    assert fast == slow
    assert fast.isoformat() == slow.isoformat()
    assert fast.utcoffset() == slow.utcoffset()


@given(MOMENTS, st.integers(min_value=0, max_value=9_999_999))
def test_the_extensions_round_trip_form_parses_as_dateutil_parses_it(moment: datetime, ticks: int) -> None:
    # DTFx writes 7 fractional digits (100 ns ticks); dateutil and fromisoformat both keep the first 6.
    base = moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")
    _same(f"{base}.{ticks:07d}Z")
    _same(f"{base}Z")
    _same(f"{base}.{ticks // 10_000:03d}Z")


@pytest.mark.parametrize("text", ["2026-12-04T18:00:00+01:00", "2026-12-04 18:00:00Z", "2026-12-04T18:00:00",
                                  "Dec 4 2026 6pm", "2026-12-04T18:00:00.12345678Z"])
def test_other_forms_are_left_to_dateutil(text: str) -> None:
    _same(text)


def test_the_hook_is_installed_where_the_pinned_sdk_calls_it() -> None:
    import function_app  # noqa: F401 - start-up installs it

    assert history_module.dt_parse is parse_timestamp
    assert status_module.dt_parse is parse_timestamp
    # ...and the pinned SDK's code looks the parser up by that global name when it builds each record.
    assert "dt_parse" in history_module.HistoryEvent.__init__.__code__.co_names
    assert "dt_parse" in status_module.DurableOrchestrationStatus.__init__.__code__.co_names
    assert replay_timestamps.install()  # idempotent
    # What the replay builds from the extension's context: the events' timestamps through the hook.
    now = datetime(2026, 12, 4, 18, 0, 0, 123456, tzinfo=UTC)
    stamp = (now + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%f") + "7Z"
    context = DurableOrchestrationContext.from_json(json.dumps({
        "history": [{"EventType": 12, "EventId": -1, "IsPlayed": False, "Timestamp": stamp}],
        "input": None, "instanceId": "x", "isReplaying": False, "parentInstanceId": None,
        "upperSchemaVersion": 1}))
    assert context.current_utc_datetime == now + timedelta(seconds=1)


def test_an_sdk_without_the_hook_keeps_working_and_says_so(monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delattr(history_module, "dt_parse")
    monkeypatch.setattr(status_module, "dt_parse", dateutil_parse)
    assert not replay_timestamps.install()
    assert "slow way" in caplog.text
    assert status_module.dt_parse is parse_timestamp  # the module that still has it is served
