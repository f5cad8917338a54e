"""docker-credential-authsome: the docker credential-helper protocol over fresh().

docker runs `docker-credential-authsome ACTION` and talks through stdin and stdout, as
docker-credential-helpers' credentials.Serve defines: `get` reads a server URL and prints
{"ServerURL", "Username", "Secret"}; `list` prints {server URL: username}; an error is one line
on stdout and a non-zero exit, and "credentials not found in native keychain" is the one docker
treats as "no credentials here" (it then pulls anonymously).
"""

from __future__ import annotations

import json

from authsome.errors import NotLoggedIn, UsageError
from authsome.services.serving import serving
from authsome.storage.connections import CONNECTED

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.factory import Context

NOT_FOUND = "credentials not found in native keychain"


def registry_host(server_url: str) -> str | None:
    """`https://ghcr.io/v2/` -> `ghcr.io`: the host docker names, as providers list it. None
    for another scheme: docker sends a credential it gets for `http://` in the clear."""
    text = server_url.strip().lower()
    scheme, sep, rest = text.partition("://")
    if sep and scheme != "https":
        return None
    return (rest if sep else text).split("/", 1)[0]


def get(ctx: Context, server_url: str) -> str | None:
    """The credential JSON for `server_url`, or None when no connected login serves it."""
    from authsome.services.audit import record
    from authsome.services.refresh import credential, fresh

    host = registry_host(server_url)
    if host is None:
        ctx.io.say(
            "authsome: a registry credential goes only to an https:// server (or a bare host"
            " name, which docker reaches over https). Use the registry's https:// address"
        )
        return None
    try:
        found = serving(ctx, "docker", host, setup="login")
    except NotLoggedIn as e:
        ctx.io.say(f"authsome: {e}")  # docker reads stdout only; this is for a person running it
        return None
    if found is None:
        return None
    provider, conn_name = found
    secret = credential(fresh(ctx, provider.name, conn_name))
    record(ctx, "docker-credential", provider.name, conn_name, host=host)
    doc = {"ServerURL": server_url, "Username": provider.docker.username, "Secret": secret}
    return json.dumps(doc)


def list_(ctx: Context) -> str:
    """{registry: username} for every registry a connected login serves."""
    out = {}
    for entry in ctx.connections.list():
        if entry.get("status", CONNECTED) != CONNECTED or not entry.get("provider"):
            continue
        docker = ctx.registry.get(entry["provider"]).docker
        if docker is not None:
            out.update(dict.fromkeys(docker.registries, docker.username))
    return json.dumps(out, sort_keys=True)


def refuse(action: str) -> UsageError:
    """store and erase: authsome's logins are made and removed by authsome itself."""
    if action == "store":
        return UsageError(
            "docker-credential-authsome does not store credentials: docker login is not needed",
            "log in with: authsome login NAME (e.g. authsome login github)",
        )
    return UsageError(
        "docker-credential-authsome does not erase credentials",
        "to remove a login, run: authsome logout NAME",
    )


def serve(ctx: Context, action: str) -> int:
    """Answer one docker request; what to print goes to ctx.io.emit. Raises AuthsomeError."""
    from authsome.util.nodump import disable_core_dumps

    disable_core_dumps()  # before any secret is read
    if action == "get":
        answer = get(ctx, ctx.io.stdin.read().strip())  # trimmed, as credentials.Serve does
        ctx.io.emit(answer if answer is not None else NOT_FOUND)
        return 0 if answer is not None else 1
    if action == "list":
        ctx.io.emit(list_(ctx))
        return 0
    if action == "version":
        from authsome import __version__

        ctx.io.emit(f"docker-credential-authsome (authsome) {__version__}")
        return 0
    if action in ("store", "erase"):
        ctx.io.stdin.read()  # the credentials docker sends: read, never kept
        raise refuse(action)
    from authsome.util.resources import doc_path

    raise UsageError(
        "usage: docker-credential-authsome get|list|store|erase|version",
        f"docker runs it; see the credHelpers lines in {doc_path('helpers.md')}",
    )
