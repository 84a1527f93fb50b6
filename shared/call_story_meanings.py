"""What each event, timeline decision and activity of a call means, in words for ops: the call story's
glossary (shared/call_story.py). Names not listed get a generic meaning from their name there."""

from shared.call_activity_names import (
    DOWNLOAD_RECORDING,
    HANG_UP,
    LOAD_FLOW,
    PLACE_CALL,
    PREPARE_SUMMARY,
    RESTART_STREAM,
    RUN_ACTION,
    SEND_EMAIL,
)

# What each event means, in words for ops. Events not listed get a generic meaning from their name.
EVENT_MEANINGS = {
    "CallAnswered": "The app answered the call.",
    "AnswerFailed": "Answering the call failed.",
    "CallConnected": "The call connected: the caller and the app can hear each other.",
    "CallDisconnected": "The call was disconnected.",
    "MediaStreamingStarted": "Audio streaming to the media host started.",
    "MediaStreamingStopped": "Audio streaming to the media host stopped.",
    "MediaStreamingFailed": "Audio streaming to the media host failed.",
    "MediaStreamEnded": "The media host reported that the audio stream closed.",
    "ParticipantsUpdated": "The participants of the call changed.",
    "CallTransferAccepted": "The transfer was accepted: the call left the app for the transfer target.",
    "CallTransferFailed": "The transfer failed.",
    "PlayStarted": "Playing a prompt started.",
    "PlayCompleted": "A prompt finished playing.",
    "PlayFailed": "Playing a prompt failed.",
    "PlayCanceled": "Playing a prompt was canceled.",
    "RecognizeCompleted": "The caller's input (DTMF or speech) was recognized.",
    "RecognizeFailed": "Recognizing the caller's input failed (no input or a bad tone).",
    "RecognizeCanceled": "Recognizing the caller's input was canceled.",
}
# Decisions the orchestration recorded in its own timeline (its output), not visible as history events.
DECISION_MEANINGS = {
    "missed": "The call was counted as missed.",
    "rejected": "The answer policy rejected the call before answering (why: the detail).",
    "redirected": "The answer policy redirected the ringing call to another target, unanswered.",
    "dialing": "The app placed an outbound call (POST /api/calls) and dialed the target.",
    "call_placed": "ACS accepted the outbound call and is ringing the target.",
    "not_answered": "Nobody answered the outbound call (ACS's CreateCallFailed, or the dial timeout).",
    "dial_failed": "ACS refused to place the outbound call.",
    "dtmf_received": "The caller pressed a key; it arrived on the media socket (DtmfData).",
    "max_duration_reached": "The call reached its maximum duration: the app ends it.",
    "hang_up_requested": "The app asked ACS to hang up.",
    "disconnect_not_confirmed": "ACS never confirmed the disconnect; the call was closed anyway.",
    "hang_up_unconfirmed": "The hang-up's result never came; the app stopped waiting.",
    "media_report_missing": "The media host never reported the stream's end: the transcript may be incomplete.",
    "action_requested": "An action on the call was requested (by the call flow, the control API or the media host).",
    "action_sent": "ACS accepted the action request; its result comes as a callback.",
    "action_failed": "The action could not be sent to ACS.",
    "menu_choice": "The caller chose a menu option.",
    "recording_file_ready": "ACS said the recording's file is ready (RecordingFileStatusUpdated).",
    "recording_stored": "The recording's file was stored with the call.",
    "recording_failed": "The recording's file could not be downloaded.",
    "recording_file_missing": "ACS never said the recording's file was ready; the summary went on without it.",
}
ACTIVITY_MEANINGS = {
    HANG_UP: "The app hung up the call.",
    PLACE_CALL: "The app asked ACS to dial the outbound call (createCall).",
    LOAD_FLOW: "The call flow settings were read.",
    RUN_ACTION: "The app sent a call action to ACS.",
    RESTART_STREAM: "The app asked ACS to start a lost media or transcription stream again.",
    PREPARE_SUMMARY: "The call summary was written.",
    SEND_EMAIL: "The summary email was sent.",
    DOWNLOAD_RECORDING: "The recording's file was downloaded from ACS into the call's blobs.",
}
