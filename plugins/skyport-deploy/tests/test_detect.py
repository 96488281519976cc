"""Detection: each project type named with its evidence and plan, from files alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from skyport.testing import CliResult, cli_ok, one_line_error
from skyport_deploy.detectors import detect
from skyport_deploy.plans import Ambiguous, Detection, Undetected
from skyport_deploy.settings import DeploySettings
from skyport_deploy.tree import NotAProject

SAMPLES = Path(__file__).parent / "samples"
SETTINGS = DeploySettings()


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def found(root: Path, as_type: str | None = None) -> Detection:
    return detect(root, SETTINGS, as_type)


def details(detection: Detection) -> set[str]:
    return {f"{e.file}: {e.detail}" if e.detail else e.file for e in detection.evidence}


# -- the samples the deploy tests run -------------------------------------------------------


def test_the_node_sample_runs_its_start_script_with_pm2() -> None:
    node = found(SAMPLES / "node-http")
    assert node.type == "node" and node.plan.target == "pm2"
    assert 'package.json: scripts.start = "node server.js"' in details(node)
    assert (node.plan.script, node.plan.args, node.plan.build) == ("server.js", [], [])
    assert node.plan.reads_port and node.plan.env == {"NODE_ENV": "production"}


def test_the_static_sample_is_served_from_its_folder() -> None:
    site = found(SAMPLES / "static-site")
    assert site.type == "static" and site.plan.target == "docker"
    assert details(site) == {"www/index.html: a site's front page"}
    assert "COPY www /www" in site.plan.generated_dockerfile
    assert site.plan.generated_dockerfile.startswith(f"FROM {SETTINGS.static_image}\n")


def test_the_dockerfile_sample_is_built_and_exposes_its_port() -> None:
    image = found(SAMPLES / "dockerfile")
    assert image.type == "dockerfile" and image.plan.dockerfile == "Dockerfile"
    assert {"Dockerfile: EXPOSE 8080", "Dockerfile: uses $PORT"} <= details(image)
    assert image.plan.port == 8080 and image.plan.reads_port
    assert image.others == ["static"]  # its www/index.html: a site too, but the recipe wins


def test_the_compose_sample_is_a_stack_that_takes_its_port() -> None:
    stack = found(SAMPLES / "compose")
    assert stack.type == "compose" and stack.plan.compose_file == "compose.yaml"
    assert "compose.yaml: services: web" in details(stack)
    assert stack.plan.reads_port and stack.plan.port is None


def test_the_python_sample_is_a_bare_asgi_app_under_uvicorn() -> None:
    app = found(SAMPLES / "python-asgi")
    assert (app.type, app.framework, app.plan.target) == ("python", "ASGI", "pm2")
    assert "main.py: async def app(scope, receive, send)" in details(app)
    assert app.plan.script == ".venv/bin/uvicorn"
    assert app.plan.args == ["main:app", "--host", "$HOST", "--port", "$PORT"]
    assert app.plan.install == (
        "python3 -m venv .venv && "
        ".venv/bin/pip install --disable-pip-version-check -q -r requirements.txt"
    )


# -- Node.js ------------------------------------------------------------------------------------


def test_a_next_app_builds_with_pnpm_and_starts_through_it(tmp_path: Path) -> None:
    package = {
        "scripts": {"build": "next build", "start": "next start"},
        "dependencies": {"next": "14.2.0", "react": "18.3.0"},
    }
    write(tmp_path, {"package.json": json.dumps(package), "pnpm-lock.yaml": "lockfileVersion: 6"})
    app = found(tmp_path)
    assert app.framework == "Next.js"
    assert app.plan.build == ["pnpm install --frozen-lockfile", "pnpm run build"]
    assert (app.plan.script, app.plan.args, app.plan.start) == ("pnpm", ["start"], "pnpm start")
    assert app.plan.reads_port  # Next.js listens on $PORT by itself
    assert {"pnpm-lock.yaml: installed with pnpm install --frozen-lockfile"} <= details(app)


def test_npm_ci_follows_a_package_lock_and_main_starts_the_app(tmp_path: Path) -> None:
    package = {"main": "src/index.js", "dependencies": {"express": "^4"}}
    write(
        tmp_path,
        {
            "package.json": json.dumps(package),
            "package-lock.json": "{}",
            "src/index.js": "app.listen(process.env.PORT || 3000)",
        },
    )
    app = found(tmp_path)
    assert (app.framework, app.plan.build, app.plan.script) == (
        "Express",
        ["npm ci"],
        "src/index.js",
    )
    assert 'package.json: main = "src/index.js"' in details(app)


def test_an_app_that_ignores_port_is_replaced_rather_than_tried(tmp_path: Path) -> None:
    write(
        tmp_path, {"package.json": "{}", "server.js": "require('http').createServer().listen(4000)"}
    )
    app = found(tmp_path)
    assert app.plan.script == "server.js" and not app.plan.reads_port
    assert app.plan.redeploy == "replace"


def test_a_node_project_without_a_start_command_says_so(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": json.dumps({"scripts": {"test": "true"}})})
    app = found(tmp_path)
    assert app.type == "node" and app.plan.start == ""
    assert any("no start command" in note for note in app.plan.notes)


def test_a_vite_source_tree_is_not_taken_for_its_built_site(tmp_path: Path) -> None:
    package = {"scripts": {"build": "vite build"}, "devDependencies": {"vite": "5"}}
    write(tmp_path, {"package.json": json.dumps(package), "index.html": "<div id=root>"})
    app = found(tmp_path)
    assert app.type == "node" and app.framework == "Vite" and "static" not in app.others
    write(tmp_path, {"dist/index.html": "<p>built"})
    built = found(tmp_path)
    assert built.type == "static" and "COPY dist /www" in built.plan.generated_dockerfile


# -- Python, Go ---------------------------------------------------------------------------------


def test_a_fastapi_app_in_a_src_layout(tmp_path: Path) -> None:
    project = '[project]\nname = "api"\ndependencies = ["fastapi>=0.110", "uvicorn[standard]"]\n'
    write(
        tmp_path,
        {
            "pyproject.toml": project,
            "src/api/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        },
    )
    app = found(tmp_path)
    assert app.framework == "FastAPI"
    assert app.plan.args[:1] == ["api.main:app"] and app.plan.args[-2:] == ["--app-dir", "src"]
    assert app.plan.install.endswith("install --disable-pip-version-check -q .")  # no extra server
    assert "src/api/main.py: app = FastAPI(…)" in details(app)


def test_a_flask_app_runs_under_gunicorn(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "requirements.txt": "flask\n",
            "app.py": "from flask import Flask\nserver = Flask(__name__)\n",
        },
    )
    app = found(tmp_path)
    assert app.framework == "Flask" and app.plan.script == ".venv/bin/gunicorn"
    assert app.plan.args == ["--bind", "$HOST:$PORT", "app:server"]
    assert app.plan.install.endswith("-r requirements.txt gunicorn")
    assert 'CMD exec gunicorn --bind "$HOST:$PORT" app:server' in app.plan.generated_dockerfile


def test_a_django_project_is_found_through_manage_py(tmp_path: Path) -> None:
    manage = 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")\n'
    write(
        tmp_path,
        {"requirements.txt": "django\ngunicorn\n", "manage.py": manage, "mysite/wsgi.py": ""},
    )
    app = found(tmp_path)
    assert app.framework == "Django" and app.plan.args[-1] == "mysite.wsgi:application"


def test_a_go_module_is_built_from_its_main_package(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "go.mod": "module example.com/hello\n\ngo 1.22\n",
            "cmd/hello/main.go": "package main\n\nfunc main() {}\n",
            "internal/x/x.go": "package x\n",
        },
    )
    app = found(tmp_path)
    assert app.type == "go" and {"go.mod: module example.com/hello"} <= details(app)
    assert "go build -o /out/app ./cmd/hello" in app.plan.generated_dockerfile


# -- deciding --------------------------------------------------------------------------------------


def test_two_runnable_languages_are_ambiguous_until_as_picks_one(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": json.dumps({"scripts": {"start": "node x.js"}})})
    write(tmp_path, {"requirements.txt": "flask\n", "app.py": "app = Flask(__name__)\n"})
    with pytest.raises(Ambiguous, match="node, python; choose one with --as"):
        found(tmp_path)
    assert found(tmp_path, "python").type == "python"
    assert found(tmp_path, "node").others == ["python"]


def test_a_compose_file_wins_over_the_dockerfile_it_builds(tmp_path: Path) -> None:
    compose = "services:\n  web:\n    build: .\n    ports: ['8080:80']\n"
    write(tmp_path, {"compose.yaml": compose, "Dockerfile": "FROM nginx\nEXPOSE 80\n"})
    stack = found(tmp_path)
    assert stack.type == "compose" and stack.others == ["dockerfile"]
    assert stack.plan.port == 8080 and not stack.plan.reads_port
    assert any("docker:host" in note for note in stack.plan.notes)


def test_what_is_not_a_project_is_said_plainly(tmp_path: Path) -> None:
    write(tmp_path, {"notes.txt": "hello"})
    with pytest.raises(Undetected, match="no project found: no Dockerfile"):
        found(tmp_path)
    with pytest.raises(NotAProject, match="not found"):
        found(tmp_path / "missing")
    with pytest.raises(NotAProject, match="is not a folder"):
        found(tmp_path / "notes.txt")
    with pytest.raises(Undetected, match="this is not a go project"):
        found(SAMPLES / "node-http", "go")
    with pytest.raises(Undetected, match="unknown type 'ruby'"):
        found(SAMPLES / "node-http", "ruby")


def test_a_broken_manifest_is_named_when_nothing_else_fits(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": "{not json"})
    with pytest.raises(Undetected, match=r"package.json is not a JSON object"):
        found(tmp_path)
    write(tmp_path, {"Dockerfile": "FROM scratch\n"})
    assert found(tmp_path).type == "dockerfile"


def test_dependency_and_build_folders_are_not_walked(tmp_path: Path) -> None:
    write(tmp_path, {"package.json": "{}", "server.js": ""})
    for skipped in ("node_modules/x", ".git/objects", "dist/assets"):
        for n in range(50):
            write(tmp_path, {f"{skipped}/{n}.js": ""})
    assert found(tmp_path).files == 2


# -- the command -----------------------------------------------------------------------------------


def test_skyport_deploy_detect_prints_the_evidence_and_plan(
    run_cli: Callable[..., CliResult],
) -> None:
    shown = cli_ok(run_cli("deploy", "detect", str(SAMPLES / "python-asgi"))).out
    assert "type      python (ASGI)" in shown
    assert "main.py: async def app(scope, receive, send)" in shown
    assert "start     uvicorn main:app --host $HOST --port $PORT" in shown
    as_json = cli_ok(run_cli("deploy", "detect", str(SAMPLES / "compose"), "--json")).json()
    assert as_json["type"] == "compose" and as_json["plan"]["compose_file"] == "compose.yaml"


def test_skyport_deploy_detect_fails_in_one_line(
    run_cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    assert "no project found" in one_line_error(run_cli("deploy", "detect", str(tmp_path)))
    forced = run_cli("deploy", "detect", str(SAMPLES / "static-site"), "--as", "node")
    assert "this is not a node project" in one_line_error(forced)
