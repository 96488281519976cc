"""Node-to-node calls: signed with a key derived from the shared ``SKYPORT_SECRET_KEY``.

A node that routes a request to another (``?node=NAME``) adds
``X-Skyport-Node-Signature: <node> <unix time> <HMAC>`` over the method, the
target, the client's address it vouches for (``X-Skyport-Client``) and the time.
The receiving node takes the client from there only when the signature checks
out and is at most :data:`MAX_AGE` seconds old; a request that carries the header
with anything else is refused. The caller's own credential travels with the
request: the receiving node authenticates the caller itself.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "x-skyport-node-signature"
CLIENT_HEADER = "x-skyport-client"
MAX_AGE = 60.0


class BadSignature(Exception):
    """The node-to-node signature is missing a part, stale or wrong."""


def sign(key: bytes, node: str, method: str, target: str, client: str) -> str:
    """The signature header's value for a request ``node`` sends on a caller's behalf."""
    now = str(int(time.time()))
    return f"{node} {now} {_mac(key, node, now, method, target, client)}"


def verify(key: bytes, header: str, method: str, target: str, client: str) -> str:
    """The name of the node that signed ``header``; :class:`BadSignature` if it did not."""
    node, _, rest = header.partition(" ")
    stamp, _, mac = rest.partition(" ")
    if not (node and stamp.isdigit() and mac):
        raise BadSignature("malformed node signature")
    if abs(time.time() - int(stamp)) > MAX_AGE:
        raise BadSignature("node signature too old (are the nodes' clocks in step?)")
    if not hmac.compare_digest(mac, _mac(key, node, stamp, method, target, client)):
        raise BadSignature("wrong node signature (do the nodes share SKYPORT_SECRET_KEY?)")
    return node


def _mac(key: bytes, node: str, stamp: str, method: str, target: str, client: str) -> str:
    message = "\n".join((node, stamp, method.upper(), target, client)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
