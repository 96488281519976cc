"""Python web apps (``requirements.txt``, ``pyproject.toml``, ``Pipfile``, ``manage.py``).

The app object is found in the code: ``app = FastAPI()`` (or Starlette,
Litestar, Quart), ``app = Flask(__name__)``, a bare ASGI callable ``async def
app(scope, receive, send)``, or Django's ``<project>/wsgi.py``. ASGI apps run
under uvicorn, WSGI apps under gunicorn, in a virtual environment in the app's
folder (run by PM2), or in a container built from a generated Dockerfile.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass

from skyport_deploy.plans import Detection, Evidence, Plan
from skyport_deploy.settings import DeploySettings
from skyport_deploy.tree import ProjectTree

MANIFESTS = ("requirements.txt", "pyproject.toml", "Pipfile", "setup.py", "manage.py")
APP_OBJECT = re.compile(
    r"^(?P<var>\w+)\s*(?::\s*\w+\s*)?=\s*(?P<cls>FastAPI|Starlette|Litestar|Quart|Flask)\(",
    re.MULTILINE,
)
BARE_ASGI = re.compile(r"^async def (?P<var>app|application)\(\s*scope\b", re.MULTILINE)
DJANGO_SETTINGS = re.compile(r"DJANGO_SETTINGS_MODULE['\"],\s*['\"](?P<module>[\w.]+)['\"]")
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", re.MULTILINE)
CANDIDATE_FILES = ("main.py", "app.py", "asgi.py", "wsgi.py", "server.py", "api.py")
MAX_SCANNED = 60
"""Python files read at most while looking for the app object."""
DEFAULT_PORT = 8000
SERVERS = {"asgi": "uvicorn", "wsgi": "gunicorn"}


@dataclass(frozen=True)
class AppObject:
    """Where the app is: ``module:variable``, served the ``kind`` way."""

    target: str
    kind: str
    """``asgi`` or ``wsgi``."""
    framework: str
    evidence: Evidence
    app_dir: str = ""
    """The folder to import from (``src`` for a src layout), relative to the project."""


def detect_python(tree: ProjectTree, settings: DeploySettings) -> Detection | None:
    manifests = [m for m in MANIFESTS if m in tree.top]
    if not manifests:
        return None
    evidence = [Evidence(m) for m in manifests]
    dependencies = _dependencies(tree)
    app = _django(tree) or _app_object(tree)
    if app is None:
        plan = Plan(target="pm2", targets=("pm2", "docker"), start="", port=DEFAULT_PORT)
        plan.notes.append(
            "no web app found: no FastAPI/Starlette/Litestar/Quart/Flask app object, "
            "ASGI callable or Django project"
        )
        return Detection(type="python", evidence=evidence, plan=plan)
    evidence.append(app.evidence)
    server = SERVERS[app.kind]
    packages = [] if server in dependencies else [server]
    install = _install_command(tree, settings, packages)
    args = _server_args(app)
    plan = Plan(
        target="pm2",
        targets=("pm2", "docker"),
        build=[install],
        start=" ".join([server, *(a if "$" in a else shlex.quote(a) for a in args)]),
        port=DEFAULT_PORT,
        env={"PYTHONUNBUFFERED": "1"},
        install=install,
        script=f".venv/bin/{server}",
        interpreter="none",
        args=args,
        generated_dockerfile=_dockerfile(tree, settings, server, packages, args),
    )
    if packages:
        plan.notes.append(f"{server} is not among the dependencies: it is installed with them")
    return Detection(type="python", framework=app.framework, evidence=evidence, plan=plan)


def _dependencies(tree: ProjectTree) -> set[str]:
    """Lower-case names of the packages the project asks for."""
    names: set[str] = set()
    if "requirements.txt" in tree.top:
        text = tree.read("requirements.txt")
        names |= {m.lower() for m in REQUIREMENT_NAME.findall(text) if not m.startswith("-")}
    if "pyproject.toml" in tree.top:
        try:
            project = tomllib.loads(tree.read("pyproject.toml"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"pyproject.toml is not valid TOML: {exc}") from None
        for spec in (project.get("project") or {}).get("dependencies") or []:
            found = REQUIREMENT_NAME.match(str(spec))
            if found:
                names.add(found.group(1).lower())
        poetry = ((project.get("tool") or {}).get("poetry") or {}).get("dependencies") or {}
        names |= {str(n).lower() for n in poetry}
    return {n.replace("_", "-") for n in names}


def _django(tree: ProjectTree) -> AppObject | None:
    if "manage.py" not in tree.top:
        return None
    found = DJANGO_SETTINGS.search(tree.read("manage.py"))
    if found is None:
        return None
    package = found.group("module").rpartition(".")[0]
    wsgi = f"{package.replace('.', '/')}/wsgi.py"
    if not tree.has(wsgi):
        return None
    evidence = Evidence("manage.py", f"DJANGO_SETTINGS_MODULE = {found.group('module')}")
    return AppObject(f"{package}.wsgi:application", "wsgi", "Django", evidence)


def _app_object(tree: ProjectTree) -> AppObject | None:
    candidates = tree.with_suffix(".py", max_depth=3)
    preferred = [f for f in candidates if f.rpartition("/")[2] in CANDIDATE_FILES]
    rest = [f for f in candidates if f not in preferred]
    for path in (preferred + rest)[:MAX_SCANNED]:
        text = tree.read(path)
        found = APP_OBJECT.search(text)
        if found:
            cls = found.group("cls")
            kind = "wsgi" if cls == "Flask" else "asgi"
            detail = f"{found.group('var')} = {cls}(…)"
            return _located(path, found.group("var"), kind, cls, detail)
        bare = BARE_ASGI.search(text)
        if bare:
            detail = f"async def {bare.group('var')}(scope, receive, send)"
            return _located(path, bare.group("var"), "asgi", "ASGI", detail)
    return None


def _located(path: str, variable: str, kind: str, framework: str, detail: str) -> AppObject:
    module_path = path.removesuffix(".py")
    app_dir = ""
    if module_path.startswith("src/"):
        app_dir, module_path = "src", module_path.removeprefix("src/")
    module = module_path.replace("/", ".")
    return AppObject(f"{module}:{variable}", kind, framework, Evidence(path, detail), app_dir)


def _install_command(tree: ProjectTree, settings: DeploySettings, packages: list[str]) -> str:
    steps = [f"{settings.python} -m venv .venv"]
    pip = ".venv/bin/pip install --disable-pip-version-check -q"
    wanted = list(packages)
    if "requirements.txt" in tree.top:
        wanted = ["-r", "requirements.txt", *wanted]
    elif "pyproject.toml" in tree.top or "setup.py" in tree.top:
        wanted = [".", *wanted]
    if wanted:
        steps.append(f"{pip} {shlex.join(wanted)}")
    return " && ".join(steps)


def _server_args(app: AppObject) -> list[str]:
    if app.kind == "asgi":
        directory = ["--app-dir", app.app_dir] if app.app_dir else []
        return [app.target, "--host", "$HOST", "--port", "$PORT", *directory]
    directory = ["--chdir", app.app_dir] if app.app_dir else []
    return ["--bind", "$HOST:$PORT", *directory, app.target]


def _dockerfile(
    tree: ProjectTree, settings: DeploySettings, server: str, packages: list[str], args: list[str]
) -> str:
    """A Dockerfile that installs the project's requirements and serves the app."""
    lines = [f"FROM {settings.python_image}", "WORKDIR /app", "ENV PYTHONUNBUFFERED=1"]
    if "requirements.txt" in tree.top:
        lines += [
            "COPY requirements.txt .",
            "RUN pip install --no-cache-dir -r requirements.txt",
        ]
    lines.append("COPY . .")
    if "requirements.txt" not in tree.top and ("pyproject.toml" in tree.top):
        lines.append("RUN pip install --no-cache-dir .")
    if packages:
        lines.append(f"RUN pip install --no-cache-dir {shlex.join(packages)}")
    command = " ".join(f'"{a}"' if "$" in a else shlex.quote(a) for a in args)
    lines.append(f"CMD exec {server} {command}")
    return "\n".join(lines) + "\n"
