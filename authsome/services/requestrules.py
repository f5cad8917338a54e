"""`run --proxy --allow/--policy/--read-only`: the request rules a run is given, read and checked
before the child starts (the matcher itself is authsome/proxy/rules.py)."""

from __future__ import annotations

from dataclasses import dataclass

from authsome.errors import ConfigError, UsageError

MAX_POLICY_BYTES = 1 << 20  # a policy is a few lines: anything bigger is the wrong file


@dataclass(frozen=True)
class RuleOptions:
    """What the command line asked for: `--allow` rules, `--policy` files, `--read-only`."""

    allow: tuple[str, ...] = ()
    policy: tuple[str, ...] = ()
    read_only: bool = False

    @property
    def given(self) -> bool:
        return bool(self.allow or self.policy or self.read_only)


def parsed(options: RuleOptions) -> tuple[list, list]:
    """The rules of `--allow`, and of the `--policy` files; UsageError for a bad `--allow` (exit 2),
    ConfigError for a policy file that cannot be read or holds a bad line (exit 9)."""
    from authsome.proxy.rules import BadRule, parse

    allowed = []
    for i, text in enumerate(options.allow, 1):
        try:
            allowed.append(parse(text))
        except BadRule as e:
            where = "--allow" if len(options.allow) == 1 else f"--allow (the {_nth(i)})"
            raise UsageError(f"{where}: {e.what}", e.fix) from None
    return allowed, [rule for path in options.policy for rule in _policy(path)]


def _policy(path: str) -> list:
    from authsome.proxy.rules import BadRule, parse_lines

    try:
        with open(path, "rb") as f:
            data = f.read(MAX_POLICY_BYTES + 1)
    except OSError as e:
        raise ConfigError(
            f"cannot read the policy file {path} ({e.strerror or e})",
            "check the path given to --policy",
        ) from None
    if len(data) > MAX_POLICY_BYTES:
        raise ConfigError(f"the policy file {path} is over 1 MiB", "check the --policy path")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text", "save the file as UTF-8") from None
    try:
        rules = parse_lines(text)
    except BadRule as e:
        raise ConfigError(f"{path}:{e.line}: {e.what}", e.fix) from None
    if not rules:
        raise ConfigError(
            f"the policy file {path} holds no rules",
            "write one rule a line, such as: GET api.github.com/repos/acme/*",
        )
    return rules


def for_run(options: RuleOptions, found: tuple[list, list], targets: dict):
    """The Rules in force for a run over `targets` (provider name -> Credential), or None when
    none were asked for: `found` (parsed()) and, with `--read-only`, GET, HEAD and OPTIONS on
    every named provider's hosts. An `--allow` for a host the proxy does not intercept is a
    mistake, refused; a policy file may name the hosts of providers this run does not."""
    if not options.given:
        return None
    from authsome.proxy.rules import Rules, read_only, uncovered

    allowed, policy = found
    hosts = [host for target in targets.values() for host in target.hosts]
    stray = uncovered(allowed, hosts)
    if stray:
        raise UsageError(
            f"--allow names {stray[0]}, where no named provider's credential goes (rules apply"
            " only to the hosts the proxy intercepts)",
            f"name its provider, or fix the host; intercepted here: {_list(hosts)}",
        )
    return Rules([*allowed, *policy, *(read_only(hosts) if options.read_only else ())])


def _list(hosts) -> str:
    return ", ".join(hosts[:5]) + (", ..." if len(hosts) > 5 else "")


def _nth(i: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(i, f"{i}th")
