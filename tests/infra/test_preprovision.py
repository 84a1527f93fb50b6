"""infra/hooks/preprovision.py: CALL_TOKEN_SECRET is generated once and then kept."""

from __future__ import annotations

from infra.hooks.preprovision import MIN_LENGTH, needs_new_secret, new_secret
from shared.settings import load_media_host_settings


def test_missing_blank_or_short_secret_needs_a_new_one() -> None:
    assert needs_new_secret({})
    assert needs_new_secret({"CALL_TOKEN_SECRET": "   "})
    assert needs_new_secret({"CALL_TOKEN_SECRET": "x" * (MIN_LENGTH - 1)})


def test_existing_secret_is_kept_so_calls_in_progress_keep_their_tokens() -> None:
    assert not needs_new_secret({"CALL_TOKEN_SECRET": "y" * MIN_LENGTH})


def test_generated_secret_is_accepted_by_the_apps_and_unique() -> None:
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert not needs_new_secret({"CALL_TOKEN_SECRET": secret})
        settings = load_media_host_settings({"CALL_TOKEN_SECRET": secret,
                                             "AzureWebJobsStorage__accountName": "stexample"})
        assert settings.call_token_secret == secret
