"""run --proxy's pure parts by table: which provider owns a host, how the placeholder becomes
the credential, the run's CA; and that no other command imports the proxy."""

import ast
import base64
import subprocess
import sys
from pathlib import Path

import pytest

from authsome.proxy.headers import end_to_end, refusal, with_credential
from authsome.proxy.router import Ambiguous, claims_host, route

ROOT = Path(__file__).resolve().parents[1]
GH = ("github", ("api.github.com", "uploads.github.com"))
WILD = ("corp", ("*.corp.example",))
LOCAL = ("dev", ("127.0.0.1:8443",))


@pytest.mark.parametrize(
    "host,port,candidates,expected",
    [
        ("api.github.com", 443, [GH], "github"),
        ("API.GitHub.com.", 443, [GH], "github"),
        ("api.github.com", 8443, [GH], None),  # no port named: 443 only
        ("github.com", 443, [GH], None),
        ("a.corp.example", 443, [WILD], "corp"),
        ("a.b.corp.example", 443, [WILD], "corp"),
        ("corp.example", 443, [WILD], None),  # a wildcard is not its apex
        ("evilcorp.example", 443, [WILD], None),
        ("127.0.0.1", 8443, [LOCAL], "dev"),
        ("127.0.0.1", 443, [LOCAL], None),
        ("x.corp.example", 443, [WILD, ("x", ("x.corp.example",))], "x"),  # exact beats *.
        ("api.github.com", 443, [], None),
    ],
)
def test_route(host, port, candidates, expected):
    assert route(host, port, candidates) == expected


def test_two_providers_claiming_one_host_is_an_error():
    with pytest.raises(Ambiguous):
        route("api.github.com", 443, [GH, ("other", ("api.github.com",))])


def test_plain_http_refusal_covers_every_port_of_a_host():
    assert claims_host("127.0.0.1", [LOCAL])
    assert claims_host("a.corp.example", [WILD])
    assert not claims_host("example.org", [GH, WILD])


P = "authsome-placeholder-github"
CRED = ("Authorization", "Bearer gho_real", "gho_real")


def _basic(text):
    return b"Basic " + base64.b64encode(text.encode())


@pytest.mark.parametrize(
    "headers,expected",
    [
        ([], [(b"Authorization", b"Bearer gho_real")]),
        ([(b"authorization", f"Bearer {P}".encode())], [(b"authorization", b"Bearer gho_real")]),
        ([(b"authorization", f"token {P}".encode())], [(b"authorization", b"token gho_real")]),
        ([(b"authorization", P.encode())], [(b"authorization", b"Bearer gho_real")]),
        ([(b"authorization", _basic(f"x:{P}"))], [(b"authorization", _basic("x:gho_real"))]),
        ([(b"authorization", b"Bearer own")], [(b"authorization", b"Bearer own")]),  # not ours
        (
            [(b"proxy-authorization", b"Basic c2VjcmV0"), (b"accept", b"*/*")],
            [(b"accept", b"*/*"), (b"Authorization", b"Bearer gho_real")],
        ),
    ],
)
def test_the_placeholder_becomes_the_credential(headers, expected):
    assert with_credential(headers, P, CRED) == expected


def test_an_api_key_header_is_added_or_swapped():
    cred = ("x-api-key", "sk-real", "sk-real")
    assert with_credential([], P, cred) == [(b"x-api-key", b"sk-real")]
    assert with_credential([(b"x-api-key", P.encode())], P, cred) == [(b"x-api-key", b"sk-real")]


class _Request:
    def __init__(self, target: bytes, headers):
        self.target, self.headers = target, headers


TUNNEL = ("api.x.com", 443)


@pytest.mark.parametrize(
    "target,headers,status",
    [
        (b"/v1", [(b"host", b"api.x.com")], None),
        (b"/v1", [(b"host", b"API.X.com:443")], None),
        (b"/v1", [(b"host", b"api.x.com.")], None),
        (b"https://api.x.com/v1", [(b"host", b"api.x.com")], None),
        (
            b"/v1",
            [
                (b"host", b"api.x.com"),
                (b"content-length", b"3"),
                (b"transfer-encoding", b"chunked"),
            ],
            400,
        ),  # fmt: skip
        (b"/v1", [(b"host", b"a"), (b"host", b"api.x.com")], 400),
        (b"/v1", [(b"host", b"evil.example")], 421),
        (b"/v1", [(b"host", b"api.x.com:8443")], 421),
        (b"/v1", [(b"host", b"api.x.com:junk")], 421),
        (b"https://evil.example/v1", [(b"host", b"api.x.com")], 421),
        (b"http://api.x.com/v1", [(b"host", b"api.x.com")], 421),  # port 80, not 443
        (b"evil.example:443", [(b"host", b"api.x.com")], 421),  # a CONNECT in the tunnel
    ],
)
def test_what_a_tunnel_refuses(target, headers, status):
    found = refusal(_Request(target, headers), TUNNEL)
    assert (found[0] if found else None) == status


@pytest.mark.parametrize(
    "headers,expected",
    [
        ([(b"connection", b"close, x-a"), (b"x-a", b"1"), (b"x-b", b"2")], [(b"x-b", b"2")]),
        (
            [(b"keep-alive", b"5"), (b"te", b"trailers"), (b"trailer", b"x"), (b"proxy-x", b"1")],
            [],
        ),  # fmt: skip
        (
            [(b"connection", b"content-length, host"), (b"host", b"h"), (b"content-length", b"1")],
            [(b"host", b"h"), (b"content-length", b"1")],
        ),  # fmt: skip
        (
            [(b"connection", b"Upgrade"), (b"upgrade", b"websocket")],
            [(b"upgrade", b"websocket"), (b"connection", b"upgrade")],
        ),  # fmt: skip
    ],
)
def test_hop_by_hop_headers_stay_behind(headers, expected):
    assert end_to_end(headers) == expected


def test_the_run_ca_may_sign_only_the_intercepted_hosts():
    from cryptography import x509

    from authsome.proxy.authority import Authority

    ca = Authority(["api.github.com", "*.corp.example", "127.0.0.1:8443"]).certificate
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical and basic.value.ca and basic.value.path_length == 0
    nc = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert nc.critical
    permitted = {str(getattr(n, "value", n)) for n in nc.value.permitted_subtrees}
    assert permitted == {"api.github.com", "corp.example", "127.0.0.1/32"}


@pytest.mark.slow
def test_only_run_proxy_imports_the_proxy_package():
    importers = set()
    for path in (ROOT / "authsome").rglob("*.py"):
        if "proxy" in path.relative_to(ROOT / "authsome").parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += (
                [a.name for a in getattr(node, "names", [])] if isinstance(node, ast.Import) else []
            )
            if any(n.startswith("authsome.proxy") for n in names):
                importers.add(path.name)
    assert importers == {"proxyrun.py", "requestrules.py"}  # run --proxy and its rules


@pytest.mark.parametrize(
    "args",
    [["token", "openai"], ["env", "openai"], ["run", "openai", "--", "true"], ["--help"]],
)
def test_other_commands_import_nothing_of_the_proxy(env, args):
    code = (
        "import os, sys\nfrom authsome.main import main\n"
        f"sys.argv = ['authsome', *{args!r}]\n"
        "os.execvpe = lambda *a: None\n"  # `run` without --proxy: stop at its exec
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('authsome.proxy', 'h11',"
        " 'authsome.services.proxyrun'))), file=sys.stderr)\n"
    )
    e = {**env, "OPENAI_API_KEY": "sk-0123456789abcdefghijklmn"}
    out = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True)
    assert ast.literal_eval(out.stderr.strip().splitlines()[-1]) == [], out.stderr


def test_tab_imports_nothing_of_the_proxy(env):
    code = (
        "import sys\nfrom authsome.main import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('authsome.proxy', 'h11'))),"
        " file=sys.stderr)\n"
    )
    e = {**env, "_AUTHSOME_COMPLETE": "bash_complete", "COMP_WORDS": "authsome run --proxy ",
         "COMP_CWORD": "3"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True)
    assert ast.literal_eval(out.stderr.strip().splitlines()[-1]) == [], out.stderr
