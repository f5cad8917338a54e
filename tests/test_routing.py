"""Provider `hosts`: checked on load, filled in for every bundled provider, shown by inspect,
guarded at register; the header that carries a credential; and the router, by a table."""

import json
import re
from pathlib import Path

import pytest
from clitools import run
from hypothesis import example, given
from hypothesis import strategies as st

from authsome.errors import ConfigError
from authsome.main import exit_code_for
from authsome.providers.hosts import overlap
from authsome.providers.model import credential_header
from authsome.providers.registry import Registry
from authsome.providers.routing import Ambiguous, route
from authsome.providers.schema import parse_provider
from authsome.providers.tools import is_host

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = Registry(ROOT / "providers", ROOT / "no-such-folder")

GITHUB = ("github", ("api.github.com", "uploads.github.com"))
GOOGLE = ("google", ("*.googleapis.com",))
GEMINI = ("gemini", ("generativelanguage.googleapis.com",))
DEEP = ("deep", ("*.eu.googleapis.com",))
GHE = ("ghe", ("git.example.com:8443",))
ANY_PORT_443 = ("plain443", ("git.example.com:443",))

ROUTES = [
    # host, port, candidates, expected
    ("api.github.com", 443, [GITHUB, GOOGLE], "github"),  # exact
    ("uploads.github.com", 443, [GITHUB], "github"),
    ("API.GitHub.COM", 443, [GITHUB], "github"),  # case
    ("api.github.com.", 443, [GITHUB], "github"),  # a fully qualified name
    ("github.com", 443, [GITHUB], None),  # no match: not a listed host
    ("evil-api.github.com", 443, [GITHUB], None),
    ("api.github.com", 8443, [GITHUB], None),  # no port in the pattern: 443 only
    ("api.github.com", 80, [GITHUB], None),
    ("www.googleapis.com", 443, [GOOGLE, GITHUB], "google"),  # wildcard
    ("a.b.googleapis.com", 443, [GOOGLE], "google"),  # any depth
    ("googleapis.com", 443, [GOOGLE], None),  # never the bare domain
    ("xgoogleapis.com", 443, [GOOGLE], None),
    ("generativelanguage.googleapis.com", 443, [GOOGLE, GEMINI], "gemini"),  # exact beats *.
    ("generativelanguage.googleapis.com", 443, [GEMINI, GOOGLE], "gemini"),  # in any order
    ("x.eu.googleapis.com", 443, [GOOGLE, DEEP], "deep"),  # the longer wildcard
    ("a.cd.com", 443, [("w", ("*.cd.com",)), ("e", ("a.cd.com",))], "e"),  # as long: exact
    ("git.example.com", 8443, [GHE], "ghe"),  # a port in the pattern must match
    ("git.example.com", 443, [GHE], None),
    ("git.example.com", 443, [ANY_PORT_443], "plain443"),
    ("api.github.com", 443, [], None),
]


@pytest.mark.parametrize("host,port,candidates,expected", ROUTES)
def test_route(host, port, candidates, expected):
    assert route(host, port, candidates) == expected


@pytest.mark.parametrize(
    "host,candidates",
    [
        ("api.github.com", [GITHUB, ("github:work", ("api.github.com",))]),
        ("www.googleapis.com", [GOOGLE, ("google:work", ("*.googleapis.com",))]),
        ("git.example.com", [("a", ("git.example.com",)), ("b", ("git.example.com:443",))]),
    ],
)
def test_two_connections_for_one_host_are_an_error_naming_both(host, candidates):
    with pytest.raises(Ambiguous) as caught:
        route(host, 443, candidates)
    first, second = candidates[0][0], candidates[1][0]
    assert first in str(caught.value) and second in str(caught.value)
    assert exit_code_for(caught.value) == 2  # a usage error


def test_the_same_ref_twice_is_not_ambiguous():
    assert route("api.github.com", 443, [GITHUB, GITHUB]) == "github"


def test_every_bundled_provider_lists_its_hosts_and_none_is_ambiguous():
    providers = BUNDLED.all()
    assert len(providers) == 39
    candidates = [(p.name, p.hosts) for p in providers]
    for p in providers:
        assert p.hosts, f"{p.name} lists no hosts"
        for host in p.hosts:
            if not host.startswith("*."):
                assert route(host, 443, candidates) == p.name, host
    assert BUNDLED.get("github").hosts == ("api.github.com", "uploads.github.com")
    assert BUNDLED.get("openai").hosts == ("api.openai.com",)
    assert BUNDLED.get("anthropic").hosts == ("api.anthropic.com",)


def _definition(hosts) -> dict:
    return {"name": "acme", "auth_type": "api_key", "hosts": hosts}


@pytest.mark.parametrize(
    "hosts,problem",
    [
        ("api.acme.com", "must be a list of strings"),
        (["API.acme.com"], "not a lower-case host name"),
        (["https://api.acme.com"], "not a lower-case host name"),
        (["api.acme.com/v1"], "not a lower-case host name"),
        (["*"], "not a lower-case host name"),
        (["api.*.com"], "not a lower-case host name"),
        (["**.acme.com"], "not a lower-case host name"),
        (["api.acme.com\n"], "not a lower-case host name"),
        (["*.com"], "a wildcard over a whole top-level domain"),
        (["api.acme.com:70000"], "port is not between 1 and 65535"),
        (["api.acme.com:0"], "port is not between 1 and 65535"),
    ],
)
def test_a_bad_host_names_the_file_and_the_field(hosts, problem):
    with pytest.raises(ConfigError) as caught:
        parse_provider(_definition(hosts), "/x/acme.json")
    assert str(caught.value).startswith("/x/acme.json: field 'hosts' ")
    assert problem in str(caught.value)


def test_good_hosts_load():
    p = parse_provider(_definition(["api.acme.com", "*.acme.io", "h.acme.com:8443"]), "f")
    assert p.hosts == ("api.acme.com", "*.acme.io", "h.acme.com:8443")
    assert parse_provider(_definition(None), "f").hosts == ()


@pytest.mark.parametrize(
    "a,b,expected",
    [
        ("api.x.com", "api.x.com", True),
        ("api.x.com", "api.x.com:443", True),
        ("api.x.com", "api.x.com:8443", False),
        ("*.x.com", "api.x.com", True),
        ("api.x.com", "*.x.com", True),
        ("*.x.com", "x.com", False),
        ("*.x.com", "*.a.x.com", True),
        ("*.x.com", "*.y.com", False),
        ("api.x.com", "api.y.com", False),
    ],
)
def test_overlap(a, b, expected):
    assert overlap(a, b) is expected


def _provider(name, **over):
    data = {"name": name, "auth_type": "api_key", "api_key": over.pop("api_key", {})}
    return parse_provider({**data, **over}, "f")


def test_the_header_for_each_kind_of_credential():
    assert credential_header(BUNDLED.get("github"), {"access_token": "gho_x"}) == (
        "Authorization",
        "Bearer gho_x",
    )
    assert credential_header(BUNDLED.get("openai"), {"api_key": "sk-1"}) == (
        "Authorization",
        "Bearer sk-1",
    )
    assert credential_header(BUNDLED.get("anthropic"), {"api_key": "k"}) == ("x-api-key", "k")
    assert credential_header(BUNDLED.get("postmark"), {"api_key": "k"}) == (
        "X-Postmark-Server-Token",
        "k",
    )
    handwritten = _provider("a", api_key={"header_prefix": "Bearer"})
    assert credential_header(handwritten, {"api_key": "k"}) == ("Authorization", "Bearer k")
    token = _provider("b", api_key={"header_name": "X-Auth", "header_prefix": "Token "})
    assert credential_header(token, {"api_key": "k"}) == ("X-Auth", "Token k")
    assert credential_header(_provider("c"), {"api_key": "k"}) == ("Authorization", "Bearer k")


def test_inspect_shows_the_hosts(file_env):
    out = run(["inspect", "github"], file_env)
    assert out.returncode == 0, out.stderr
    assert "  hosts: api.github.com, uploads.github.com\n" in out.stdout
    doc = json.loads(run(["inspect", "github", "--json"], file_env).stdout)
    assert doc["hosts"] == ["api.github.com", "uploads.github.com"]


@pytest.mark.parametrize(
    "name,hosts,owner",
    [
        ("acme", ["api.acme.com", "api.openai.com"], "openai"),
        ("acme", ["*.github.com"], "github"),
        ("acme", ["storage.googleapis.com"], "google"),
        ("openai", ["api.openai.com", "api.anthropic.com"], "anthropic"),  # an override too
    ],
)
def test_register_refuses_a_bundled_providers_host_unless_forced(
    file_env, tmp_path, authsome_home, name, hosts, owner
):
    path = tmp_path / f"{name}.json"
    definition = {"name": name, "hosts": hosts}
    if name == "acme":
        definition |= {"auth_type": "api_key", "export": {"env": {"api_key": "ACME_KEY"}}}
    path.write_text(json.dumps(definition))
    out = run(["register", str(path)], file_env)
    assert out.returncode == 9 and out.stdout == ""
    assert f"belongs to the bundled provider {owner}" in out.stderr
    assert "--force" in out.stderr and len(out.stderr.splitlines()) == 1
    assert not (authsome_home / "providers" / f"{name}.json").exists()
    out = run(["register", "--force", str(path)], file_env)
    assert out.returncode == 0, out.stderr
    shown = json.loads(run(["inspect", name, "--json"], file_env).stdout)
    assert shown["hosts"] == hosts


def test_an_override_may_keep_its_hosts_and_add_some_with_force(file_env, tmp_path):
    path = tmp_path / "github.json"
    path.write_text(
        json.dumps({"name": "github", "hosts": ["uploads.github.com", "api.github.com"]})
    )
    out = run(["register", str(path)], file_env)  # the same hosts: nothing moves
    assert out.returncode == 0, out.stderr
    hosts = ["api.github.com", "uploads.github.com", "api.ghe.example.com"]
    path.write_text(json.dumps({"name": "github", "hosts": hosts}))
    out = run(["register", str(path)], file_env)
    assert out.returncode == 9 and "changes hosts of the bundled provider github" in out.stderr
    out = run(["register", "--force", str(path)], file_env)
    assert out.returncode == 0, out.stderr
    assert json.loads(run(["inspect", "github", "--json"], file_env).stdout)["hosts"] == hosts


HOST_PATTERN = re.compile(
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?"
)


@given(st.text(alphabet="ab09-.:Z_\n\u0663 ", max_size=12))
@example("a.b:443")
@example("a.b:443\n")
@example("a-.b")
@example("a:\u0663")
def test_is_host_is_the_host_regex(text):
    """providers/tools.py checks hosts by hand (no compile on each `env`): the regex is the spec."""
    assert is_host(text) == bool(HOST_PATTERN.fullmatch(text))
