"""Go modules (``go.mod``): built in the Go image, run alone in an empty image."""

from __future__ import annotations

import re

from skyport_deploy.plans import Detection, Evidence, Plan
from skyport_deploy.settings import DeploySettings
from skyport_deploy.tree import ProjectTree

MODULE = re.compile(r"^module\s+(\S+)", re.MULTILINE)
MAIN_PACKAGE = re.compile(r"^package main\b", re.MULTILINE)
DEFAULT_PORT = 8080


def detect_go(tree: ProjectTree, settings: DeploySettings) -> Detection | None:
    if "go.mod" not in tree.top:
        return None
    module = MODULE.search(tree.read("go.mod"))
    evidence = [Evidence("go.mod", f"module {module.group(1)}" if module else "")]
    main = _main_package(tree)
    if main is None:
        plan = Plan(target="docker", targets=("docker",), start="", port=DEFAULT_PORT)
        plan.notes.append("no package main: nothing to run")
        return Detection(type="go", evidence=evidence, plan=plan)
    evidence.append(Evidence(main, "package main"))
    package = "./" + main.rpartition("/")[0] if "/" in main else "."
    dockerfile = (
        f"FROM {settings.go_image} AS build\n"
        "WORKDIR /src\n"
        "COPY . .\n"
        f"RUN CGO_ENABLED=0 go build -o /out/app {package}\n"
        "FROM scratch\n"
        "COPY --from=build /out/app /app\n"
        'ENTRYPOINT ["/app"]\n'
    )
    plan = Plan(
        target="docker",
        targets=("docker",),
        build=[f"go build {package} (in {settings.go_image})"],
        start="/app",
        port=DEFAULT_PORT,
        generated_dockerfile=dockerfile,
        notes=["the app is expected to listen on $PORT"],
    )
    return Detection(type="go", evidence=evidence, plan=plan)


def _main_package(tree: ProjectTree) -> str | None:
    """The shallowest ``.go`` file of ``package main`` (the root, then ``cmd/<name>``)."""
    for path in tree.with_suffix(".go", max_depth=2):
        if not path.endswith("_test.go") and MAIN_PACKAGE.search(tree.read(path)):
            return path
    return None
