"""`make demo`: one spoken call through the whole product on this machine, in about half a minute.

Starts Azurite, the ACS simulator, the media host and the dev host (serving the real `function_app`),
places the bundled `happy_path` call (a caller says one sentence, presses 1 and hangs up), then prints the
call's timeline from its Durable history and the summary email as delivered. Exits 0 only when the answer
asked ACS for real-time transcription on the call's transcription socket (as a real resource needs) and the
email's transcript is the bundled speech's text.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import sys
import tempfile
import time
from pathlib import Path

from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import load_scenario
from tools.azurite import running_azurite
from tools.local_stack import local_stack

SCENARIO = "happy_path"
STARTED = time.monotonic()


def say(text: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.1f}s] {text}", flush=True)


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    scenario = load_scenario(SCENARIO)
    spoken = " ".join(utterance.text for utterance in scenario.utterances)
    say("starting Azurite (storage emulator)")
    with running_azurite() as azurite, tempfile.TemporaryDirectory(prefix="acs-demo-") as work:
        say("starting the ACS simulator, the media host and the dev host (function_app)")
        with local_stack(azurite.connection_string, Path(work)) as stack:
            say(f"placing the '{SCENARIO}' call: {scenario.description}")
            result = asyncio.run(run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator,
                                              progress=lambda line: say(f"  simulator: {line}"), signer=stack.signer))
            if not result.validation_ok or result.errors:
                say(f"the call did not go through: {result.errors}")
                return 1
            answer = stack.simulator.requests_for("answer")[0].json
            instance_id = answer["operationContext"]
            transcription = answer.get("transcriptionOptions") or {}
            if not transcription.get("startTranscription") or not str(transcription.get("transportUrl", "")) \
                    .split("?")[0].endswith("/transcription"):
                say("the answer did not ask ACS for real-time transcription: a real call would have no transcript")
                return 1
            say(f"the answer asked for transcription ({transcription['locale']}) on the call's transcription socket")
            say(f"waiting for the orchestration {instance_id} to summarise the call")
            status = stack.wait_for_call(instance_id, timeout=60)
            output = status.get("output") or {}
            print()
            print(f"Call {instance_id}: {status['runtimeStatus']}, outcome {output.get('outcome')}")
            print("Timeline (from the orchestration's Durable history):")
            for entry in output.get("timeline", []):
                detail = f"  {entry['detail']}" if entry.get("detail") else ""
                print(f"  {entry['at']}  {entry['event']}{detail}")
            emails = sorted(stack.eml_dir.glob("*.eml"))
            if len(emails) != 1:
                say(f"expected one summary email, found {len(emails)}")
                return 1
            message = email.message_from_bytes(emails[0].read_bytes(), policy=email.policy.default)
            plain = message.get_body(preferencelist=("plain",))
            body = plain.get_content() if plain is not None else ""
            print()
            print(f"Summary email ({emails[0].name}, also sent as HTML):")
            print(f"  From: {message['From']}\n  To: {message['To']}\n  Subject: {message['Subject']}\n")
            print("\n".join(f"  | {line}" for line in body.splitlines()))
            print()
            if spoken not in body:
                say("the email's transcript is not the bundled speech's text")
                return 1
            say("done: the email's transcript is the bundled speech's text, through ACS's transcription path")
    return 0


if __name__ == "__main__":
    sys.exit(main())
