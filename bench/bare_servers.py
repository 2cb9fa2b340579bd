"""The ceilings: a bare Starlette app and a bare Tornado app serving the same bytes.

`python bench/bare_servers.py starlette|tornado PORT FILE` serves FILE's bytes at
`/asset` (read once, answered from memory, with a content type and a cache header) and
`/_stcore/health`. There is no hexlit in between: the difference to hexlit is what the
hexagon costs.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path


def serve_starlette(port: int, body: bytes) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    async def asset(_: Request) -> Response:
        headers = {"Cache-Control": "public, immutable, max-age=31536000"}
        return Response(body, media_type="application/javascript", headers=headers)

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/asset", asset), Route("/_stcore/health", health)])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve_tornado(port: int, body: bytes) -> None:
    import tornado.web

    class Asset(tornado.web.RequestHandler):
        def get(self) -> None:
            self.set_header("Content-Type", "application/javascript")
            self.set_header("Cache-Control", "public, immutable, max-age=31536000")
            self.finish(body)

    class Health(tornado.web.RequestHandler):
        def get(self) -> None:
            self.finish("ok")

    async def main() -> None:
        app = tornado.web.Application([("/asset", Asset), ("/_stcore/health", Health)])
        app.listen(port, "127.0.0.1")
        await asyncio.Event().wait()

    asyncio.run(main())


if __name__ == "__main__":
    stack, port, file = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    (serve_starlette if stack == "starlette" else serve_tornado)(port, file.read_bytes())
