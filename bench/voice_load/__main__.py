"""Conversational load benchmark of the realtime voice path. One command, prints a table (not a test):

    python -m bench.voice_load                    # ramp N = 10, 25, 50, 75, 100 until added p99 >= 20 ms
    python -m bench.voice_load --calls 50         # one N (about 40 s)

Calls start evenly over `--spread` seconds (one turn of the script; 0 puts them in phase, the worst case).
Each row also gives the CPU the model, the callers and other processes used: on a shared machine, a row
where others take most of a CPU measures the machine.

N concurrent calls, each a caller script (speech from tests/fixtures/audio, pauses, three turns and one
barge-in into a 20 s answer) streamed at 16 kHz as ACS does. The media host (`python -m media_host`, the
`realtime` processor, pinned to CPU 0) bridges them to a loopback realtime model (bench/voice_load/
model_server.py, pinned to CPU 1 with this generator) that answers each turn after a fixed think time.
Figures come from each call's media.json `turns` (the host's own measurements) and from the caller side:
- added turn latency: turn latency (speech_stopped on the audio clock to the first agent frame to ACS) minus
  the think time, p50 / p99 over all turns;
- barge-in stop time: caller speech over the agent to StopAudio written (host), and the caller-side time
  from the barge-in's first frame sent to StopAudio received / to the last agent frame received;
- dead air seconds per call, lost frames (dropped by the host either way, plus caller frames not counted),
  media host CPU per call (share of one core), and the largest N whose added p99 stays under 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.media_load.__main__ import ROOT, SECRET, cpu_busy_seconds, cpu_seconds, stop_server, wait_for_port
from bench.voice_load.caller import CallResult, build_script, run_call
from shared.blob_names import media_report_blob
from shared.call_token import call_token
from shared.voice_turns import percentile
from tools.azurite import free_port, running_azurite

P99_LIMIT_MS = 20.0
CONTAINER = "voicebench"


def start(command: list[str], cpu: int, env: dict[str, str], logs: Path, port: int) -> subprocess.Popen[bytes]:
    with logs.open("ab") as log:
        process = subprocess.Popen(["taskset", "-c", str(cpu), sys.executable, *command], cwd=ROOT, env=env,
                                   stdout=log, stderr=log, start_new_session=True)
    wait_for_port(port, process)
    return process


def read_reports(storage: str, instances: list[str]) -> list[dict]:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(storage)
    reports = []
    for instance in instances:
        try:
            reports.append(json.loads(service.get_blob_client(CONTAINER, media_report_blob(instance))
                                      .download_blob().readall()))
        except Exception:  # noqa: BLE001 - a missing report counts as a lost call below
            pass
    return reports


def trial(calls: int, args: argparse.Namespace, storage: str, logs: Path) -> dict:
    model_port, media_port = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    model = start(["-m", "bench.voice_load.model_server", str(model_port), str(args.think), str(args.long_answer)],
                  1, env, logs, model_port)
    media = start(["-m", "media_host"], 0, dict(
        env, MEDIA_HOST_PORT=str(media_port), MEDIA_HOST_BIND="127.0.0.1", VOICE_PROCESSOR="realtime",
        REALTIME_ENDPOINT=f"http://127.0.0.1:{model_port}", REALTIME_DEPLOYMENT="gpt-realtime",
        REALTIME_API_KEY="bench-key", CALL_TOKEN_SECRET=SECRET, AzureWebJobsStorage=storage,
        TRANSCRIPTS_CONTAINER=CONTAINER, MEDIA_MAX_CONNECTIONS="10000", MEDIA_DRAIN_SECONDS="0",
        MEDIA_DEAD_AIR_SECONDS=str(args.dead_air)), logs, media_port)
    run_id = f"{int(time.time() * 1000) % 10**9:09d}"
    instances = [f"call-voicebench-{run_id}-{n:05d}" for n in range(calls)]
    script = build_script()
    try:
        async def all_calls() -> list[CallResult]:
            start_at = time.monotonic() + 1.0
            # Calls start spread evenly over one turn of the script (`--spread`), as real calls are not in
            # phase: started together, every call's caller stops talking in the same 20 ms and every model
            # answer streams in at once, a burst no real population of calls makes.
            return await asyncio.gather(*(run_call(
                f"ws://127.0.0.1:{media_port}/ws/{instance}/{call_token(SECRET, instance)}", script,
                start_at + n * args.spread / calls) for n, instance in enumerate(instances)))

        cpu_before, wall_before = cpu_seconds(media.pid), time.monotonic()
        model_before, callers_before = cpu_seconds(model.pid), cpu_seconds(os.getpid())
        busy_before = cpu_busy_seconds(0), cpu_busy_seconds(1)
        import uvloop

        results = uvloop.run(all_calls())
        cpu_used, wall = cpu_seconds(media.pid) - cpu_before, time.monotonic() - wall_before
        model_used, callers_used = cpu_seconds(model.pid) - model_before, cpu_seconds(os.getpid()) - callers_before
        # What else ran on the two CPUs: the figures mean little when the load side or others were saturated.
        side = {"model_cpu": model_used / wall, "callers_cpu": callers_used / wall,
                "others_cpu0": (cpu_busy_seconds(0) - busy_before[0] - cpu_used) / wall,
                "others_cpu1": (cpu_busy_seconds(1) - busy_before[1] - model_used - callers_used) / wall}
        time.sleep(1.0)  # the last media.json writes
    finally:
        stop_server(media)
        stop_server(model)
    reports = read_reports(storage, instances)
    if args.dump and reports:
        print(json.dumps(reports[0].get("turns")), flush=True)
    return {**summarise(calls, results, reports, cpu_used / wall / calls, args), **side}


def summarise(calls: int, results: list[CallResult], reports: list[dict], cpu_share: float,
              args: argparse.Namespace) -> dict:
    think_ms = args.think * 1000
    turns = [entry for report in reports for entry in report.get("turns", {}).get("entries", {}).get("turns", [])]
    added = [entry["latencyMs"] - think_ms for entry in turns]
    barge = [entry for report in reports for entry in report.get("turns", {}).get("entries", {}).get("bargeIns", [])]
    caller_side = [result.barge_in() for result in results]
    sent = sum(result.frames_sent for result in results)
    lost = (sum(report.get("framesDropped", 0) for report in reports) + sent
            - sum(report.get("framesReceived", 0) for report in reports))
    return {
        "calls": calls, "failed": sum(1 for result in results if result.error) + calls - len(reports),
        "turns": len(turns), "expected_turns": 4 * calls,
        "added_p50": percentile(added, 0.5), "added_p99": percentile(added, 0.99),
        "model_to_acs_p99": percentile([e["modelToAcsMs"] for e in turns if e["modelToAcsMs"] is not None], 0.99),
        "caller_to_model_p99": percentile([e["callerToModelMs"] for e in turns if e["callerToModelMs"] is not None],
                                          0.99),
        "barge_ins": len(barge),
        "stop_audio_p99": percentile([e["stopAudioMs"] for e in barge if e["stopAudioMs"] is not None], 0.99),
        "caller_stop_p99": percentile([stop for stop, _ in caller_side if stop is not None], 0.99),
        "caller_silent_p99": percentile([last for _, last in caller_side if last is not None], 0.99),
        "dead_air_s_per_call": sum(r.get("turns", {}).get("deadAir", {}).get("totalMs", 0) for r in reports)
        / 1000 / max(1, len(reports)),
        "lost_frames": lost, "cpu_per_call": cpu_share,
        "generator_late": sum(result.late_sends for result in results),
    }


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def show(row: dict) -> None:
    print(f"  N={row['calls']:4}  turns {row['turns']}/{row['expected_turns']}  added p50 {fmt(row['added_p50'])} "
          f"p99 {fmt(row['added_p99'])} ms (model->ACS p99 {fmt(row['model_to_acs_p99'])}, caller->model p99 "
          f"{fmt(row['caller_to_model_p99'])})  barge-ins {row['barge_ins']}: StopAudio p99 "
          f"{fmt(row['stop_audio_p99'])} ms, caller-side StopAudio p99 {fmt(row['caller_stop_p99'])} / agent "
          f"silent p99 {fmt(row['caller_silent_p99'])} ms  dead air {fmt(row['dead_air_s_per_call'], 2)} s/call  "
          f"lost {row['lost_frames']}  cpu/call {row['cpu_per_call']:.1%}  failed {row['failed']}  "
          f"generator late frames {row['generator_late']}  CPU 1: model {row['model_cpu']:.0%}, callers "
          f"{row['callers_cpu']:.0%}; others on CPU 0 "
          f"{row['others_cpu0']:.0%} / CPU 1 {row['others_cpu1']:.0%}", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", default="10,25,50,75,100", help="N, or a comma list ramped until it fails")
    parser.add_argument("--think", type=float, default=0.3, help="the model's fixed think time, seconds")
    parser.add_argument("--long-answer", type=float, default=20.0, help="seconds of the barged-into answer")
    parser.add_argument("--dump", action="store_true", help="print the first call's media.json turns")
    parser.add_argument("--dead-air", type=int, default=1, help="MEDIA_DEAD_AIR_SECONDS for the media host")
    parser.add_argument("--spread", type=float, default=4.0,
                        help="seconds over which the calls start (0: all in phase, the worst case)")
    args = parser.parse_args(argv)
    if (os.cpu_count() or 1) < 2:
        print("needs 2 CPUs (media host on CPU 0, model and callers on CPU 1)", file=sys.stderr)
        return 2
    os.sched_setaffinity(0, {1})
    load = os.getloadavg()
    print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs "
          "(other processes on the machine distort the figures)", flush=True)
    logs = Path(tempfile.gettempdir()) / "voice_load_servers.log"
    best: dict | None = None
    rows = []
    with running_azurite() as azurite:
        for calls in [int(n) for n in args.calls.split(",")]:
            row = trial(calls, args, azurite.connection_string, logs)
            rows.append(row)
            show(row)
            passed = (row["added_p99"] is not None and row["added_p99"] < P99_LIMIT_MS and row["failed"] == 0
                      and row["lost_frames"] == 0)
            if not passed:
                break
            best = row
    print(f"\nthink time {args.think * 1000:.0f} ms, long answer {args.long_answer:.0f} s at 4x real time, "
          "16 kHz calls")
    print("calls  added p50  added p99  StopAudio p99  caller: StopAudio p99 / silent p99  dead air s/call  lost  "
          "cpu/call")
    for row in rows:
        print(f"{row['calls']:5}  {fmt(row['added_p50']):>9}  {fmt(row['added_p99']):>9}  "
              f"{fmt(row['stop_audio_p99']):>13}  {fmt(row['caller_stop_p99']):>21} / "
              f"{fmt(row['caller_silent_p99']):<9}  "
              f"{fmt(row['dead_air_s_per_call'], 2):>15}  {row['lost_frames']:4}  {row['cpu_per_call']:7.1%}")
    print(f"largest N per core with added p99 < {P99_LIMIT_MS:.0f} ms, no loss: "
          f"{best['calls'] if best else '< ' + args.calls.split(',')[0]} (media host on one core; logs in {logs})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
