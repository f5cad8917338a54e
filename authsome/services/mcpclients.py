"""`authsome mcp config`: the entry that starts `authsome mcp NAME` in an MCP client's config.

One table says, for each client, where its file is, which format it has and where the entry
goes; one function makes the snippet, another adds it to the file. An existing file keeps
every entry it had: JSON is parsed and written back whole (JSON has no comments to lose), TOML
and YAML are edited as text, the entry added as a span of its own, so every byte that was there
stays as it was (Python reads TOML, tomllib, but writes none; YAML has no reader in the
standard library, and a YAML dependency for one command is not worth its import).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from authsome.errors import ConfigError, UsageError

JSON, TOML, YAML = "json", "toml", "yaml"
# client -> (its config file, relative to the folder the command runs in ("."), HOME ("~"),
# $CODEX_HOME or $XDG_CONFIG_HOME; the format; the key that holds the servers)
CLIENTS = {
    "claude": (".mcp.json", JSON, "mcpServers"),  # Claude Code, project scope
    "cursor": ("~/.cursor/mcp.json", JSON, "mcpServers"),
    "vscode": (".vscode/mcp.json", JSON, "servers"),
    "codex": ("$CODEX_HOME/config.toml", TOML, "mcp_servers"),
    "goose": ("$XDG_CONFIG_HOME/goose/config.yaml", YAML, "extensions"),
}
GOOSE_TIMEOUT = 300  # seconds goose gives one tool call (its own default)
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def server_key(name: str) -> str:
    """The server's name in the client's config: the provider's, without its "-mcp"."""
    return name[: -len("-mcp")] if name.endswith("-mcp") and len(name) > 4 else name


def entry(client: str, key: str, argv: list[str]) -> dict:
    """The value of `key` in the client's servers, for the command line `argv`."""
    command, args = argv[0], argv[1:]
    if client == "goose":
        return {
            "enabled": True,
            "name": key,
            "type": "stdio",
            "cmd": command,
            "args": args,
            "envs": {},
            "timeout": GOOSE_TIMEOUT,
        }
    found = {"command": command, "args": args}
    return {"type": "stdio", **found} if client in ("claude", "vscode") else found


def config_path(client: str, environ: dict) -> Path:
    """The file `client` reads its servers from, here."""
    where = CLIENTS[client][0]
    home = environ.get("HOME") or os.path.expanduser("~")
    base = {
        "$CODEX_HOME": environ.get("CODEX_HOME") or os.path.join(home, ".codex"),
        "$XDG_CONFIG_HOME": environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"),
        "~": home,
    }
    for prefix, folder in base.items():
        if where.startswith(prefix + "/"):
            return Path(folder, where[len(prefix) + 1 :])
    return Path(where)


def snippet(client: str, key: str, value: dict) -> str:
    """The text to put in the client's file: the whole document with this one server."""
    fmt, servers = CLIENTS[client][1], CLIENTS[client][2]
    if fmt == JSON:
        return json.dumps({servers: {key: value}}, indent=2) + "\n"
    if fmt == TOML:
        return _toml_table(servers, key, value)
    return f"{servers}:\n" + _yaml_block(key, value, "  ")


def _toml_key(key: str) -> str:
    return key if _BARE.fullmatch(key) else json.dumps(key)


def _toml_table(servers: str, key: str, value: dict) -> str:
    # JSON's strings and arrays of strings are TOML's basic strings and arrays (ASCII escapes).
    lines = [f"[{servers}.{_toml_key(key)}]"]
    lines += [f"{_toml_key(k)} = {json.dumps(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"


def _yaml_block(key: str, value: dict, indent: str) -> str:
    # Scalars in JSON's notation, which YAML reads the same (a double-quoted string, a flow
    # sequence): no quoting rules of YAML's own to get wrong.
    lines = [f"{indent}{json.dumps(key)}:"]
    lines += [f"{indent}  {k}: {json.dumps(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"


def add(path: Path, client: str, key: str, value: dict, force: bool) -> bool:
    """Add the server to the file at `path`, keeping its other entries; False if it was there."""
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {path} ({e})", "check the file") from None
    fmt = CLIENTS[client][1]
    add_to = {JSON: _add_json, TOML: _add_toml, YAML: _add_yaml}[fmt]
    new = add_to(old or "", path, CLIENTS[client][2], key, value, force)
    if new is None:
        return False
    _replace(path, new, CLIENTS[client][0].startswith("."))
    return True


def _add_json(old: str, path, servers: str, key: str, value: dict, force: bool) -> str | None:
    try:
        doc = json.loads(old) if old.strip() else {}
    except ValueError:
        raise ConfigError(
            f"{path} is not plain JSON (comments, or a trailing comma?)",
            "add the snippet by hand: authsome mcp config prints it",
        ) from None
    table = doc.setdefault(servers, {}) if isinstance(doc, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {servers!r} is not an object", "fix the file first")
    if table.get(key) == value:
        return None
    _check_free(key in table, path, key, force)
    table[key] = value
    return json.dumps(doc, indent=2) + "\n"


def _add_toml(old: str, path, servers: str, key: str, value: dict, force: bool) -> str | None:
    import tomllib

    try:
        present = tomllib.loads(old).get(servers, {})
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML ({e})", "fix the file first") from None
    if present.get(key) == value:
        return None
    _check_free(key in present, path, key, False)  # a table is not replaced by a text edit
    new = old + ("\n" if old and not old.endswith("\n") else "")
    new += ("\n" if new else "") + _toml_table(servers, key, value)
    if tomllib.loads(new).get(servers, {}).get(key) != value:  # the edit read back
        raise ConfigError(f"cannot add {key} to {path} as a table of its own", "add it by hand")
    return new


_TOP = r"(?m)^{}:[ \t]*(\{{\}})?[ \t]*(#.*)?$"  # the top-level key, empty or `{}`


def _add_yaml(old: str, path, servers: str, key: str, value: dict, force: bool) -> str | None:
    found = re.search(_TOP.format(re.escape(servers)), old)
    if found is None:
        if re.search(rf"(?m)^{re.escape(servers)}\s*:", old):
            raise ConfigError(
                f"{path}: {servers} is written in a form authsome does not edit",
                "add the snippet by hand: authsome mcp config prints it",
            )
        body = old + ("\n" if old and not old.endswith("\n") else "")
        return body + f"{servers}:\n" + _yaml_block(key, value, "  ")
    block = _yaml_members(old[found.end() :].split("\n")[1:])
    indent = block[0][: len(block[0]) - len(block[0].lstrip())] if block else "  "
    if _yaml_block(key, value, indent) in old:
        return None
    _check_free(key in _yaml_keys(block, indent), path, key, False)
    head = old[: found.start()] + f"{servers}:\n" + _yaml_block(key, value, indent)
    return head + old[found.end() + 1 :]


def _yaml_members(lines: list[str]) -> list[str]:
    """The indented lines of a block mapping's value, up to the next top-level key."""
    block = []
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            if not line[0].isspace():
                break
            block.append(line)
    return block


def _yaml_keys(block: list[str], indent: str) -> set[str]:
    """The keys at `indent` in `block`, plain or quoted."""
    key = re.compile(rf"{indent}(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'#][^:#]*?))\s*:(\s|$)")
    found = (key.match(line) for line in block)
    return {next(g for g in m.groups()[:3] if g is not None) for m in found if m}


def _check_free(taken: bool, path, key: str, force: bool) -> None:
    if taken and not force:
        raise ConfigError(
            f"{path} already has a server named {key}, set up otherwise",
            "remove it first, or pick another name with --as"
            + (", or replace it with --force" if path.suffix == ".json" else ""),
        )


def _replace(path: Path, data: str, shared: bool) -> None:
    """Write `data` over `path` atomically, keeping its mode; a new file is private unless it
    is a project's (`shared`, .vscode/mcp.json), which the whole team reads from the repo."""
    from authsome.util import fsutil

    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644 if shared else 0o600
    path.parent.mkdir(parents=True, exist_ok=True)
    fsutil.atomic_write(path, data.encode())
    os.chmod(path, mode)


def check_client(client: str) -> None:
    if client not in CLIENTS:
        raise UsageError(f"no MCP client {client!r}", f"use one of: {', '.join(CLIENTS)}")


def configure(ctx, name: str, client: str, *, write=False, key=None, file=None, force=False):
    """Print the client's entry for `authsome mcp NAME`, or (`write`) add it to its file."""
    import shlex

    from authsome.services.mcpsetup import derived_name, is_url
    from authsome.services.program import self_argv

    check_client(client)
    if is_url(name):  # `authsome mcp URL`: the provider is made on first use
        from authsome.providers.urls import URL_RULE, url_allowed

        if not url_allowed(name):
            raise UsageError(f"the MCP server URL {URL_RULE}", "give its https:// URL")
        key = key or server_key(derived_name(name))
    else:
        ctx.registry.get(name)  # a known provider, or the error that says so
    key = key or server_key(name)
    value = entry(client, key, [*self_argv(), "mcp", name])
    path = Path(file) if file else config_path(client, ctx.environ)
    if not write:
        ctx.io.emit(snippet(client, key, value).rstrip("\n"))
        hint = (
            f"; or run: claude mcp add-json {key} {shlex.quote(json.dumps(value))}"
            if client == "claude"
            else ""
        )
        ctx.io.say(f"authsome: add this to {path}{hint} (or write it there with --write)")
        return
    if add(path, client, key, value, force):
        ctx.io.say(f"Added the MCP server {key} (authsome mcp {name}) to {path}.")
    else:
        ctx.io.say(f"{path} already has the MCP server {key} as authsome would write it.")
