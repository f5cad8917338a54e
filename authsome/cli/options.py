"""The arguments and options of the commands read without click, declared once.

Click reads them (cli/declared.py builds each command's parameters), and so do the click-free
readers: cli/fastpath.py runs `token`, `env` and `list` with them, and cli/tab.py answers Tab
on the options of every command here. So the readers cannot disagree on what a command
accepts; tests/test_fastpath.py and tests/test_completion.py check that they give the same
answers. Plain data and no click: the fast path reads this module on every call.
"""


class _Names:
    """A tuple of names from another module, imported when first read: `token` and `list`
    never read the shells' or the formats' names, and skip importing them."""

    _names: tuple[str, ...] | None

    def __init__(self, module: str, attr: str):
        self._where, self._names = (module, attr), None

    def _get(self) -> tuple[str, ...]:
        if self._names is None:
            module, attr = self._where
            __import__(module)
            import sys

            self._names = tuple(getattr(sys.modules[module], attr))
        return self._names

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __contains__(self, name) -> bool:
        return name in self._get()

    def __getitem__(self, i):
        return self._get()[i]


DIALECTS = _Names("authsome.shells", "DIALECTS")
FORMATS = _Names("authsome.formats", "NAMES")
SHELL = "shell"  # formats.SHELL; tests/test_fastpath.py checks they agree
FLOWS = _Names("authsome.oauth", "FLOWS")


def option(
    *names: str,
    dest: str,
    flag=False,
    choices=(),
    default=None,
    span=None,
    many=False,
    files=False,
    **shown,
) -> dict:
    """One option: its names, the keyword it fills; `span` (low, high) for a whole number in
    that range; `many`: it may be given again, and fills a tuple; `files`: a file path, and
    many; `shown` is --help text (help, show_default)."""
    return {
        "names": names,
        "dest": dest,
        "flag": flag,
        "choices": choices,
        "default": False if flag else (() if files or many else default),
        "span": span,
        "many": many or files,
        "files": files,
        "shown": shown,
    }


def _env_file(what: str) -> dict:
    return option(
        "--env-file",
        dest="env_files",
        files=True,
        help=f"A dotenv file whose variables {what}, authsome:// references resolved"
        " (repeatable; a later file wins).",
    )


def _connection(help_: str = "Connection name (or NAME:C).") -> dict:
    return option("--connection", "-c", dest="connection", help=help_)


def _json() -> dict:
    return option("--json", dest="as_json", flag=True, help="Print JSON.")


# run --proxy's request rules (docs/agents.md, "Request rules")
_RULE_OPTIONS = (
    option(
        "--allow",
        dest="allow",
        many=True,
        metavar="'METHOD HOST/PATH'",
        help="With --proxy: sign only requests a rule allows (again for more rules).",
    ),
    option(
        "--policy",
        dest="policy",
        many=True,
        metavar="FILE",
        help="With --proxy: rules from a file (again for more files).",
    ),
    option(
        "--read-only",
        dest="read_only",
        flag=True,
        help="With --proxy: allow GET, HEAD and OPTIONS to the named providers' hosts.",
    ),
)

# run --proxy --sandbox's options (Linux): kept apart, as the sandbox is its own feature.
SANDBOX_OPTIONS = (
    option(
        "--sandbox",
        dest="sandbox",
        flag=True,
        help="With --proxy: run the command where it cannot reach its credentials but through"
        " the proxy (Linux, bubblewrap).",
    ),
    option(
        "--hide",
        dest="hide",
        metavar="PATH",
        many=True,
        help="With --sandbox: hide this file or folder too (repeatable).",
    ),
    option(
        "--ssh-agent",
        dest="ssh_agent",
        flag=True,
        help="With --sandbox: let the command use your SSH agent.",
    ),
)

# command -> its argument (keyword, how many: -1 for any number; None for no argument) and its
# options, in --help order. cli/fastpath.py runs only the commands in its RUNS table.
COMMANDS: dict[str, dict] = {
    "token": {"argument": ("name", 1), "options": (_connection(),)},
    "env": {
        "argument": ("names", -1),
        "options": (
            option("--shell", dest="shell", choices=DIALECTS, help="Shell dialect."),
            option("--format", dest="fmt", choices=FORMATS, default=SHELL, show_default=True),
            option(
                "--unset", dest="unset", flag=True, help="Remove what an earlier `env` exported."
            ),
            option(
                "--strict",
                dest="strict",
                flag=True,
                help="All or nothing: export nothing if any name fails.",
            ),
            _env_file("are exported"),
        ),
    },
    "list": {"argument": None, "options": (_json(),)},
    "mcp": {"argument": ("name", 1), "options": ()},
    "login": {
        "argument": ("name", 1),
        "options": (
            option(
                "--flow", dest="flow", choices=FLOWS, help="Login flow (default: the provider's)."
            ),
            _connection("Connection name (default: 'default'; or NAME:C)."),
            option(
                "--scopes",
                dest="scopes",
                help="Comma-separated scopes, replacing the provider's defaults.",
            ),
            option(
                "--force", dest="force", flag=True, help="Log in again over a connected connection."
            ),
            option(
                "--client-id",
                dest="client_id",
                help="OAuth client ID (default: NAME_CLIENT_ID or the provider's).",
            ),
            option("--port", dest="port", span=(1024, 65535), help="Loopback port for pkce."),
            option(
                "--no-browser",
                dest="no_browser",
                flag=True,
                help="Print the URL; do not open a browser.",
            ),
        ),
    },
    "logout": {"argument": ("name", 1), "options": (_connection(),)},
    "inspect": {
        "argument": ("name", 1),
        "options": (
            _json(),
            option(
                "--refresh", dest="refresh", flag=True, help="Fetch the issuer's metadata again."
            ),
        ),
    },
    "run": {
        "argument": ("names", -1),
        "options": (
            option(
                "--proxy",
                dest="proxy",
                flag=True,
                help="Hold placeholders; a local proxy adds the credentials to requests to their"
                " hosts.",
            ),
            _env_file("the command gets"),
            option(
                "--no-masking",
                dest="no_masking",
                flag=True,
                help="Show the command's output as it is: do not conceal the credentials in it.",
            ),
            *_RULE_OPTIONS,
            *SANDBOX_OPTIONS,
        ),
    },
}
