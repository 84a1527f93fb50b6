"""Everything the function app is configured with, read from one environment mapping, once (pure).

`calls/app_context.py` calls `load_app_config(os.environ)` at start-up: the only place the function app reads
its environment. Each part is validated by its own loader, which raises `SettingsError` naming the variable,
so a misconfigured deployment stops at start-up instead of failing on the first ringing call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.answer_policy_settings import AnswerPolicySettings, load_answer_policy_settings
from shared.call_flow_settings import CallFlowSettings, load_call_flow_settings
from shared.digest_settings import DigestSettings, load_digest_settings
from shared.media_options_settings import MediaOptions, load_media_options
from shared.media_recovery_settings import MediaRecoverySettings, load_media_recovery_settings
from shared.outbound_settings import OutboundSettings, load_outbound_settings
from shared.recording_settings import RecordingSettings, load_recording_settings
from shared.security_settings import JwtSource, load_acs_jwt_source, load_event_grid_jwt_source, load_retention_days
from shared.settings import FunctionAppSettings, load_function_app_settings
from shared.telemetry_settings import TelemetrySettings, load_telemetry_settings
from shared.transcription_settings import TranscriptionSettings, load_transcription_settings


@dataclass(frozen=True)
class AppConfig:
    core: FunctionAppSettings
    flow: CallFlowSettings
    transcription: TranscriptionSettings
    acs_jwt: JwtSource | None  # None: ACS_RESOURCE_ID unset, no JWT check (local runs only)
    event_grid_jwt: JwtSource | None  # None: EVENTGRID_AAD_APP_ID unset
    retention_days: int
    telemetry: TelemetrySettings
    answer_policy: AnswerPolicySettings
    recording: RecordingSettings = RecordingSettings()
    outbound: OutboundSettings = OutboundSettings()
    media_options: MediaOptions = MediaOptions()
    media_recovery: MediaRecoverySettings = MediaRecoverySettings()
    digest: DigestSettings = DigestSettings()


def load_app_config(environ: Mapping[str, str]) -> AppConfig:
    """Validate every setting of the function app. Raises `SettingsError` on the first bad one."""
    return AppConfig(
        core=load_function_app_settings(environ),
        flow=load_call_flow_settings(environ),
        transcription=load_transcription_settings(environ),
        acs_jwt=load_acs_jwt_source(environ),
        event_grid_jwt=load_event_grid_jwt_source(environ),
        retention_days=load_retention_days(environ),
        telemetry=load_telemetry_settings(environ),
        answer_policy=load_answer_policy_settings(environ),
        recording=load_recording_settings(environ),
        outbound=load_outbound_settings(environ),
        media_options=load_media_options(environ),
        media_recovery=load_media_recovery_settings(environ),
        digest=load_digest_settings(environ),
    )
