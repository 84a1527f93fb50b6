"""infra/modules/container-apps.bicep: the always-on media host behind a WebSocket-capable ingress."""

from __future__ import annotations

from tests.infra.bicep_template import Template, function_arguments

CONTAINER_APPS = Template.load("modules/container-apps.bicep")
MAIN = Template.load("main.bicep")


def _app() -> dict:
    (app,) = CONTAINER_APPS.resources("Microsoft.App/containerApps")
    return app.body


def _container() -> dict:
    (container,) = _app()["properties"]["template"]["containers"]
    return container


def _effective(name: str) -> object:
    """The value main.bicep passes for a module parameter, else the module's default."""
    passed = MAIN.module_params("containerApps").get(name)
    return MAIN.resolve(passed) if passed is not None else CONTAINER_APPS.parameter_default(name)


def test_at_least_one_replica_always_runs() -> None:
    scale = _app()["properties"]["template"]["scale"]
    assert scale["minReplicas"] == "minReplicas"
    assert CONTAINER_APPS.parameter_decorator("minReplicas", "min_value") >= 1
    assert _effective("minReplicas") >= 1


def test_grace_period_lets_calls_drain_within_the_container_apps_limit() -> None:
    template = _app()["properties"]["template"]
    assert template["terminationGracePeriodSeconds"] == "terminationGracePeriodSeconds"
    assert CONTAINER_APPS.parameter_decorator("terminationGracePeriodSeconds", "max_value") == 600
    assert 300 <= _effective("terminationGracePeriodSeconds") <= 600


def test_the_app_drains_for_less_than_the_grace_period() -> None:
    environment = {item["name"]: item for item in CONTAINER_APPS.resolve("baseEnvironment")}
    drain = environment["MEDIA_DRAIN_SECONDS"]["value"]
    assert drain["function"]["type"] == "string"
    (difference,) = drain["function"]["parameters"].values()
    assert difference["operator"]["type"] == "substract"
    assert difference["operator"]["operands"]["operand_1"] == "terminationGracePeriodSeconds"
    assert difference["operator"]["operands"]["operand_2"] > 0


def test_liveness_and_readiness_probes_on_the_media_port() -> None:
    probes = CONTAINER_APPS.resolve(_container()["probes"])
    real_probes = probes["operator"]["operands"]["false_value"]
    by_type = {probe["type"]: probe["httpGet"] for probe in CONTAINER_APPS.resolve(real_probes)}
    assert by_type["Liveness"]["path"] == "/healthz"
    assert by_type["Readiness"]["path"] == "/readyz"
    assert {get["port"] for get in by_type.values()} == {"port"}
    assert _effective("port") == 8080


def test_probes_are_dropped_only_for_the_placeholder_image() -> None:
    probes = _container()["probes"]["operator"]["operands"]
    assert probes["condition"] == "usePlaceholder"
    image = _container()["image"]["operator"]["operands"]
    assert (image["condition"], image["false_value"]) == ("usePlaceholder", "imageName")
    assert CONTAINER_APPS.resolve("usePlaceholder")["function"]["type"] == "empty"


def test_external_http1_ingress_carries_the_websocket() -> None:
    ingress = _app()["properties"]["configuration"]["ingress"]
    assert ingress["external"] is True
    assert ingress["transport"] in ("http", "auto")
    assert ingress["allowInsecure"] is False
    assert ingress["targetPort"]["operator"]["operands"]["false_value"] == "port"


def test_image_pull_and_secret_use_the_user_assigned_identity() -> None:
    app = _app()
    assert app["identity"]["type"] == "UserAssigned"
    configuration = app["properties"]["configuration"]
    assert configuration["registries"] == [{"server": "registryLoginServer", "identity": "identityId"}]
    assert configuration["secrets"] == [
        {"name": "call-token-secret", "keyVaultUrl": "callTokenSecretUri", "identity": "identityId"}]
    environment = {item["name"]: item for item in CONTAINER_APPS.resolve("baseEnvironment")}
    assert environment["CALL_TOKEN_SECRET"] == {"name": "CALL_TOKEN_SECRET", "secretRef": "call-token-secret"}


def test_azd_finds_the_app_as_service_media() -> None:
    assert {key.strip("'"): value for key, value in function_arguments(_app()["tags"], "union")[1].items()} == {
        "azd-service-name": "media"}
