"""infra/scripts/check_azure_yaml.py: azure.yaml must name the services and hooks the infrastructure relies on."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from infra.scripts.check_azure_yaml import azure_yaml_problems

REPO_ROOT = Path(__file__).resolve().parents[2]


def _valid(repo: Path) -> dict[str, Any]:
    (repo / "infra").mkdir()
    (repo / "infra" / "main.bicep").write_text("targetScope = 'subscription'\n")
    (repo / "infra" / "hooks").mkdir()
    for script in ("preprovision.py", "postdeploy.py"):
        (repo / "infra" / "hooks" / script).write_text("")
    (repo / "media_host").mkdir()
    (repo / "media_host" / "Dockerfile").write_text("FROM python:3.11-slim\n")
    return {
        "infra": {"provider": "bicep", "path": "infra", "module": "main"},
        "services": {
            "api": {"project": ".", "language": "python", "host": "function"},
            "media": {"project": ".", "language": "python", "host": "containerapp",
                      "docker": {"path": "media_host/Dockerfile", "context": "."}},
        },
        "hooks": {
            "preprovision": {"posix": {"shell": "sh", "run": "python3 infra/hooks/preprovision.py"},
                             "windows": {"shell": "pwsh", "run": "python infra/hooks/preprovision.py"}},
            "postdeploy": {"shell": "sh", "run": "python3 infra/hooks/postdeploy.py"},
        },
    }


def test_a_matching_document_has_no_problems(tmp_path: Path) -> None:
    assert azure_yaml_problems(_valid(tmp_path), tmp_path) == []


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d["services"].pop("media"), "services must be exactly"),
    (lambda d: d["services"]["api"].update(host="appservice"), "services.api.host"),
    (lambda d: d["services"]["media"]["docker"].update(path="Dockerfile"), "existing Dockerfile"),
    (lambda d: d["services"]["media"]["docker"].update(context="media_host"), "repository root"),
    (lambda d: d["hooks"].pop("postdeploy"), "hooks.postdeploy is missing"),
    (lambda d: d["hooks"]["preprovision"]["windows"].update(run="python infra/hooks/missing.py"),
     "missing.py, which does not exist"),
    (lambda d: d["infra"].update(module="nope"), "existing Bicep file"),
])
def test_each_mismatch_is_reported(tmp_path: Path, change: Any, problem: str) -> None:
    document = copy.deepcopy(_valid(tmp_path))
    change(document)
    problems = azure_yaml_problems(document, tmp_path)
    assert any(problem in p for p in problems), problems


def test_the_repository_has_the_files_azure_yaml_names() -> None:
    text = (REPO_ROOT / "azure.yaml").read_text(encoding="utf-8")
    for path in ("infra/hooks/preprovision.py", "infra/hooks/postdeploy.py", "media_host/Dockerfile"):
        assert path in text
        assert (REPO_ROOT / path).is_file()
