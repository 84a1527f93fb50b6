"""The call's recording, as the call machine knows it: its id and whether it runs, is paused or stopped. Pure.

Recording requests carry no operation context and have no result callback of their own (StartCallRecording
answers 200 RecordingStateResponse, pause/resume 202, stop 204; REST spec, CallAutomation stable 2026-03-12),
so a recording action is settled by its request, and the state moves when ACS accepted it. The recording id
comes back in the action activity's result and is kept here: pause, resume and stop name it.
`RecordingStateChanged` callbacks (active / inactive) are noted in the timeline, not used to drive this state,
because ACS sends `inactive` both for a pause and a stop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from shared.call_actions import PAUSE_RECORDING, RESUME_RECORDING, START_RECORDING, STOP_RECORDING, CallAction

ACTIVE, PAUSED, STOPPED = "active", "paused", "stopped"
_AFTER: dict[str, str] = {START_RECORDING: ACTIVE, PAUSE_RECORDING: PAUSED, RESUME_RECORDING: ACTIVE,
                          STOP_RECORDING: STOPPED}
# Recording ids are opaque base64-like text from ACS; bounded so history stays small.
RECORDING_ID = re.compile(r"[A-Za-z0-9+/=_.:-]{1,512}")


@dataclass(frozen=True)
class Recording:
    recording_id: str | None = None
    state: str | None = None  # None: never started on this call
    # Written by ACS into our `recordings` container (bring-your-own-storage): nothing to download.
    external_storage: bool = False

    @property
    def expects_file(self) -> bool:
        """ACS keeps the file and announces it (RecordingFileStatusUpdated): the machine downloads it."""
        return self.recording_id is not None and not self.external_storage


def on_accepted(recording: Recording, action: CallAction, result: Mapping[str, object]) -> Recording:
    """ACS accepted a recording request: the new state, and the id a start answered with."""
    after = _AFTER.get(action.kind)
    if after is None:
        return recording
    if action.kind == START_RECORDING:
        raw_id = result.get("recordingId")
        recording_id = raw_id if isinstance(raw_id, str) and RECORDING_ID.fullmatch(raw_id) else None
        return Recording(recording_id, after, result.get("externalStorage") is True)
    return replace(recording, state=after)


def activity_fields(recording: Recording, action: CallAction, server_call_id: str, instance_id: str
                    ) -> dict[str, object]:
    """What the action activity needs beyond the action: the call's locator (and the instance, whose
    callback URL RecordingStateChanged is sent to) to start, the recording's id otherwise."""
    if action.kind == START_RECORDING:
        return {"serverCallId": server_call_id, "instanceId": instance_id}
    if action.kind in _AFTER and recording.recording_id is not None:
        return {"recordingId": recording.recording_id}
    return {}
