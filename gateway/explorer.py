"""The pages ``GET /graphql`` serves a browser: GraphiQL when it is installed, else a plain page.

GraphiQL and React are npm packages, never copied into the repository: ``make`` installs them
with ``npm ci`` into ``gateway/graphiql/node_modules`` (gitignored), and the gateway serves their
browser builds itself under ``/explorer/``, so the page works with no internet. When they are
not installed, ``GET /graphql`` serves the plain page (``explorer.html``); ``?plain=1`` asks for
it always.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

GRAPHIQL_HOME = Path(__file__).with_name("graphiql")

# URL name -> file under node_modules. Only these are served, never the folder itself.
_PACKAGE_FILES = {
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
}
_OWN_FILES = ("tonle-explorer.js", "tonle-explorer.css")

# The GraphiQL page runs only the gateway's own scripts and talks only to the gateway.
# GraphiQL sets inline styles and embeds its fonts as data: URLs.
_GRAPHIQL_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "font-src 'self' data:; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class Explorer:
    """Serves the explorer page and, when GraphiQL is installed, the files it loads."""

    def __init__(self, home: Path | None = None) -> None:
        home = home or GRAPHIQL_HOME
        files = {name: home / "node_modules" / path for name, path in _PACKAGE_FILES.items()}
        files.update({name: home / name for name in _OWN_FILES})
        page = home / "index.html"
        self.installed = page.is_file() and all(path.is_file() for path in files.values())
        self._files = files if self.installed else {}
        self._graphiql = page.read_text("utf-8") if self.installed else None
        self._plain = resources.files("gateway").joinpath("explorer.html").read_text("utf-8")

    def page(self, request: Request) -> Response:
        """GraphiQL, or the plain page when GraphiQL is missing or ``?plain=1`` asks for it."""
        plain = request.query_params.get("plain", "") not in ("", "0")
        if self._graphiql is None or plain:
            return HTMLResponse(self._plain)
        return HTMLResponse(self._graphiql, headers=_GRAPHIQL_HEADERS)

    async def asset(self, request: Request) -> Response:
        path = self._files.get(request.path_params["name"])
        if path is None:
            return PlainTextResponse("Not found", status_code=404)
        # no-cache: revalidated by ETag, so a new `npm ci` shows at the next load
        return FileResponse(
            path, headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        )

    @property
    def routes(self) -> list[BaseRoute]:
        return [Route("/explorer/{name}", self.asset, methods=["GET", "HEAD"])]
