"""What can be checked of the container setup without a container engine."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def module_exists(module: str) -> bool:
    path = ROOT / module.replace(".", "/")
    return (path / "__main__.py").exists() or path.with_suffix(".py").exists()


def test_every_compose_service_runs_an_existing_command() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "api", "distributor", "scheduler"} <= set(services)
    for name, service in services.items():
        build = service.get("build")
        if build:
            assert (ROOT / build["dockerfile"]).exists(), name
        command = service.get("command")
        if command and command[0] == "python":
            assert command[1] == "-m", name
            assert module_exists(command[2]), f"{name}: no module {command[2]}"


def test_dockerfiles_copy_paths_that_exist() -> None:
    for dockerfile in (ROOT / "deploy").glob("*Dockerfile"):
        for source in re.findall(r"^COPY (\S+) ", dockerfile.read_text(), flags=re.MULTILINE):
            assert (ROOT / source).exists(), f"{dockerfile.name}: COPY {source}"


def test_makefile_targets_from_the_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"`make ([a-z-]+)`", readme):
        assert re.search(rf"^{re.escape(target)}:", makefile, flags=re.MULTILINE), f"make {target}"
