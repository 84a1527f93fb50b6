"""The simulator honours the answer's media options on a real socket: unmixed audio is one AudioData stream per
participant, mixed one stream; DtmfData goes out in ACS's exact wire form. Scenario speakers are validated."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from tools.acs_simulator.media_streamer import MediaStreamer
from tools.acs_simulator.results import MediaStats
from tools.acs_simulator.scenario import ScenarioError, parse_scenario
from tools.acs_simulator.wav_audio import PcmAudio

CALLER, SECOND = "4:+14255550100", "4:+14255550177"
BASE = {"caller": "+14255550100", "callee": "+18005550199"}


async def _stream(unmixed: bool) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []

    async def handler(ws: ServerConnection) -> None:
        async for message in ws:
            received.append(json.loads(message))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        streamer = MediaStreamer(url=f"ws://127.0.0.1:{port}/ws", headers={}, sample_rate=16000,
                                 participant_raw_id=CALLER, call_connection_id="cc", correlation_id="corr",
                                 stats=MediaStats(), bidirectional=True, unmixed=unmixed)
        assert await streamer.open()
        # The second participant speaks 100 ms in, for 100 ms (five frames).
        streamer.schedule_speech(streamer.start_time + 0.1, PcmAudio(16000, b"\x01\x00" * 1600), "hi", SECOND)
        await asyncio.sleep(0.05)
        streamer.send_dtmf("1")
        await asyncio.sleep(0.3)
        await streamer.close()
    return received


def test_unmixed_audio_is_one_stream_per_participant_from_its_first_words() -> None:
    received = asyncio.run(_stream(unmixed=True))
    audio = [m["audioData"] for m in received if m["kind"] == "AudioData"]
    caller = [a for a in audio if a["participantRawID"] == CALLER]
    second = [a for a in audio if a["participantRawID"] == SECOND]
    assert {a["participantRawID"] for a in audio} == {CALLER, SECOND}
    assert all(a["silent"] for a in caller)  # the caller says nothing: its own stream stays silent
    assert second and not second[0]["silent"]  # the second stream starts with its first words
    assert second[0]["timestamp"] > caller[0]["timestamp"]
    assert {a["timestamp"] for a in second} <= {a["timestamp"] for a in caller}  # one clock for all streams
    assert [m for m in received if m["kind"] == "DtmfData"] == [{"kind": "DtmfData", "dtmfData": {"data": "1"}}]


def test_mixed_audio_is_one_stream_in_the_callers_name() -> None:
    received = asyncio.run(_stream(unmixed=False))
    audio = [m["audioData"] for m in received if m["kind"] == "AudioData"]
    assert {a["participantRawID"] for a in audio} == {CALLER}
    assert any(not a["silent"] for a in audio)  # the second participant is heard in the mix
    timestamps = [a["timestamp"] for a in audio]
    assert len(timestamps) == len(set(timestamps))


def test_a_speaker_is_an_e164_number_or_an_acs_user() -> None:
    parsed = parse_scenario({**BASE, "utterances": [
        {"text": "a", "audio": "caller_utterance", "at_s": 0},
        {"text": "b", "audio": "caller_utterance", "at_s": 1, "speaker": "+14255550177"},
        {"text": "c", "audio": "caller_utterance", "at_s": 2, "speaker": "8:acs:agent_1"}]})
    assert [u.speaker for u in parsed.utterances] == [None, "+14255550177", "8:acs:agent_1"]


@pytest.mark.parametrize("speaker", ["4255550177", "4:+14255550177", "", 7, "8:acs:"])
def test_a_bad_speaker_is_refused(speaker: object) -> None:
    with pytest.raises(ScenarioError, match=r"utterances\[0\].speaker"):
        parse_scenario({**BASE, "utterances": [{"text": "a", "audio": "x", "speaker": speaker}]})


def test_at_most_four_speakers_as_unmixed_audio_streams() -> None:
    utterances = [{"text": "a", "audio": "x", "speaker": f"+1425555010{i}"} for i in range(1, 5)]
    with pytest.raises(ScenarioError, match="at most 4 speakers"):
        parse_scenario({**BASE, "utterances": utterances})
    parse_scenario({**BASE, "utterances": utterances[:3]})
