"""azd postdeploy hook: the second provisioning step of `azd up`.

The first provision cannot create the Event Grid IncomingCall subscription: Event Grid validates the webhook
(POST /api/events) when the subscription is created, and the `events` function and its key exist only once azd
has deployed the code. Nor can it run the media host image, which azd pushes to the new registry only at deploy.
So after the first deploy this hook sets EVENTGRID_SUBSCRIPTION_ENABLED=true and provisions again; main.bicep
then adds the subscription and runs the pushed image (SERVICE_MEDIA_IMAGE_NAME) with its port and probes.
Later deploys find both in place and do nothing here.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping

ENABLE_FLAG = "EVENTGRID_SUBSCRIPTION_ENABLED"
# Outputs of main.bicep, written by azd to the environment after each provision.
SUBSCRIPTION_DEPLOYED = "EVENTGRID_SUBSCRIPTION_DEPLOYED"
PLACEHOLDER_IMAGE = "MEDIA_USES_PLACEHOLDER_IMAGE"
# Flex Consumption indexes a fresh deployment's functions within a minute or so; until then listKeys on
# functions/events fails, so the provision is retried.
ATTEMPTS = 4
RETRY_DELAY_SECONDS = 30.0


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def needs_second_provision(environ: Mapping[str, str]) -> bool:
    """True while the Event Grid subscription is missing or the media host still runs the placeholder image."""
    return not _is_true(environ.get(SUBSCRIPTION_DEPLOYED)) or _is_true(environ.get(PLACEHOLDER_IMAGE))


def main() -> int:
    if not needs_second_provision(os.environ):
        print("postdeploy: Event Grid subscription and media image already provisioned")
        return 0
    from infra.hooks import azd_env

    azd_env.set_value(ENABLE_FLAG, "true")
    for attempt in range(1, ATTEMPTS + 1):
        print(f"postdeploy: provisioning the IncomingCall subscription and media image (attempt {attempt}/{ATTEMPTS})")
        if azd_env.run(["provision", "--no-prompt"]) == 0:
            return 0
        if attempt < ATTEMPTS:
            time.sleep(RETRY_DELAY_SECONDS)
    print("postdeploy: provisioning failed; see docs/deploy.md, 'Callbacks never arrive'", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    sys.exit(main())
