from __future__ import annotations

import pytest

from shared.settings import SettingsError, load_function_app_settings, load_media_host_settings

VALID = {
    "ACS_ENDPOINT": "https://my-acs.communication.azure.com/",
    "CALLBACK_BASE_URL": "https://func.example.net/",
    "MEDIA_HOST_WSS_URL": "wss://media.example.net",
    "EMAIL_SENDER": "DoNotReply@example.azurecomm.net",
    "SUMMARY_RECIPIENTS": " ops@contoso.com , lead@contoso.com ,",
    "CALL_TOKEN_SECRET": "x" * 40,
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
}


def test_valid_settings_are_normalised() -> None:
    settings = load_function_app_settings(VALID)
    assert settings.acs_endpoint == "https://my-acs.communication.azure.com"
    assert settings.callback_base_url == "https://func.example.net"
    assert settings.summary_recipients == ("ops@contoso.com", "lead@contoso.com")
    assert settings.acs_access_key is None
    assert settings.storage.connection_string == "UseDevelopmentStorage=true"
    assert settings.storage.transcripts_container == "transcripts"
    assert settings.media_audio_format == "pcm16KMono"


@pytest.mark.parametrize(
    "missing",
    [
        "ACS_ENDPOINT",
        "CALLBACK_BASE_URL",
        "MEDIA_HOST_WSS_URL",
        "EMAIL_SENDER",
        "SUMMARY_RECIPIENTS",
        "CALL_TOKEN_SECRET",
        "AzureWebJobsStorage",
    ],
)
def test_missing_setting_names_the_variable_with_an_example(missing: str) -> None:
    environ = {key: value for key, value in VALID.items() if key != missing}
    with pytest.raises(SettingsError) as raised:
        load_function_app_settings(environ)
    assert missing in str(raised.value)
    assert "for example" in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ACS_ENDPOINT", "not a url"),
        ("ACS_ENDPOINT", "ftp://acs.example"),
        ("MEDIA_HOST_WSS_URL", "https://media.example.net"),
        ("CALLBACK_BASE_URL", "https://func.example.net/?x=1"),
        ("SUMMARY_RECIPIENTS", "not-an-address"),
        ("SUMMARY_RECIPIENTS", " , "),
        ("EMAIL_SENDER", "nobody"),
        ("CALL_TOKEN_SECRET", "short"),
        ("MEDIA_AUDIO_FORMAT", "pcm8KMono"),
        ("MAX_CALL_DURATION_SECONDS", "forever"),
        ("CALL_CONNECT_TIMEOUT_SECONDS", "0"),
        ("TRANSCRIPTS_CONTAINER", "Bad_Name"),
    ],
)
def test_malformed_setting_is_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_function_app_settings({**VALID, name: value})
    assert name in str(raised.value)


def test_identity_based_storage() -> None:
    environ = {key: value for key, value in VALID.items() if key != "AzureWebJobsStorage"}
    settings = load_function_app_settings({**environ, "AzureWebJobsStorage__accountName": "callsstore"})
    assert settings.storage.connection_string is None
    assert settings.storage.blob_service_uri == "https://callsstore.blob.core.windows.net"
    # The call index: the same account's table endpoint, as the Functions host derives it.
    assert settings.storage.table_service_uri == "https://callsstore.table.core.windows.net"
    explicit = load_function_app_settings({**environ, "AzureWebJobsStorage__blobServiceUri": "https://b.example/",
                                           "AzureWebJobsStorage__tableServiceUri": "https://t.example/"})
    assert explicit.storage.table_service_uri == "https://t.example"


def test_media_host_needs_only_its_own_settings() -> None:
    settings = load_media_host_settings(
        {"CALL_TOKEN_SECRET": "y" * 32, "AzureWebJobsStorage": "x", "MEDIA_HOST_PORT": "9000"}
    )
    assert settings.port == 9000
    with pytest.raises(SettingsError, match="MEDIA_HOST_PORT"):
        load_media_host_settings(
            {"CALL_TOKEN_SECRET": "y" * 32, "AzureWebJobsStorage": "x", "MEDIA_HOST_PORT": "70000"}
        )
