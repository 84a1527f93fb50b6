"""The fuzzed surfaces: pure parsers in-process, and the real HTTP functions and media socket over loopback.

Each returns a `Tally`: inputs sent, answers by status (or outcome), and the failures that count: 5xx other
than a documented 503, connection errors (a crash or hang), and unexpected exception types.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from bench.fuzz.mutator import mutate_bytes, mutated_body, random_text
from shared.call_token import call_token
from shared.callback_events import parse_callback_delivery
from shared.event_grid import parse_event_grid_delivery
from shared.json_body import BadRequest, load_json_body
from shared.media_codec import MediaMessageError, decode_media_message

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "events"
CONCURRENCY = 32


@dataclass
class Tally:
    surface: str
    inputs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0  # 5xx other than 503
    crashes: int = 0  # connection reset / no answer / unexpected exception type
    examples: list[str] = field(default_factory=list)

    def fail(self, kind: str, detail: str) -> None:
        if kind == "5xx":
            self.server_errors += 1
        else:
            self.crashes += 1
        if len(self.examples) < 5:
            self.examples.append(detail[:300])


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


EVENT_SEEDS = [fixture(n) for n in ("incoming_call_eventgrid.json", "incoming_call_pstn_eventgrid.json",
                                    "incoming_call_cloudevents.json", "subscription_validation_eventgrid.json")]
CALLBACK_SEEDS = [fixture(n) for n in ("callbacks_connected.json", "callbacks_disconnected.json",
                                       "callbacks_answer_failed.json", "callbacks_recognize_completed.json")]
MEDIA_SEEDS: list[Any] = [
    {"kind": "AudioMetadata", "audioMetadata": {"subscriptionId": "s", "encoding": "PCM", "sampleRate": 16000,
                                                "channels": 1, "length": 640}},
    {"kind": "AudioData", "audioData": {"timestamp": "2024-05-27T10:00:00.000Z", "participantRawID": "4:+1555",
                                        "data": base64.b64encode(bytes(640)).decode(), "silent": False}},
    {"kind": "DtmfData", "dtmfData": {"data": "3"}},
    {"kind": "TranscriptionData", "transcriptionData": {"text": "hi", "format": "display", "confidence": 0.9,
                                                        "offset": 1, "duration": 2, "words": [{"text": "hi"}],
                                                        "participantRawID": "4:+1555", "resultStatus": "Final"}},
]


def fuzz_parsers(inputs: int, seed: int) -> list[Tally]:
    rng = random.Random(seed)
    tallies = []
    for name, seeds, parse in (("event parsing: Event Grid", EVENT_SEEDS, parse_event_grid_delivery),
                               ("event parsing: callbacks", CALLBACK_SEEDS, parse_callback_delivery)):
        tally = Tally(name)
        for _ in range(inputs):
            raw = mutated_body(rng.choice(seeds), rng)
            tally.inputs += 1
            try:
                parse(load_json_body(raw, "application/json"))
                tally.outcomes["accepted"] += 1
            except BadRequest as error:
                tally.outcomes[f"BadRequest {error.status}"] += 1
            except Exception as error:  # noqa: BLE001 - counted: this is what the fuzzer looks for
                tally.fail("crash", f"{type(error).__name__}: {error} <- {raw[:120]!r}")
        tallies.append(tally)
    return tallies


def fuzz_media_codec(inputs: int, seed: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally("media codec")
    for _ in range(inputs):
        message: str | bytes = mutated_body(rng.choice(MEDIA_SEEDS), rng)
        if rng.random() < 0.5:
            message = message.decode("utf-8", "replace")
        tally.inputs += 1
        try:
            decoded = decode_media_message(message, frame_bytes=rng.choice([None, 640, 960]),
                                           validate_audio=rng.random() < 0.5)
            tally.outcomes[type(decoded).__name__] += 1
        except MediaMessageError:
            tally.outcomes["MediaMessageError"] += 1
        except Exception as error:  # noqa: BLE001 - counted
            tally.fail("crash", f"{type(error).__name__}: {error}")
    return tally


async def _post(session: aiohttp.ClientSession, url: str, body: bytes, headers: Mapping[str, str],
                tally: Tally) -> None:
    tally.inputs += 1
    try:
        async with session.post(url, data=body, headers=dict(headers)) as response:
            await response.read()
            tally.outcomes[str(response.status)] += 1
            if response.status >= 500 and response.status != 503:
                tally.fail("5xx", f"{response.status} {url[:80]} <- {body[:120]!r}")
    except (aiohttp.ClientError, TimeoutError) as error:
        tally.fail("crash", f"{type(error).__name__} {url[:80]}")


async def _bounded(jobs: list[Callable[[], Any]]) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def run(job: Callable[[], Any]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(run(job) for job in jobs))


async def fuzz_events_endpoint(base_url: str, function_key: str, inputs: int, seed: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally("HTTP: POST /api/events")
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        jobs = []
        for _ in range(inputs):
            body = mutated_body(rng.choice(EVENT_SEEDS), rng)
            headers = {"Content-Type": rng.choice(["application/json", "text/plain", "application/json",
                                                   "application/cloudevents-batch+json"]),
                       "aeg-event-type": rng.choice(["Notification", "SubscriptionValidation", "Notification"])}
            key = function_key if rng.random() < 0.9 else quote(random_text(rng, 40))
            jobs.append(lambda b=body, h=headers, k=key: _post(session, f"{base_url}/api/events?code={k}", b, h,
                                                               tally))
        await _bounded(jobs)
    return tally


async def fuzz_callbacks_endpoint(base_url: str, secret: str, signer: Callable[[str], Mapping[str, str]],
                                  inputs: int, seed: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally("HTTP: POST /api/callbacks/{id}")
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        jobs = []
        for number in range(inputs):
            instance = f"call-fuzz{number:027d}" if rng.random() < 0.8 else random_text(rng, 300)
            token = call_token(secret, instance) if rng.random() < 0.7 else random_text(rng, 100)
            auth = rng.random()
            headers: dict[str, str] = {"Content-Type": "application/json"}
            if auth < 0.6:
                headers.update(signer("https://callback"))
            elif auth < 0.8:
                forged = mutate_bytes(signer("https://x")["Authorization"][7:].encode(), rng).decode("latin-1")
                headers["Authorization"] = "Bearer " + "".join(c for c in forged if " " <= c <= "~")[:4000]
            body = mutated_body(rng.choice(CALLBACK_SEEDS), rng)
            url = f"{base_url}/api/callbacks/{quote(instance, safe='')}?token={quote(token)}"
            jobs.append(lambda u=url, b=body, h=headers: _post(session, u, b, h, tally))
        await _bounded(jobs)
    return tally


async def _handshake(port: int, request: bytes, tally: Tally) -> None:
    tally.inputs += 1
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
        try:
            writer.write(request)
            await writer.drain()
            # Longer than the server's 10 s open timeout: an incomplete request is closed by the server, not us.
            status_line = await asyncio.wait_for(reader.readline(), 20)
        finally:
            writer.close()
    except (OSError, TimeoutError) as error:
        tally.fail("crash", f"{type(error).__name__} <- {request[:120]!r}")
        return
    parts = status_line.split()
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    tally.outcomes[str(status or "closed")] += 1
    if status >= 500 and status != 503:
        tally.fail("5xx", f"{status} <- {request[:200]!r}")


async def fuzz_handshakes(port: int, secret: str, signer: Callable[[str], Mapping[str, str]], inputs: int,
                          seed: int) -> Tally:
    rng = random.Random(seed)
    tally = Tally("WebSocket handshake")
    jobs = []
    for number in range(inputs):
        instance = f"call-hs{number:029d}"
        path = rng.choice([f"/ws/{instance}/{call_token(secret, instance)}", f"/ws/{instance}/x",
                           "/" + quote(random_text(rng, 200), safe="/?&="), "/healthz", "/ws/../../x"])
        headers = {"Host": f"127.0.0.1:{port}", "Upgrade": "websocket", "Connection": "Upgrade",
                   "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}
        if rng.random() < 0.3:
            headers.update(signer("wss://media"))
        elif rng.random() < 0.5:
            headers["Authorization"] = "Bearer " + random_text(rng, 500)
        for name in rng.sample(list(headers), k=rng.randint(0, 2)):
            if rng.random() < 0.5:
                del headers[name]  # drop a required header
            else:
                headers[name] = random_text(rng, 200)
        text = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        request = text.encode("utf-8", "replace")
        if rng.random() < 0.1:
            request = mutate_bytes(request, rng)
        jobs.append(lambda r=request: _handshake(port, r, tally))
    await _bounded(jobs)
    return tally


async def fuzz_media_messages(media_url: str, secret: str, signer: Callable[[str], Mapping[str, str]],
                              inputs: int, seed: int, per_socket: int = 100) -> Tally:
    """Garbage messages over genuine (authenticated) sockets: the socket may be closed cleanly, never crash."""
    rng = random.Random(seed)
    tally = Tally("media messages over genuine sockets")

    async def one_socket(number: int, count: int) -> None:
        instance = f"call-msg{number:028d}"
        url = f"{media_url}/ws/{instance}/{call_token(secret, instance)}"
        try:
            async with connect(url, additional_headers=dict(signer(url)), compression=None,
                               max_size=None, open_timeout=20) as ws:
                for _ in range(count):
                    message: str | bytes = mutated_body(rng.choice(MEDIA_SEEDS), rng)
                    if rng.random() < 0.8:
                        message = message.decode("utf-8", "replace")
                    tally.inputs += 1
                    try:
                        await ws.send(message)
                    except ConnectionClosed as closed:
                        tally.outcomes[f"closed {closed.rcvd.code if closed.rcvd else 'abnormal'}"] += 1
                        return
                    tally.outcomes["sent"] += 1
                await ws.close()
        except InvalidStatus as refused:
            tally.fail("5xx" if refused.response.status_code >= 500 else "crash",
                       f"genuine socket refused {refused.response.status_code}")
        except (OSError, TimeoutError) as error:
            tally.fail("crash", f"{type(error).__name__}")

    async def worker(worker_number: int) -> None:
        number = worker_number
        while tally.inputs < inputs:  # a socket the host closes (1007 for a bad peer) is replaced
            await one_socket(number, min(per_socket, inputs - tally.inputs))
            number += CONCURRENCY

    await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))
    return tally
