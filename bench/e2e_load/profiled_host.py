"""The dev host under cProfile, for `python -m bench.e2e_load --profile FILE`: its event loop's thread (where the
HTTP functions, the Durable API and the orchestration engine's bookkeeping run), written to FILE at SIGTERM.

    python -m bench.e2e_load.profiled_host FILE [dev host arguments...]
"""

from __future__ import annotations

import cProfile
import signal
import sys
from types import FrameType

from tools.dev_host.__main__ import main as dev_host_main


def run(path: str, argv: list[str]) -> None:
    profiler = cProfile.Profile()

    def stop(signum: int, frame: FrameType | None) -> None:
        profiler.disable()
        profiler.dump_stats(path)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    profiler.enable()
    dev_host_main(argv)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2:])
