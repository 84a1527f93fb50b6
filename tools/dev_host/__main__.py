"""CLI: `python -m tools.dev_host [--app function_app] [--port 7071] ...` (a local stand-in for `func start`)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys
from pathlib import Path

import azure.functions as func

from shared.pii import PhoneNumberMaskingFilter

from .host_config import parse_local_settings
from .server import DevHost


def load_app(spec: str) -> func.FunctionRegister:
    """`module` or `module:attribute` (default attribute `app`), imported from the working directory."""
    module_name, _, attribute = spec.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    app = getattr(importlib.import_module(module_name), attribute or "app")
    if not isinstance(app, func.FunctionRegister):
        raise SystemExit(f"{spec} is not an azure.functions FunctionApp (or DFApp)")
    return app


def configure_logging(level: str, process: str = "") -> None:
    """The dev host's log format, phone numbers masked in every handler; `process` tags a helper process's lines."""
    logging.basicConfig(level=level, format=f"%(asctime)s %(levelname)s %(name)s{process}: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(PhoneNumberMaskingFilter())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.dev_host", description=__doc__)
    parser.add_argument("--app", default="function_app", help="module[:attribute] of the FunctionApp")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=7071, help="port (default 7071, 0 for any free port)")
    parser.add_argument("--function-key", default=None,
                        help="key for FUNCTION-level functions (default: $DEV_HOST_FUNCTION_KEY, else random)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="multiply durable timer delays by this factor (0.01: a 60 s timer fires after 0.6 s)")
    parser.add_argument("--host-json", type=Path, default=Path("host.json"), help="host.json to read")
    parser.add_argument("--settings", type=Path, default=Path("local.settings.json"),
                        help="local.settings.json whose Values become environment variables not already set")
    parser.add_argument("--sdk-task-ids", action="store_true",
                        help="schedule from the SDK's own task ids instead of replaying the action list as the "
                             "extension does (the extension-style replay is on by default)")
    parser.add_argument("--replay-processes", type=int, default=0,
                        help="run orchestrator replays in this many processes of their own, as a Flex Consumption "
                             "app runs its Durable triggers apart from its HTTP triggers (default 0: in this one)")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


async def serve(host: DevHost) -> None:
    async with host:
        print(f"Dev host (local stand-in for the Functions host) on {host.base_url}", flush=True)
        if host.key_was_generated:
            print(f"Function key (random, this run only): {host.function_key}", flush=True)
        print("Functions:", flush=True)
        for line in host.describe_functions():
            print(f"    {line}", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    configure_logging(args.log_level.upper())
    if args.settings.is_file():
        for name, value in parse_local_settings(args.settings.read_text(encoding="utf-8")).items():
            os.environ.setdefault(name, value)  # the real environment wins, as with `func start`
    host = DevHost(load_app(args.app), host=args.host, port=args.port, function_key=args.function_key,
                   time_scale=args.time_scale, host_json=args.host_json, extension_replay=not args.sdk_task_ids,
                   replay_processes=args.replay_processes, app_spec=args.app)
    try:
        asyncio.run(serve(host))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
