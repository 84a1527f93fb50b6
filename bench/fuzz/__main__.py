"""Long fuzz run (not a test): at least 10,000 inputs per surface against the real product on loopback, while
real calls go on; prints counts of 5xx, crashes and unhandled exceptions, and whether the real calls were
unaffected.

    python -m bench.fuzz                    # 10,000 inputs per surface, seed 7
    python -m bench.fuzz --inputs 2000 --seed 1

Surfaces: Event Grid and callback parsing (in-process), the media codec (in-process), POST /api/events and
POST /api/callbacks/{id} (the dev host serving function_app, ACS JWT on), the media WebSocket handshake and
garbage media messages over authenticated sockets (the media host). Exit status 0 only when every count is 0
and every real call completed with its email and full transcript.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.fuzz.surfaces import (
    Tally,
    fuzz_callbacks_endpoint,
    fuzz_events_endpoint,
    fuzz_handshakes,
    fuzz_media_codec,
    fuzz_media_messages,
    fuzz_parsers,
)
from calls.call_orchestration.activities import email_operation_id
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import load_scenario
from tools.azurite import running_azurite
from tools.local_stack import LocalStack, local_stack


class ErrorRecords(logging.Handler):
    """Counts ERROR records (unhandled exceptions are logged by the hosts and asyncio at ERROR)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def unhandled(self) -> list[logging.LogRecord]:
        return [r for r in self.records if r.exc_info or "exception" in r.getMessage().lower()]


async def real_calls(stack: LocalStack, stop: asyncio.Event) -> list[dict[str, Any]]:
    """Place happy-path calls one after another until the fuzzing stops; each must end well."""
    outcomes: list[dict[str, Any]] = []
    scenario = load_scenario("happy_path")
    while not stop.is_set():
        answered_before = len(stack.simulator.requests_for("answer"))
        result = await run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator,
                                    signer=stack.signer)
        answers = stack.simulator.requests_for("answer")[answered_before:]
        instance_ids = {r.json["operationContext"] for r in answers if r.status == 200}
        outcome: dict[str, Any] = {"answered": len(instance_ids) == 1, "errors": result.errors[:3]}
        if len(instance_ids) == 1:
            (instance_id,) = instance_ids
            # The fuzzed events endpoint starts calls (and emails) of its own: count this call's only.
            status = await asyncio.to_thread(stack.wait_for_call, instance_id, 120)
            operation = email_operation_id(instance_id)
            outcome["email"] = sum(1 for e in stack.simulator.emails if e.operation_id == operation) == 1
            output = status.get("output") or {}
            outcome["completed"] = output.get("outcome") == "completed"
            # Complete = every sentence the simulator spoke is stored. Under this load the simulator (same process)
            # can fall behind real time and hang up before a sentence's audio ended: then it sent no text.
            stored = stack.transcript(instance_id)
            outcome["transcript"] = all(text in stored for text in result.media.transcripts_sent)
            outcome["spoken"] = len(result.media.transcripts_sent)
            outcome["detail"] = {"outcome": output.get("outcome"), "partial": output.get("partial"),
                                 "events": [t.get("event") for t in output.get("timeline", [])]}
        outcomes.append(outcome)
    return outcomes


def print_table(tallies: list[Tally], unhandled: int, errors: Counter[str], calls: list[dict[str, Any]],
                seconds: float) -> bool:
    print(f"\nfuzz run: {seconds:.0f} s")
    print(f"{'surface':42} {'inputs':>7} {'5xx':>5} {'crash':>6}  outcomes")
    for tally in tallies:
        top = ", ".join(f"{k}:{v}" for k, v in tally.outcomes.most_common(6))
        print(f"{tally.surface:42} {tally.inputs:7d} {tally.server_errors:5d} {tally.crashes:6d}  {top}")
        for example in tally.examples:
            print(f"    e.g. {example}")
    print(f"unhandled exceptions logged: {unhandled}; ERROR records by logger: {dict(errors) or '{}'}")
    good = sum(1 for c in calls if all(c.get(k) for k in ("answered", "email", "completed", "transcript")))
    print(f"real calls during the run: {len(calls)}, unaffected (answered, completed, emailed, full transcript): "
          f"{good}/{len(calls)}; sentences spoken by the simulator: {sum(c.get('spoken', 0) for c in calls)}")
    for number, call in enumerate(calls):
        if not all(call.get(k) for k in ("answered", "email", "completed", "transcript")):
            print(f"    call {number}: {call}")
    return (all(t.server_errors == 0 and t.crashes == 0 for t in tallies) and unhandled == 0 and calls
            and good == len(calls)) is True


async def fuzz_all(stack: LocalStack, inputs: int, seed: int) -> tuple[list[Tally], list[dict[str, Any]]]:
    stop = asyncio.Event()
    calls = asyncio.create_task(real_calls(stack, stop))
    secret = stack.env["CALL_TOKEN_SECRET"]
    media_port = int(stack.env["MEDIA_HOST_PORT"])
    tallies = [*await asyncio.to_thread(fuzz_parsers, inputs, seed),
               await asyncio.to_thread(fuzz_media_codec, inputs, seed)]
    print("pure surfaces done; now HTTP and WebSocket", flush=True)
    tallies += await asyncio.gather(
        fuzz_events_endpoint(stack.dev_host.base_url, stack.dev_host.function_key, inputs, seed),
        fuzz_callbacks_endpoint(stack.dev_host.base_url, secret, stack.signer, inputs, seed),
        fuzz_handshakes(media_port, secret, stack.signer, inputs, seed),
        fuzz_media_messages(stack.env["MEDIA_HOST_WSS_URL"], secret, stack.signer, inputs, seed))
    stop.set()
    return tallies, await calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=10_000, help="inputs per surface (default 10000)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # quiet console; errors are counted, not printed
    errors = ErrorRecords()
    logging.getLogger().addHandler(errors)
    thread_errors: list[str] = []
    threading.excepthook = lambda hook: thread_errors.append(f"{hook.exc_type.__name__} in {hook.thread}")
    started = time.monotonic()
    with running_azurite() as azurite, tempfile.TemporaryDirectory(prefix="fuzz-") as work:
        # Real-time Durable timers: a call must connect within the real 45 s, not a scaled 2 s, under load.
        with local_stack(azurite.connection_string, Path(work)) as stack:
            tallies, calls = asyncio.run(fuzz_all(stack, args.inputs, args.seed))
    by_logger = Counter(r.name for r in errors.records)
    ok = print_table(tallies, len(errors.unhandled()) + len(thread_errors), by_logger, calls,
                     time.monotonic() - started)
    for record in errors.unhandled()[:5]:
        print(f"    unhandled: {record.name}: {record.getMessage()[:200]}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
