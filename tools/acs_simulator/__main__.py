"""CLI: serve the ACS simulator and place one scripted call against an events endpoint.

    python -m tools.acs_simulator --scenario happy_path --events-url http://127.0.0.1:7071/api/events \\
        --access-key <base64 key the app is configured with> [--port 8089] [--eml-dir out/eml]

Point the application's ACS endpoint setting at http://127.0.0.1:<port> (printed at start) before the
call is placed; with --port fixed the endpoint is stable across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import ScenarioError, bundled_scenarios, load_scenario
from tools.acs_simulator.server import AcsSimulatorServer

DEFAULT_EVENTS_URL = "http://127.0.0.1:7071/api/events"


def _with_code(url: str, code: str | None) -> str:
    if not code:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "code"] + [("code", code)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.acs_simulator", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", required=True, help=f"name ({', '.join(bundled_scenarios())}) or JSON path")
    parser.add_argument("--events-url", default=DEFAULT_EVENTS_URL)
    parser.add_argument("--function-key", help="appended to the events URL as ?code=")
    parser.add_argument("--access-key", required=True, help="base64 ACS access key the app signs requests with")
    parser.add_argument("--port", type=int, default=0, help="simulator port (0: a free one)")
    parser.add_argument("--eml-dir", type=Path, help="write delivered emails here as .eml")
    parser.add_argument("--start-delay", type=float, default=0.0,
                        help="seconds to wait after the simulator starts before placing the call")
    parser.add_argument("--json", action="store_true", help="print the ScenarioResult as JSON at the end")
    args = parser.parse_args(argv)
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with AcsSimulatorServer(args.access_key, eml_dir=args.eml_dir, port=args.port) as simulator:
        print(f"ACS simulator listening at {simulator.endpoint}", flush=True)

        async def place() -> int:
            await asyncio.sleep(args.start_delay)
            result = await run_scenario(scenario, events_url=_with_code(args.events_url, args.function_key),
                                        simulator=simulator, progress=lambda line: print(line, flush=True))
            if args.json:
                summary = asdict(result)
                summary["emails"] = [{"subject": e.subject, "eml_path": str(e.eml_path)} for e in result.emails]
                summary["operations"] = [{"kind": o.kind} for o in result.operations]
                summary["media"].pop("received_pcm", None)
                print(json.dumps(summary, indent=2, default=str))
            for email in result.emails:
                print(f"email: {email.subject!r} -> {email.eml_path or '(not written)'}")
            return 0 if result.validation_ok and not result.errors else 1

        return asyncio.run(place())


if __name__ == "__main__":
    sys.exit(main())
