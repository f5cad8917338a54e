"""The `git`, `docker` and `kubernetes` fields of a provider: what the credential helpers answer.

Checked on load like the rest of the definition (authsome.providers.schema), so a helper never
meets a host that is not a plain host name or a username that could break its protocol.
"""

from __future__ import annotations

from authsome.providers.model import DockerSpec, GitSpec, KubernetesSpec

_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_LABEL = _ALNUM | {"-"}


def is_host(text) -> bool:
    """A host name, lower case, with an optional port: what git sends as `host` and docker as
    the server, once the scheme is gone.

    The whole of ^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\\d{1,5})?$,
    checked by hand: compiling it was a quarter of `env`'s provider checks (tests/test_routing.py
    holds the two to the same answers)."""
    if not isinstance(text, str):
        return False
    name, colon, port = text.partition(":")
    if colon and not (0 < len(port) <= 5 and port.isdecimal()):
        return False
    return all(
        label and label[0] in _ALNUM and label[-1] in _ALNUM and _LABEL.issuperset(label)
        for label in name.split(".")
    )


KUBE_TOKENS = ("access_token", "id_token")
TOOL_FIELDS = ("git", "docker", "kubernetes")


def parse_tools(c, data: dict) -> dict:
    """The Provider keywords for the tool fields present in `data`; `c` names the problem."""
    out: dict[str, object] = {}
    git = _object(c, data, "git", {"hosts", "username"})
    if git is not None:
        out["git"] = GitSpec(hosts=_hosts(c, git, "git.hosts"), username=_username(c, git, "git"))
    docker = _object(c, data, "docker", {"registries", "username"})
    if docker is not None:
        out["docker"] = DockerSpec(
            registries=_hosts(c, docker, "docker.registries"),
            username=_username(c, docker, "docker"),
        )
    kube = _object(c, data, "kubernetes", {"token"})
    if kube is not None:
        token = c.take(kube, "token", str, "kubernetes.", default="access_token")
        if token not in KUBE_TOKENS:
            raise c.fail("kubernetes.token", f"must be one of {', '.join(KUBE_TOKENS)}")
        out["kubernetes"] = KubernetesSpec(token=token)
    return out


def _object(c, data: dict, key: str, known: set[str]) -> dict | None:
    raw = data.get(key)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise c.fail(key, "must be an object")
    c.no_unknown(raw, known, f"{key}.")
    return raw


def _hosts(c, raw: dict, path: str) -> tuple[str, ...]:
    where, key = path.split(".")
    hosts = c.take(raw, key, list, f"{where}.", required=True)
    if not hosts:
        raise c.fail(path, "must list at least one host")
    for host in hosts:
        if not is_host(host):
            raise c.fail(path, f"has {host!r}, which is not a lower-case host name[:port]")
    return tuple(hosts)


def _username(c, raw: dict, where: str) -> str:
    name = c.take(raw, "username", str, f"{where}.", required=True)
    # A line break would start a new attribute in git's protocol; keep the name one plain word.
    if not name or any(ch.isspace() or ord(ch) < 0x20 or ch == "\x7f" for ch in name):
        raise c.fail(f"{where}.username", "must be a non-empty word without spaces")
    return name
