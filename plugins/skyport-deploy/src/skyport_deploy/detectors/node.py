"""Node.js projects (``package.json``), run by PM2.

The package manager follows the lock file (``npm ci``, ``pnpm install
--frozen-lockfile``, ``yarn install --frozen-lockfile``); a ``build`` script
runs before the start. The start is ``scripts.start`` (a plain ``node FILE``
is run directly, anything else through the package manager), else ``main``,
else a conventional ``server.js``/``index.js``/``app.js``.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from skyport_deploy.plans import Detection, Evidence, Plan
from skyport_deploy.settings import DeploySettings
from skyport_deploy.tree import ProjectTree

LOCK_FILES = (
    ("pnpm-lock.yaml", "pnpm", "pnpm install --frozen-lockfile"),
    ("yarn.lock", "yarn", "yarn install --frozen-lockfile"),
    ("package-lock.json", "npm", "npm ci"),
    ("npm-shrinkwrap.json", "npm", "npm ci"),
)
INSTALL_WITHOUT_LOCK = {"npm": "npm install", "pnpm": "pnpm install", "yarn": "yarn install"}
FRAMEWORKS = (
    ("next", "Next.js"),
    ("@nestjs/core", "NestJS"),
    ("nuxt", "Nuxt"),
    ("@remix-run/serve", "Remix"),
    ("express", "Express"),
    ("fastify", "Fastify"),
    ("koa", "Koa"),
    ("vite", "Vite"),
)
READS_PORT_ITSELF = frozenset({"Next.js", "Nuxt", "Remix"})
"""Frameworks whose server listens on ``$PORT`` without the app saying so."""
CONVENTIONAL_FILES = ("server.js", "index.js", "app.js", "main.js")
NODE_COMMAND = re.compile(r"^node\s+(?P<file>[\w./@-]+\.[cm]?js)(?P<args>(?:\s+[\w./=:@-]+)*)\s*$")
PORT_IN_CODE = re.compile(r"env\.PORT\b|env\[['\"]PORT['\"]\]")
DEFAULT_PORT = 3000


def detect_node(tree: ProjectTree, settings: DeploySettings) -> Detection | None:
    if "package.json" not in tree.top:
        return None
    package = tree.json("package.json")
    if package is None:
        raise ValueError("package.json is not a JSON object")
    scripts = _strings(package.get("scripts"))
    dependencies = {
        **_strings(package.get("devDependencies")),
        **_strings(package.get("dependencies")),
    }
    evidence = [Evidence("package.json")]
    framework = next((title for dep, title in FRAMEWORKS if dep in dependencies), "")
    if framework:
        evidence.append(Evidence("package.json", f"depends on {_dep_of(framework)}"))
    manager, install = _package_manager(tree, package, evidence)
    build = [install] if dependencies else []
    if "build" in scripts:
        build.append(f"{manager} run build")
        evidence.append(Evidence("package.json", f'scripts.build = "{scripts["build"]}"'))
    plan = Plan(
        target="pm2",
        targets=("pm2",),
        build=build,
        start="",
        port=DEFAULT_PORT,
        env={"NODE_ENV": "production"},
        install=" && ".join(build),
    )
    _start(tree, package, scripts, manager, plan, evidence)
    plan.reads_port = framework in READS_PORT_ITSELF or _reads_port(tree, plan, package)
    if not plan.reads_port:
        plan.notes.append(
            "no $PORT found in the app's code: it is taken to listen where it says, so a "
            "redeploy stops the old version before starting the new one"
        )
    if not plan.start and framework == "Vite":
        plan.notes.append(
            "a Vite app builds a static site: build it and deploy its output folder (dist) "
            "as a static site"
        )
    return Detection(type="node", framework=framework, evidence=evidence, plan=plan)


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _dep_of(framework: str) -> str:
    return next(dep for dep, title in FRAMEWORKS if title == framework)


def _package_manager(
    tree: ProjectTree, package: dict[str, Any], evidence: list[Evidence]
) -> tuple[str, str]:
    for lock, manager, install in LOCK_FILES:
        if lock in tree.top:
            evidence.append(Evidence(lock, f"installed with {install}"))
            return manager, install
    declared = str(package.get("packageManager") or "").partition("@")[0]
    if declared in INSTALL_WITHOUT_LOCK:
        evidence.append(Evidence("package.json", f"packageManager = {package['packageManager']}"))
        return declared, INSTALL_WITHOUT_LOCK[declared]
    return "npm", INSTALL_WITHOUT_LOCK["npm"]


def _start(
    tree: ProjectTree,
    package: dict[str, Any],
    scripts: dict[str, str],
    manager: str,
    plan: Plan,
    evidence: list[Evidence],
) -> None:
    """Fill in how the app starts (or leave ``plan.start`` empty and say why)."""
    if "start" in scripts:
        command = scripts["start"]
        evidence.append(Evidence("package.json", f'scripts.start = "{command}"'))
        direct = NODE_COMMAND.match(command)
        if direct and tree.has(direct.group("file")):
            plan.script, plan.args = direct.group("file"), shlex.split(direct.group("args"))
            plan.start = command
        else:
            plan.script, plan.args = manager, ["start"]
            plan.start = f"{manager} start"
        return
    main = package.get("main")
    if isinstance(main, str) and tree.has(main):
        evidence.append(Evidence("package.json", f'main = "{main}"'))
        plan.script, plan.start = main, f"node {main}"
        return
    found = next((f for f in CONVENTIONAL_FILES if f in tree.top), None)
    if found:
        evidence.append(Evidence(found, "no start script or main: the conventional entry file"))
        plan.script, plan.start = found, f"node {found}"
        return
    plan.notes.append("no start command: add scripts.start (or main) to package.json")


def _reads_port(tree: ProjectTree, plan: Plan, package: dict[str, Any]) -> bool:
    files = [plan.script] if plan.script.endswith("js") else []
    main = package.get("main")
    if isinstance(main, str):
        files.append(main)
    return any(PORT_IN_CODE.search(tree.read(f)) for f in files if tree.has(f))
