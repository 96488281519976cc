"""Helpers for tests against a real Docker engine, shared by this plugin's and SkyPort's tests.

No registry on the internet can be reached, so test images are made with
``docker import`` from Debian's static busybox (``apt-get install busybox-static``).
"""

from __future__ import annotations

import io
import os
import tarfile

import docker

from skyport.testing import require_backend

TEST_IMAGE = "skyport-test/busybox:latest"
BUSYBOX = "/bin/busybox"
APPLETS = "sh echo sleep cat ls ps top env hostname id printf seq yes true false wc head tail date"


def build_test_image(
    client: docker.APIClient, tag: str = TEST_IMAGE, extra: dict[str, bytes] | None = None
) -> str:
    """``docker import`` a root file system holding a static busybox (and ``extra`` files)."""
    require_backend(os.path.exists(BUSYBOX), f"{BUSYBOX} missing (apt-get install busybox-static)")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in APPLETS.split():
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        tmp = tarfile.TarInfo("tmp")
        tmp.type, tmp.mode = tarfile.DIRTYPE, 0o1777
        tar.addfile(tmp)
        for name, content in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    repository, _, tag_name = tag.rpartition(":")
    client.import_image_from_data(
        buffer.getvalue(), repository=repository, tag=tag_name, changes=['CMD ["/bin/sh"]']
    )
    return tag
