"""infra/modules/alerts.bicep: one scheduled query rule per KPI, on the apps' custom metric names."""

from __future__ import annotations

import json

from tests.infra.bicep_template import Template

ALERTS = Template.load("modules/alerts.bicep")


def _kpis() -> dict[str, dict]:
    return {kpi["name"]: kpi for kpi in ALERTS.resolve("kpis")}


def _query_text(kpi: dict) -> str:
    query = kpi["query"]
    if isinstance(query, dict):  # format(<query variable>, minimumVolume)
        query = next(iter(query["function"]["parameters"].values()))
    return ALERTS.resolve(query)


def _threshold(kpi: dict) -> float:
    threshold = ALERTS.resolve(kpi["threshold"])
    if isinstance(threshold, dict):  # json('<decimal parameter>')
        threshold = json.loads(ALERTS.resolve(next(iter(threshold["function"]["parameters"].values()))))
    return float(threshold)


def test_every_kpi_has_a_rule() -> None:
    assert set(_kpis()) == {"answer-rate", "drop-rate", "media-latency", "email-delivery-rate"}
    rules = ALERTS.section("resources")["kpiAlerts"]["config"]
    assert rules["loop_type"]["detail"] == {"item_name": "kpi", "array_name": "kpis"}
    (criterion,) = rules["config"]["properties"]["criteria"]["allOf"]
    accessed = {key: value["operator"]["operands"]["operand_2"] for key, value in criterion.items()
                if isinstance(value, dict) and "operator" in value}
    assert accessed == {"query": "query", "metricMeasureColumn": "column", "operator": "operator",
                        "threshold": "threshold"}
    assert rules["config"]["properties"]["actions"]["actionGroups"]


def test_kpi_targets() -> None:
    kpis = _kpis()
    assert (kpis["answer-rate"]["operator"], _threshold(kpis["answer-rate"])) == ("LessThan", 0.95)
    assert (kpis["drop-rate"]["operator"], _threshold(kpis["drop-rate"])) == ("GreaterThan", 0.02)
    assert (kpis["media-latency"]["operator"], _threshold(kpis["media-latency"])) == ("GreaterThan", 200)
    assert (kpis["email-delivery-rate"]["operator"], _threshold(kpis["email-delivery-rate"])) == ("LessThan", 0.99)


def test_queries_use_the_apps_metric_names() -> None:
    kpis = _kpis()
    expected = {
        "answer-rate": ("calls.incoming", "calls.answered"),
        "drop-rate": ("calls.answered", "calls.dropped"),
        "media-latency": ("media.frame_latency",),
        "email-delivery-rate": ("email.sent", "email.failed"),
    }
    for name, metrics in expected.items():
        text = _query_text(kpis[name])
        assert text.lstrip().startswith("customMetrics")
        for metric in metrics:
            assert f'"{metric}"' in text, (name, metric)
        assert kpis[name]["column"] in text
