"""`make run`: Azurite on its default ports, the media host, and `func start`, until Ctrl-C.

The media host gets the same settings as the function app, from local.settings.json's Values, so both
sides agree on CALL_TOKEN_SECRET and the storage account.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from tools.azurite import PROJECT_ROOT, azurite_binary


def main() -> int:
    values = json.loads((PROJECT_ROOT / "local.settings.json").read_text())["Values"]
    env = {**os.environ, **{key: str(value) for key, value in values.items()}}
    processes = [
        # Default ports, because UseDevelopmentStorage=true means exactly these.
        subprocess.Popen([azurite_binary(), "--silent", "--inMemoryPersistence", "--disableTelemetry",
                          "--skipApiVersionCheck", "--blobHost", "127.0.0.1", "--queueHost", "127.0.0.1",
                          "--tableHost", "127.0.0.1"], cwd=PROJECT_ROOT),
        subprocess.Popen([sys.executable, "-m", "media_host"], cwd=PROJECT_ROOT, env=env),
        subprocess.Popen(["func", "start"], cwd=PROJECT_ROOT, env=env),
    ]
    media_port = env.get("MEDIA_HOST_PORT", "8080")
    print(f"Azurite :10000-10002, media host :{media_port}, functions :7071. Ctrl-C stops.")
    try:
        processes[-1].wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
