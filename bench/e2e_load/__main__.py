"""End-to-end load (not a test): N concurrent simulated calls through the whole product on one machine.

    python -m bench.e2e_load                 # 100 concurrent happy-path calls
    python -m bench.e2e_load --calls 20

Three processes, as in Azure in miniature (bench/e2e_load/process_stack.py): this one plays ACS (simulator,
JWT key set, Event Grid), the dev host serves function_app (real-time Durable timers, ACS JWT on), the media
host runs on its own; plus Azurite. Every call speaks one
sentence, presses 1 and hangs up at 8 s. Reports calls answered, emails delivered, transcripts complete, and
p50/p99 of IncomingCall-to-answer latency (from the Event Grid POST to the answer request reaching ACS).
Exit status 0 when every call was answered, emailed once and fully transcribed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.e2e_load.process_stack import ProcessStack, process_stack
from calls.call_orchestration.activities import email_operation_id
from tools.acs_simulator.results import ScenarioResult
from tools.acs_simulator.runner import run_scenario
from tools.acs_simulator.scenario import load_scenario
from tools.azurite import running_azurite

SPOKEN = "Hello, this is Alice. Please call me back about my order tomorrow morning."


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


async def place_all(stack: ProcessStack, calls: int, spread_s: float, warmup: int) -> list[ScenarioResult]:
    scenario = load_scenario("happy_path")
    for _ in range(warmup):  # one at a time, to the end, before the measured calls ring
        await run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator, signer=stack.signer)

    async def one(number: int) -> ScenarioResult:
        await asyncio.sleep(spread_s * number / calls)  # all ringing within `spread_s`, then all talking at once
        return await run_scenario(scenario, events_url=stack.events_url, simulator=stack.simulator,
                                  signer=stack.signer)

    return list(await asyncio.gather(*(one(n) for n in range(calls))))


def print_answer_steps(steps: list[dict[str, float]]) -> None:
    """Per step of the answer path, as the function app timed it (calls/answer_timing.py)."""
    if not steps:
        print("  answer path by step:   no timing records in the dev host's log")
        return
    print(f"  answer path by step (function app, n={len(steps)}; 'total' is request to answer returned + raise):")
    names = list(dict.fromkeys(name for record in steps for name in record))
    for name in names:
        values = [record[name] for record in steps if name in record]
        print(f"    {name:<14} p50 {statistics.median(values):7.1f} ms   p99 {percentile(values, 0.99):7.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--spread", type=float, default=1.0, help="seconds over which the calls start")
    parser.add_argument("--warmup", type=int, default=0,
                        help="calls placed first and not counted (the first call in a process and against a fresh "
                             "Azurite also pays for connections and the claim container's creation)")
    parser.add_argument("--replay-processes", type=int, default=1,
                        help="orchestrator replays in this many processes beside the dev host, as Flex Consumption "
                             "runs Durable triggers on instances apart from HTTP triggers (tools/dev_host/"
                             "replay_worker.py); 0 runs everything in the dev host's one process")
    parser.add_argument("--profile", type=Path, default=None,
                        help="write a cProfile of the dev host's event-loop thread to this file "
                             "(read it with python -m pstats); the profiler slows the dev host down")
    args = parser.parse_args()
    print("machine load before (1/5/15 min): " + " ".join(f"{load:.2f}" for load in os.getloadavg()))
    started = time.monotonic()
    with running_azurite() as azurite, tempfile.TemporaryDirectory(prefix="e2e-load-") as work:
        with process_stack(azurite.connection_string, Path(work), args.profile, args.replay_processes) as stack:
            try:
                import uvloop  # the load generator's own loop overhead counts against the latencies it measures

                results = uvloop.run(place_all(stack, args.calls, args.spread, args.warmup))
            except ImportError:
                results = asyncio.run(place_all(stack, args.calls, args.spread, args.warmup))
            answer_statuses = [r.status for r in stack.simulator.requests_for("answer")][args.warmup:]
            answers = [r for r in stack.simulator.requests_for("answer") if r.status == 200][args.warmup:]
            instance_ids = sorted({r.json["operationContext"] for r in answers})
            finished = {i: stack.wait_for_call(i, timeout=180) for i in instance_ids}
            emails = {e.operation_id for e in stack.simulator.emails}
            emailed = sum(1 for i in instance_ids if email_operation_id(i) in emails)
            complete = sum(1 for i in instance_ids if SPOKEN in stack.transcript(i))
            steps = stack.answer_timings()[args.warmup:]
            dev_host_cpu = stack.dev_host_cpu_s()
            outcomes = [((s.get("output") or {}).get("outcome"), (s.get("output") or {}).get("partial"))
                        for s in finished.values()]
    latencies = [1000 * (r.timings["answered"] - r.timings["incoming_sent"]) for r in results
                 if "answered" in r.timings and "incoming_sent" in r.timings]
    connected = sum(1 for r in results if r.connected)
    replays = f"{args.replay_processes} process(es) of their own" if args.replay_processes else "the dev host's"
    print(f"e2e load: {args.calls} concurrent calls (started within {args.spread:.1f} s), "
          f"{time.monotonic() - started:.0f} s in all; orchestrator replays in {replays}")
    print(f"  calls answered:        {len(instance_ids)}/{args.calls} (connected {connected})")
    # A missed call is visible twice: the simulator's end of it (never_answered: no answer before its ring deadline)
    # and the answer request ACS refused (400: the call no longer rings), which the app records as answer_failed.
    ends = [r.ended_by for r in results]
    print(f"  simulator's call ends: {dict((e, ends.count(e)) for e in sorted(set(ends)))}; answer requests by "
          f"status: {dict((c, answer_statuses.count(c)) for c in sorted(set(answer_statuses)))}")
    print(f"  emails delivered:      {emailed}/{args.calls} (total emails {len(stack.simulator.emails)})")
    # The simulator speaks the sentence only if it keeps up with real time until the hang-up at 8 s; when this
    # process is saturated it can hang up first, and then there was nothing to transcribe.
    spoken = sum(1 for r in results if SPOKEN in r.media.transcripts_sent)
    print(f"  transcripts complete:  {complete}/{args.calls} (the simulator got to speak the sentence in {spoken})")
    print(f"  outcomes:              {dict((o, outcomes.count(o)) for o in set(outcomes))}")
    if latencies:
        print(f"  IncomingCall->answer:  p50 {statistics.median(latencies):.0f} ms, "
              f"p99 {percentile(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms (n={len(latencies)})")
    print_answer_steps(steps)
    if dev_host_cpu is not None:
        print(f"  dev host CPU (+ replays): {dev_host_cpu:.1f} s for {args.calls + args.warmup} calls to their end "
              f"({1000 * dev_host_cpu / (args.calls + args.warmup):.0f} ms a call)")
    frames_late = max((r.media.max_send_lateness_ms for r in results), default=0.0)
    print(f"  simulator's worst frame lateness: {frames_late:.0f} ms (behind real time: load-generator saturation)")
    ok = (len(instance_ids) == emailed == complete == args.calls
          and len(stack.simulator.emails) - args.warmup == args.calls)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
