"""Images and Compose stacks (docker plugin): lists, describe, and their actions."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import quote

from textual.binding import Binding

from skyport.cli.output import human_bytes, human_duration
from skyport.tui.screens.base import ListScreen, Row


class DockerListScreen(ListScreen):
    """A docker resource list, listed again on every engine event of its ``KIND``."""

    TOPICS = ("docker.events",)
    KIND: ClassVar[str]
    PATH: ClassVar[str]

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, Any]] = []

    def reload(self) -> None:
        self.api(lambda c: c.get(self.PATH), self._listed)

    def _listed(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        self.show(row for item in items for row in self.rows_of(item))

    def rows_of(self, item: dict[str, Any]) -> Iterable[Row]:
        """The rows one item of the listing makes (keyed by what the API calls it): each
        kind of screen says how (here: none)."""
        return ()

    def on_topic(self, message: dict[str, Any]) -> None:
        super().on_topic(message)
        data = message.get("data") or {}
        if data.get("Type") in (self.KIND, "engine"):
            self.reload_soon()

    def item_path(self, *action: str) -> str | None:
        """The API path of the item under the cursor (plus ``action``)."""
        key = self.selected
        return None if key is None else "/".join([self.PATH, quote(key, safe=":/"), *action])

    def action_inspect(self) -> None:
        path, key = self.item_path(), self.selected
        if path is not None:
            self.describe(f"{self.KIND} {key}", path)


class ImagesScreen(DockerListScreen):
    AREA = "images"
    KIND = "image"
    PATH = "/api/docker/images"
    WRITES: ClassVar[dict[str, str]] = {"remove": "docker:write"}
    COLUMNS = ("TAG", "ID", "SIZE", "CREATED", "CONTAINERS")
    BINDINGS: ClassVar[list[Any]] = [
        Binding("d", "inspect", "Describe"),
        Binding("ctrl+d", "remove", "Remove"),
    ]

    def rows_of(self, image: dict[str, Any]) -> Iterable[Row]:
        """A row per tag, as ``docker images`` shows them (an untagged image: by its id)."""
        short = image["id"].removeprefix("sha256:")[:12]
        used = image.get("containers")
        for tag in image["tags"] or [None]:
            yield Row(
                tag or image["id"],
                (
                    tag or "<none>",
                    short,
                    human_bytes(image["size"]),
                    human_duration(time.time() - image["created"]) + " ago",
                    "-" if used is None else used,
                ),
                f"{tag} {short}",
            )

    def action_remove(self) -> None:
        """Remove the tag (the image goes with its last tag), or the untagged image."""
        path, key = self.item_path(), self.selected
        if path is not None and key is not None:
            self.act(f"Remove image {key}?", lambda c: c.delete(path), f"removed {key}")


class StacksScreen(DockerListScreen):
    AREA = "stacks"
    KIND = "container"  # a stack changes when its containers do
    PATH = "/api/docker/stacks"
    WRITES: ClassVar[dict[str, str]] = dict.fromkeys(
        ("start", "stop", "restart", "remove"), "docker:write"
    )
    COLUMNS = ("NAME", "STATUS", "RUNNING", "SERVICES", "MANAGED")
    BINDINGS: ClassVar[list[Any]] = [
        Binding("d", "inspect", "Describe"),
        Binding("u", "act('start')", "Start"),
        Binding("t", "act('stop')", "Stop"),
        Binding("r", "act('restart')", "Restart"),
        Binding("ctrl+d", "remove", "Remove"),
    ]

    def rows_of(self, stack: dict[str, Any]) -> Iterable[Row]:
        yield Row(
            stack["name"],
            (
                stack["name"],
                stack["status"],
                f"{stack['running']}/{stack['containers']}",
                ", ".join(stack["services"]),
                "yes" if stack["managed"] else "no",
            ),
            f"{stack['name']} {stack['status']} {' '.join(stack['services'])}",
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "act":
            action = str(parameters[0])
        return super().check_action(action, parameters)

    def action_act(self, verb: str) -> None:
        path, name = self.item_path(verb), self.selected
        if path is not None:
            question = f"{verb.capitalize()} stack {name}?"
            self.act(question, lambda c: c.post(path), f"{verb}: {name}")

    def action_remove(self) -> None:
        path, name = self.item_path(), self.selected
        if path is not None:
            question = f"Remove stack {name} (its containers and networks)?"
            self.act(question, lambda c: c.delete(path), f"removed {name}")
