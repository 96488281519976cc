"""Images: images (image ls), rmi, tag, image history/inspect/prune, and pull with progress."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from typing import Any

from skyport.cli.common import api
from skyport.cli.output import (
    CliError,
    Column,
    JsonFlag,
    human_bytes,
    print_json,
    print_table,
)
from skyport_docker.cli.base import (
    All,
    EngineOpt,
    Filters,
    Force,
    ListEngine,
    PruneFilters,
    PruneForce,
    Quiet,
    add_inspect,
    ago,
    api_path,
    app,
    fields,
    for_each,
    get_listing,
    image_app,
    image_path,
    prune,
    query_params,
    short_id,
    trunc,
    with_engine,
)


def _tag_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per repository:tag, as ``docker images`` shows them."""
    flat = []
    for row in rows:
        for tag in row["tags"] or ["<none>:<none>"]:
            repo, _, name = tag.rpartition(":")
            flat.append({**row, "repository": repo, "tag": name})
    return flat


@app.command
def images(
    *,
    all: All = False,
    quiet: Quiet = False,
    filter: Filters = None,
    engine: ListEngine = None,
    json: JsonFlag = False,
) -> None:
    """List images.

    Parameters
    ----------
    all
        Show intermediate images too.
    quiet
        Only print image ids.
    filter
        Filter as docker does: reference=busybox*, dangling=true, label=a=b (repeatable).
    """
    with api() as client:
        rows = get_listing(
            client, api_path("images"), query_params(engine, all=all, filters=filter)
        )
    if json:
        print_json(rows)
    elif quiet:
        for image_id in dict.fromkeys(short_id(row["id"]) for row in rows):
            print(image_id)
    else:
        columns: list[Column] = [
            ("REPOSITORY", lambda r: r["repository"]),
            ("TAG", lambda r: r["tag"]),
            ("IMAGE ID", lambda r: short_id(r["id"])),
            ("CREATED", lambda r: ago(r["created"])),
            ("SIZE", lambda r: human_bytes(r["size"])),
        ]
        print_table(_tag_rows(rows), with_engine(columns, engine))


image_app.command(images, name="ls")


@app.command
def rmi(
    *images: str,
    force: Force = False,
    no_prune: bool = False,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> int:
    """Remove images.

    Parameters
    ----------
    images
        Images, by name[:tag] or id.
    force
        Remove it even if containers use it.
    no_prune
        Keep untagged parent images.
    """

    def report(_ref: str, answer: dict[str, Any]) -> None:
        for tag in answer["untagged"]:
            print(f"Untagged: {tag}")
        for layer in answer["deleted"]:
            print(f"Deleted: {layer}")

    return for_each(
        images,
        lambda client, ref: client.delete(
            image_path(ref), params=query_params(engine, force=force, noprune=no_prune)
        ),
        as_json=json,
        what="image",
        report=report,
    )


image_app.command(rmi, name="rm")


@app.command
def tag(source: str, target: str, /, *, engine: EngineOpt = None, json: JsonFlag = False) -> None:
    """Give an image another name: TARGET refers to SOURCE.

    Parameters
    ----------
    source
        The image, by name[:tag] or id.
    target
        The new name[:tag].
    """
    with api() as client:
        answer = client.post(
            image_path(source, "tag"), json={"target": target}, params=query_params(engine)
        )
    if json:
        print_json(answer)


image_app.command(tag, name="tag")


@image_app.command(name="history")
def history(
    image: str, /, *, no_trunc: bool = False, engine: EngineOpt = None, json: JsonFlag = False
) -> None:
    """Show the layers of an image.

    Parameters
    ----------
    image
        The image, by name[:tag] or id.
    no_trunc
        Do not shorten the commands.
    """
    with api() as client:
        rows = client.get(image_path(image, "history"), params=query_params(engine))
    if json:
        print_json(rows)
        return
    print_table(
        rows,
        [
            ("IMAGE", lambda r: short_id(r["id"]) if r["id"] != "<missing>" else "<missing>"),
            ("CREATED", lambda r: ago(r["created"])),
            ("CREATED BY", lambda r: trunc(r["created_by"], 45, no_trunc)),
            ("SIZE", lambda r: human_bytes(r["size"])),
            ("COMMENT", lambda r: r["comment"]),
        ],
    )


@image_app.command(name="prune")
def image_prune(
    *,
    all: All = False,
    force: PruneForce = False,
    filter: PruneFilters = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> None:
    """Remove dangling images (with -a: every image no container uses), after asking unless -f.

    Parameters
    ----------
    all
        Every unused image, not just dangling ones.
    filter
        Only those matching, e.g. label=a=b or until=24h (repeatable).
    """
    removes = (
        "all images without at least one container associated to them"
        if all
        else "all dangling images"
    )
    prune("image", removes, force=force, engine=engine, as_json=json, all=all, filters=filter)


@app.command
def pull(
    image: str,
    /,
    *,
    quiet: Quiet = False,
    platform: str | None = None,
    engine: EngineOpt = None,
    json: JsonFlag = False,
) -> None:
    """Pull an image from its registry, with a progress bar.

    Parameters
    ----------
    image
        The image, name[:tag] (default tag: latest).
    quiet
        No progress, only the image id.
    platform
        The platform to pull, e.g. linux/arm64.
    """
    job = secrets.token_hex(6)
    body = fields(image=image, job=job, platform=platform, wait=False)
    with api() as client:
        client.post(api_path("images", "pull"), json=body, params=query_params(engine))
        feed = client.subscribe([f"docker.pull:{job}"])
        try:
            final = _show_pull(_pull_updates(feed), live=not (quiet or json))
        finally:
            feed.close()
        final = client.get(api_path("images", "pulls", job))
    if json:
        print_json(final)
    if final["status"] == "error":
        raise CliError(final["error"] or f"pulling {image} failed")
    if not json:
        print(
            final["image_id"] if quiet else f"{final['message'] or 'Pulled'}\n{final['image_id']}"
        )


image_app.command(pull, name="pull")


def _pull_updates(feed: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for message in feed:
        if "topic" not in message:
            continue
        progress = message["data"]
        yield progress
        if progress["status"] != "pulling":
            return


LAYER_DONE = frozenset({"Pull complete", "Already exists", "Download complete"})


def _show_pull(updates: Iterator[dict[str, Any]], *, live: bool) -> dict[str, Any] | None:
    """A progress bar per layer on a terminal; state changes as lines otherwise."""
    last: dict[str, Any] | None = None
    if not live:
        for update in updates:
            last = update
        return last
    if not sys.stdout.isatty():
        said: dict[str, str] = {}
        for last in updates:
            for layer in last["layers"]:
                if said.get(layer["id"]) != layer["status"]:
                    said[layer["id"]] = layer["status"]
                    print(f"{layer['id']}: {layer['status']}", flush=True)
        return last
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    bars: dict[str, Any] = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), transient=False
    ) as progress:
        for last in updates:
            for layer in last["layers"]:
                description = f"{layer['id']}: {layer['status']}"
                # unknown size: a pulsing bar while it runs, a full one once it is done
                total = layer["total"] or (0 if layer["status"] in LAYER_DONE else None)
                if layer["id"] not in bars:
                    bars[layer["id"]] = progress.add_task(description, total=total)
                progress.update(
                    bars[layer["id"]],
                    description=description,
                    completed=layer["current"],
                    total=total,
                )
    return last


add_inspect(image_app, "image", image_path, "Images, by name[:tag] or id.")
