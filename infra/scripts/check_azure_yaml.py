"""Check azure.yaml against what the infrastructure expects; exit 1 with the problems found.

main.bicep tags the function app `azd-service-name: api` and the container app `azd-service-name: media`, and
the deployment order relies on the preprovision and postdeploy hooks; a renamed service or a missing hook
script would only show up during `azd up`. Run by `make infra-check` in the checkov venv, which has PyYAML.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

EXPECTED_SERVICES: dict[str, dict[str, str]] = {
    "api": {"host": "function", "language": "python"},
    "media": {"host": "containerapp"},
}
REQUIRED_HOOKS = ("preprovision", "postdeploy")


def _hook_scripts(hook: Mapping[str, Any]) -> list[str]:
    """The script paths a hook runs, for each platform variant it declares."""
    variants = [hook[name] for name in ("posix", "windows") if name in hook] or [hook]
    scripts = []
    for variant in variants:
        words = str(variant.get("run", "")).split()
        scripts.extend(word for word in words if word.endswith(".py"))
    return scripts


def azure_yaml_problems(document: Mapping[str, Any], repo_root: Path) -> list[str]:
    """What is wrong with a parsed azure.yaml; [] when it matches the infrastructure."""
    problems: list[str] = []
    infra = document.get("infra") or {}
    if not (repo_root / str(infra.get("path", "infra")) / f"{infra.get('module', 'main')}.bicep").is_file():
        problems.append("infra.path/module does not name an existing Bicep file")
    services = document.get("services") or {}
    if set(services) != set(EXPECTED_SERVICES):
        problems.append(f"services must be exactly {sorted(EXPECTED_SERVICES)}, not {sorted(services)}")
    for name, expected in EXPECTED_SERVICES.items():
        service = services.get(name) or {}
        for key, value in expected.items():
            if service.get(key) != value:
                problems.append(f"services.{name}.{key} must be {value!r}")
    media = services.get("media") or {}
    docker = media.get("docker") or {}
    project = repo_root / str(media.get("project", "."))
    if not (project / str(docker.get("path", "Dockerfile"))).is_file():
        problems.append("services.media.docker.path does not name an existing Dockerfile")
    if (project / str(docker.get("context", "."))).resolve() != repo_root.resolve():
        problems.append("services.media.docker.context must be the repository root (the Dockerfile copies shared/)")
    hooks = document.get("hooks") or {}
    for hook_name in REQUIRED_HOOKS:
        if hook_name not in hooks:
            problems.append(f"hooks.{hook_name} is missing")
            continue
        scripts = _hook_scripts(hooks[hook_name])
        if not scripts:
            problems.append(f"hooks.{hook_name} runs no Python script")
        problems.extend(f"hooks.{hook_name} runs {script}, which does not exist"
                        for script in scripts if not (repo_root / script).is_file())
    return problems


def main() -> int:
    import yaml  # in the checkov venv; the main venv does not need it

    repo_root = Path(__file__).resolve().parents[2]
    document = yaml.safe_load((repo_root / "azure.yaml").read_text(encoding="utf-8"))
    problems = azure_yaml_problems(document, repo_root)
    for problem in problems:
        print(f"azure.yaml: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
