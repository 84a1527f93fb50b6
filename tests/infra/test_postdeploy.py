"""infra/hooks/postdeploy.py: the second provisioning step runs until the subscription and image are in place."""

from __future__ import annotations

from infra.hooks.postdeploy import needs_second_provision


def test_first_deploy_needs_the_second_provision() -> None:
    assert needs_second_provision({"EVENTGRID_SUBSCRIPTION_DEPLOYED": "false",
                                   "MEDIA_USES_PLACEHOLDER_IMAGE": "true"})
    assert needs_second_provision({})


def test_placeholder_image_alone_needs_it() -> None:
    assert needs_second_provision({"EVENTGRID_SUBSCRIPTION_DEPLOYED": "true",
                                   "MEDIA_USES_PLACEHOLDER_IMAGE": "true"})


def test_missing_subscription_alone_needs_it() -> None:
    assert needs_second_provision({"EVENTGRID_SUBSCRIPTION_DEPLOYED": "False",
                                   "MEDIA_USES_PLACEHOLDER_IMAGE": "false"})


def test_later_deploys_skip_it() -> None:
    # azd writes bool outputs as true/false; accept any casing.
    assert not needs_second_provision({"EVENTGRID_SUBSCRIPTION_DEPLOYED": "True",
                                       "MEDIA_USES_PLACEHOLDER_IMAGE": "false"})
