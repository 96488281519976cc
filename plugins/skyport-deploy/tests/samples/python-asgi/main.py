"""An ASGI app with nothing beyond the standard library (uvicorn serves it)."""

import json
import os

VERSION = "1"


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = json.dumps({"app": "python", "version": VERSION, "greeting": os.environ.get("GREETING")})
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})
