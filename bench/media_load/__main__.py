"""Media host capacity benchmark. One command, prints a table (not a test):

    python -m bench.media_load                      # media host (echo) vs seed-style vs raw websockets echo
    python -m bench.media_load --servers media --start 600 --seconds 5

For each server it ramps the number N of simulated ACS streams (50 AudioData frames/s each, answered by
50 frames/s each), with the server pinned to CPU 0 and the Node `ws` load generator pinned to CPU 1, and
reports the capacity: the largest N with no lost frame, no failed connection and p99 turnaround < 20 ms.
Each trial starts a fresh server so RSS per call is measured from a clean baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from shared.call_token import call_token
from tools.azurite import free_port, running_azurite

ROOT = Path(__file__).resolve().parents[2]
LOADGEN = Path(__file__).with_name("loadgen.js")
SECRET = "bench-secret-0123456789abcdefghijklmnopqrstuv"
INSTANCE = "call-bench0000000000000000000000000000"
P99_LIMIT_MS = 20.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Trial:
    server: str
    streams: int
    passed: bool
    p50: float | None
    p99: float | None
    lost: int
    failed: int
    cpu_us_per_frame: float | None
    rss_kib_per_call: float | None
    note: str = ""
    generator_cpu: float | None = None  # share of one core the load generator used
    others_on_server_cpu: float | None = None  # share of CPU 0 used by processes other than the server


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def cpu_busy_seconds(cpu: int) -> float:
    """Busy time of one CPU from /proc/stat (all processes)."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            values = [int(v) for v in line.split()[1:]]
            return (sum(values[:8]) - values[3] - values[4]) / CLOCK_TICKS  # minus idle and iowait
    return 0.0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not listen")


def start_server(kind: str, port: int, storage: str, logs: Path) -> subprocess.Popen[bytes]:
    if kind == "media":
        command = [sys.executable, "-m", "media_host"]
        env = dict(os.environ, MEDIA_HOST_PORT=str(port), MEDIA_HOST_BIND="127.0.0.1", VOICE_PROCESSOR="echo",
                   CALL_TOKEN_SECRET=SECRET, AzureWebJobsStorage=storage, TRANSCRIPTS_CONTAINER="bench",
                   MEDIA_MAX_CONNECTIONS="10000", MEDIA_DRAIN_SECONDS="0", PYTHONPATH=str(ROOT))
    else:
        command = [sys.executable, "-m", "bench.media_load.baselines", kind, str(port)]
        env = dict(os.environ, PYTHONPATH=str(ROOT))
    with logs.open("ab") as log:
        process = subprocess.Popen(["taskset", "-c", "0", *command], cwd=ROOT, env=env,
                                   stdout=log, stderr=log, start_new_session=True)
    wait_for_port(port, process)
    return process


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_trial(kind: str, streams: int, seconds: float, warmup: float, storage: str, logs: Path,
              deflate: bool = False, frame_bytes: int = 640) -> Trial:
    port = free_port()
    process = start_server(kind, port, storage, logs)
    try:
        time.sleep(0.5)
        base_rss = rss_kib(process.pid)
        url = f"ws://127.0.0.1:{port}/ws/{INSTANCE}/{call_token(SECRET, INSTANCE)}"
        generator = subprocess.Popen(
            ["taskset", "-c", "1", "node", str(LOADGEN), url, str(streams), str(seconds), str(warmup),
             str(frame_bytes), "deflate" if deflate else "plain"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(warmup)
        cpu_start, wall_start = cpu_seconds(process.pid), time.monotonic()
        generator_start, busy_start = cpu_seconds(generator.pid), cpu_busy_seconds(0)
        time.sleep(seconds / 2)
        loaded_rss = rss_kib(process.pid)
        time.sleep(seconds / 2)
        cpu_used, wall = cpu_seconds(process.pid) - cpu_start, time.monotonic() - wall_start
        generator_used = cpu_seconds(generator.pid) - generator_start
        others = cpu_busy_seconds(0) - busy_start - cpu_used
        out, err = generator.communicate(timeout=seconds + warmup + 60)
    finally:
        stop_server(process)
    try:
        result = json.loads(out.decode().strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return Trial(kind, streams, False, None, None, -1, -1, None, None, f"load generator failed: {err[-300:]!r}")
    frames = streams * 50 * wall
    p99 = result["p99"]
    passed = (result["opened"] == streams and result["failed"] == 0 and result["closedEarly"] == 0
              and result["lostMeasured"] == 0 and p99 is not None and p99 < P99_LIMIT_MS)
    return Trial(
        kind, streams, passed, result["p50"], p99, result["lostMeasured"], result["failed"] + result["closedEarly"],
        cpu_used / frames * 1e6 if frames else None,
        (loaded_rss - base_rss) / streams if streams else None,
        "" if result["opened"] == streams else f"opened {result['opened']}",
        generator_used / wall, max(0.0, others / wall),
    )


def find_capacity(kind: str, args: argparse.Namespace, storage: str, logs: Path) -> tuple[Trial | None, list[Trial]]:
    trials: list[Trial] = []

    def trial(n: int) -> Trial:
        result = run_trial(kind, n, args.seconds, args.warmup, storage, logs, args.deflate, args.frame_bytes)
        trials.append(result)
        print(f"  {kind:14} N={n:5}  {'pass' if result.passed else 'FAIL'}  p50={fmt(result.p50)} "
              f"p99={fmt(result.p99)} lost={result.lost} cpu/frame={fmt(result.cpu_us_per_frame)}us "
              f"rss/call={fmt(result.rss_kib_per_call)}KiB generator={pct(result.generator_cpu)} "
              f"others-on-cpu0={pct(result.others_on_server_cpu)} {result.note}", flush=True)
        return result

    best: Trial | None = None
    low, high = 0, None
    n = args.start
    while n <= args.max:  # ramp up in big steps...
        result = trial(n)
        if not result.passed:
            high = n
            break
        best, low = result, n
        n += args.step
    if high is None:
        return best, trials
    while high - low > args.resolution:  # ...then bisect
        mid = (low + high) // 2 // 10 * 10
        if mid <= low:
            break
        result = trial(mid)
        if result.passed:
            best, low = result, mid
        else:
            high = mid
    return best, trials


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="media,seed,raw", help="comma list of media, seed, raw, raw-nodeflate")
    parser.add_argument("--start", type=int, default=300)
    parser.add_argument("--step", type=int, default=300)
    parser.add_argument("--max", type=int, default=3000)
    parser.add_argument("--resolution", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per trial")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--deflate", action="store_true",
                        help="the load generator offers permessage-deflate (servers with default settings compress)")
    parser.add_argument("--frame-bytes", type=int, default=640, choices=(640, 960), help="16 kHz or 24 kHz frames")
    parser.add_argument("--cpu-rounds", type=int, default=2,
                        help="rounds of the closed-loop CPU-per-frame measurement (0: skip it)")
    args = parser.parse_args(argv)
    if (os.cpu_count() or 1) < 2:
        print("needs 2 CPUs (server on CPU 0, load generator on CPU 1)", file=sys.stderr)
        return 2
    logs = Path(tempfile.gettempdir()) / "media_load_servers.log"
    load = os.getloadavg()
    print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs "
          "(other processes on CPU 0/1 distort the figures)", flush=True)
    results: dict[str, Trial | None] = {}
    with running_azurite() as azurite:
        for kind in args.servers.split(","):
            print(f"{kind}:", flush=True)
            results[kind], _ = find_capacity(kind, args, azurite.connection_string, logs)
    print("\nserver          capacity  p50 ms  p99 ms  cpu us/frame  rss KiB/call  vs seed  vs raw")
    seed = results.get("seed")
    raw = results.get("raw")
    for kind, best in results.items():
        if best is None:
            print(f"{kind:15} {'<' + str(args.start):>8}")
            continue
        vs_seed = f"{best.streams / seed.streams:.2f}x" if seed else "-"
        vs_raw = f"{best.streams / raw.streams:.2f}x" if raw else "-"
        print(f"{kind:15} {best.streams:8}  {fmt(best.p50):>6}  {fmt(best.p99):>6}  {fmt(best.cpu_us_per_frame):>12}  "
              f"{fmt(best.rss_kib_per_call):>12}  {vs_seed:>7}  {vs_raw:>6}")
    print(f"(capacity = largest N with no lost frame and p99 < {P99_LIMIT_MS:.0f} ms, +-{args.resolution}; "
          f"server logs in {logs})")
    if args.cpu_rounds:
        # Real-time capacity moves with whatever else runs on the machine; CPU per frame in a closed loop
        # hardly does. Same servers, same run.
        from bench.media_load.cpu_cost import main as cpu_cost_main

        print("\nclosed-loop server CPU per frame (bench.media_load.cpu_cost):", flush=True)
        cpu_cost_main(["--servers", args.servers, "--rounds", str(args.cpu_rounds), "--frames", "600"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
