"""`python -m tools.call_story`: read calls from the function app's ops endpoints.

    python -m tools.call_story CALL_ID --base-url https://<app>.azurewebsites.net [--key KEY] [--json]
    python -m tools.call_story --list [--from 2026-01-31T00:00:00Z] [--to ...] [--outcome missed] [--limit 100]
                                      [--pages 10] ...

The list comes a page at a time, newest first; --list follows the app's continuation for up to --pages pages
(0 = all) and says on stderr when more remain.

The function key comes from --key or, better (it stays out of shell history), CALL_STORY_FUNCTION_KEY.
Exit codes: 0 done, 1 the app answered with an error, 2 bad arguments or the app could not be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from tools.call_story.text import render_list, render_story

KEY_VARIABLE = "CALL_STORY_FUNCTION_KEY"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.call_story", description=__doc__.split("\n\n")[0])
    parser.add_argument("call_id", nargs="?", help="the call's instance id (call-...)")
    parser.add_argument("--base-url", required=True, help="the function app, e.g. https://<app>.azurewebsites.net")
    parser.add_argument("--key", help=f"function key (default: ${KEY_VARIABLE})")
    parser.add_argument("--list", action="store_true", help="list calls instead of telling one")
    parser.add_argument("--from", dest="since", help="list: created at or after (ISO 8601)")
    parser.add_argument("--to", help="list: created at or before (ISO 8601)")
    parser.add_argument("--outcome", help="list: only calls with this outcome (completed, missed, ...)")
    parser.add_argument("--limit", type=int, help="list: calls per page (the app's default 100, at most 500)")
    parser.add_argument("--pages", type=int, default=10, help="list: follow at most this many pages (0 = all)")
    parser.add_argument("--json", action="store_true", help="print the JSON document as the app returns it")
    parser.add_argument("--timeout", type=float, default=30.0)
    return parser


def _fetch(url: str, key: str | None, timeout: float) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Accept": "application/json",
                                                   **({"x-functions-key": key} if key else {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - an https URL we are given
            return response.status, json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        body = error.read().decode("utf-8", "replace")
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, {"error": body[:200]}


def _list(base: str, args: argparse.Namespace, key: str | None) -> tuple[int, Any]:
    """Every page up to --pages, as one document: the last page's fields with all the calls."""
    query = {name: value for name, value in (("from", args.since), ("to", args.to), ("outcome", args.outcome),
                                             ("limit", None if args.limit is None else str(args.limit))) if value}
    url: str | None = f"{base}/api/calls" + (f"?{urlencode(query)}" if query else "")
    calls: list[Any] = []
    pages = 0
    body: Any = {}
    while url is not None and (args.pages <= 0 or pages < args.pages):
        status, body = _fetch(url, key, args.timeout)
        if status != 200 or not isinstance(body, dict):
            return status, body
        calls.extend(body.get("calls") or [])
        pages += 1
        # `next` names the host the app sees (maybe behind a proxy): only its query is taken, so the key is only
        # ever sent to --base-url.
        following = body.get("next")
        url = f"{base}/api/calls?{urlsplit(following).query}" if isinstance(following, str) and following else None
    return 200, {**body, "count": len(calls), "calls": calls}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.list and not args.call_id:
        parser.error("give a call id, or --list")
    key = args.key or os.environ.get(KEY_VARIABLE)
    base = args.base_url.rstrip("/")
    try:
        if args.list:
            status, body = _list(base, args, key)
        else:
            status, body = _fetch(f"{base}/api/calls/{quote(args.call_id, safe='')}", key, args.timeout)
    except (urllib.error.URLError, OSError, ValueError) as error:
        print(f"could not reach {base}: {error}", file=sys.stderr)
        return 2
    if status != 200:
        print(f"HTTP {status}: {body.get('message') or body.get('error') if isinstance(body, dict) else body}",
              file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(body, indent=2))
    elif args.list:
        sys.stdout.write(render_list(body.get("calls", [])))
    else:
        sys.stdout.write(render_story(body))
    if args.list and body.get("continuation"):
        print(f"more calls: raise --pages, or narrow --from/--to (continuation {body['continuation']})",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
