"""Static sites: an ``index.html`` at the root or in a build output folder, served by
BusyBox's ``httpd`` in a small container built for the site."""

from __future__ import annotations

from skyport_deploy.plans import Detection, Evidence, Plan
from skyport_deploy.settings import DeploySettings
from skyport_deploy.tree import ProjectTree

SITE_FOLDERS = ("", "dist", "build", "public", "out", "_site", "www", "site")
"""Where a site's ``index.html`` is looked for, in this order (``""``: the root)."""
BUILD_OUTPUT = ("dist", "build", "out", "_site")
"""Where a project that builds (``package.json`` with a ``build`` script) puts its site:
its own ``index.html`` and ``public/`` are the sources of the build, not the site."""
DEFAULT_PORT = 8080


def detect_static(tree: ProjectTree, settings: DeploySettings) -> Detection | None:
    package = (tree.json("package.json") if "package.json" in tree.top else None) or {}
    scripts = package.get("scripts")
    builds = isinstance(scripts, dict) and "build" in scripts
    folders = BUILD_OUTPUT if builds else SITE_FOLDERS
    folder = next((f for f in folders if tree.has(f"{f}/index.html".lstrip("/"))), None)
    if folder is None:
        return None
    index = f"{folder}/index.html".lstrip("/")
    shown = folder or "the project's root"
    evidence = [Evidence(index, "a site's front page")]
    if builds:
        evidence.append(Evidence("package.json", f"scripts.build: {folder}/ is its output"))
    plan = Plan(
        target="docker",
        targets=("docker",),
        build=[f"an image of {settings.static_image} with {shown} in /www"],
        start="busybox httpd -f -v -p $HOST:$PORT -h /www",
        port=DEFAULT_PORT,
        generated_dockerfile=site_dockerfile(settings.static_image, folder),
    )
    return Detection(type="static", evidence=evidence, plan=plan)


def site_dockerfile(image: str, folder: str) -> str:
    """The Dockerfile of a site: its files in ``/www``, BusyBox's httpd in front."""
    return (
        f"FROM {image}\n"
        f"COPY {folder or '.'} /www\n"
        'CMD exec busybox httpd -f -v -p "$HOST:$PORT" -h /www\n'
    )
