from __future__ import annotations

from shared.call_token import call_token
from shared.media_route import MEDIA, TRANSCRIPTION, MediaSocketRoute, ProbeRoute, RejectedRoute, route_request

SECRET = "s" * 40
INSTANCE = "call-0123456789abcdef0123456789abcdef"
TOKEN = call_token(SECRET, INSTANCE)


def test_media_socket_path_with_a_valid_token() -> None:
    assert route_request(f"/ws/{INSTANCE}/{TOKEN}", SECRET) == MediaSocketRoute(INSTANCE, TOKEN, None)
    assert route_request(f"/ws/{INSTANCE}/{TOKEN}?processor=echo", SECRET) == MediaSocketRoute(INSTANCE, TOKEN, "echo")


def test_probes() -> None:
    assert route_request("/healthz", SECRET) == ProbeRoute("healthz")
    assert route_request("/readyz?x=1", SECRET) == ProbeRoute("readyz")


def test_bad_tokens_and_ids_are_401() -> None:
    other = call_token(SECRET, "call-other")
    for path in (f"/ws/{INSTANCE}/{other}", f"/ws/{INSTANCE}/x", f"/ws/%40bad/{call_token(SECRET, '@bad')}",
                 f"/ws/a%3Fb/{call_token(SECRET, 'a?b')}", f"/ws/{INSTANCE}/{TOKEN.lower()}"):
        assert route_request(path, SECRET) == RejectedRoute(401, "invalid call token"), path


def test_other_paths_are_404() -> None:
    for path in ("/", "/ws", f"/ws/{INSTANCE}", f"/ws/{INSTANCE}/{TOKEN}/more", f"/x/{INSTANCE}/{TOKEN}",
                 "/" + "a" * 5000):
        assert isinstance(route_request(path, SECRET), RejectedRoute)
        assert route_request(path, SECRET).status == 404, path


def test_the_transcription_socket_has_its_own_path() -> None:
    assert route_request(f"/ws/{INSTANCE}/{TOKEN}/transcription?processor=echo", SECRET) == \
        MediaSocketRoute(INSTANCE, TOKEN, "echo", TRANSCRIPTION)
    assert route_request(f"/ws/{INSTANCE}/{TOKEN}", SECRET).stream == MEDIA
    assert route_request(f"/ws/{INSTANCE}/{TOKEN}/audio", SECRET) == RejectedRoute(404, "not found")
    assert route_request(f"/ws/{INSTANCE}/{TOKEN}/transcription/x", SECRET) == RejectedRoute(404, "not found")
    assert route_request(f"/ws/{INSTANCE}/bad/transcription", SECRET) == RejectedRoute(401, "invalid call token")
