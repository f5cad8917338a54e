"""Discovery as the MCP authorization spec (2025-11-25) orders it: the 401's metadata first,
then RFC 9728's well-known URLs; an issuer with a path tried under both metadata names with
the path inserted; the scopes from the 401's `scope`, else the resource's `scopes_supported`;
the client's identity: a client ID given, a Client ID Metadata Document, then DCR."""

import asyncio
import json
import sys

import pytest
from clitools import run

from authsome.factory import Context
from authsome.oauth import discovery
from authsome.oauth.resource import discover

pytest.importorskip("mcp")
from mcp_server import MCPTestServer, add_through  # noqa: E402

PRM = {"resource": "https://mcp.example/mcp", "authorization_servers": ["https://as.example"]}


class Fake:
    """A fake Http (unit test): metadata by URL, a challenge, and the order it was asked."""

    def __init__(self, challenge, documents):
        self.header, self.documents, self.asked = challenge, documents, []

    def challenge(self, url):
        self.asked.append(url)
        return self.header

    def get_json(self, url):
        self.asked.append(url)
        return (200, self.documents[url]) if url in self.documents else (404, {})


def test_the_challenges_metadata_comes_before_the_well_known_urls():
    named = "https://mcp.example/meta/prm"
    http = Fake(
        f'Bearer error="invalid_token", resource_metadata="{named}", scope="files:read"',
        {named: {**PRM, "scopes_supported": ["all"]}},
    )
    assert discover(http, "https://mcp.example/mcp") == ("https://as.example", ["files:read"])
    assert http.asked == ["https://mcp.example/mcp", named]


def test_without_scope_in_the_challenge_the_resource_metadata_offers_them():
    well_known = "https://mcp.example/.well-known/oauth-protected-resource/mcp"
    http = Fake(None, {well_known: {**PRM, "scopes_supported": ["mcp:tools", "mcp:read"]}})
    assert discover(http, "https://mcp.example/mcp") == (
        "https://as.example",
        ["mcp:tools", "mcp:read"],
    )


def test_an_issuer_with_a_path_has_openids_name_inserted_too():
    assert discovery.metadata_urls("https://as.example/tenant") == [
        "https://as.example/.well-known/oauth-authorization-server/tenant",
        "https://as.example/.well-known/openid-configuration/tenant",
        "https://as.example/tenant/.well-known/openid-configuration",
    ]
    assert discovery.metadata_urls("https://as.example") == [
        "https://as.example/.well-known/oauth-authorization-server",
        "https://as.example/.well-known/openid-configuration",
    ]


def test_openid_metadata_with_the_path_inserted_is_found(oauth_server, file_env):
    oauth_server.state.metadata_paths = {"/.well-known/openid-configuration/tenant"}
    oauth_server.state.metadata_issuer = f"{oauth_server.url}/tenant"
    found = discovery.fetch(Context(file_env).http, f"{oauth_server.url}/tenant")
    assert found["issuer"] == f"{oauth_server.url}/tenant"


@pytest.fixture
def scoped_server(oauth_server):
    server = MCPTestServer(oauth_server, required_scopes=["admin"])
    yield server
    server.stop()


def test_a_login_asks_for_the_scopes_the_resource_names(scoped_server, oauth_server, file_env):
    out = run(["register", "--resource", scoped_server.url, "--name", "sdk"], file_env)
    assert out.returncode == 0, out.stderr
    assert json.loads(run(["inspect", "sdk", "--json"], file_env).stdout)["oauth"]["scopes"] == [
        "admin"
    ]
    out = run(["login", "sdk"], file_env)
    assert out.returncode == 0, out.stderr
    asked = [f for p, f in oauth_server.state.requests if p == "/device/code"]
    assert asked[-1]["scope"] == "admin"
    assert asyncio.run(add_through(file_env, "sdk")) == "3"  # no 403: the login has the scope


def _desktop(env, tmp_path):
    """A display and a $BROWSER that follows the login's redirects, as a person who approves."""
    script = tmp_path / "browser.py"
    script.write_text(
        "import sys, urllib.request\n"
        "print(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode(), file=sys.stderr)\n"
    )
    return {**env, "DISPLAY": ":99", "BROWSER": f"{sys.executable} {script} %s"}


@pytest.fixture
def sdk_server(oauth_server, file_env):
    server = MCPTestServer(oauth_server)
    out = run(["register", "--resource", server.url, "--name", "sdk"], file_env)
    assert out.returncode == 0, out.stderr
    yield server
    server.stop()


def _document(oauth_server) -> str:
    url = f"{oauth_server.url}/client.json"
    oauth_server.state.client_document = {
        "client_id": url,
        "client_name": "authsome",
        "redirect_uris": ["http://127.0.0.1/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
    }
    return url


def test_a_client_id_metadata_document_comes_before_registration(
    oauth_server, file_env, tmp_path, sdk_server
):
    oauth_server.state.metadata_override = {"client_id_metadata_document_supported": True}
    url = _document(oauth_server)
    env = {**_desktop(file_env, tmp_path), "AUTHSOME_CLIENT_METADATA_URL": url}
    assert run(["inspect", "sdk", "--refresh"], env).returncode == 0  # sees the new metadata
    out = run(["login", "sdk"], env)
    assert out.returncode == 0, out.stderr
    paths = [p for p, _ in oauth_server.state.requests]
    assert "/register" not in paths and "/client.json" in paths  # the server read the document
    authorize = [q for p, q in oauth_server.state.requests if p == "/authorize"]
    assert authorize[-1]["client_id"] == url
    assert asyncio.run(add_through(env, "sdk")) == "3"


def test_without_the_servers_support_the_document_is_not_used(
    oauth_server, file_env, tmp_path, sdk_server
):
    env = {**_desktop(file_env, tmp_path), "AUTHSOME_CLIENT_METADATA_URL": _document(oauth_server)}
    out = run(["login", "sdk"], env)
    assert out.returncode == 0, out.stderr
    assert [p for p, _ in oauth_server.state.requests].count("/register") == 1


def test_a_client_id_given_comes_before_both(oauth_server, file_env, tmp_path, sdk_server):
    oauth_server.state.metadata_override = {"client_id_metadata_document_supported": True}
    env = {**_desktop(file_env, tmp_path), "AUTHSOME_CLIENT_METADATA_URL": _document(oauth_server)}
    run(["inspect", "sdk", "--refresh"], env)
    out = run(["login", "sdk", "--client-id", "test-client"], env)
    assert out.returncode == 0, out.stderr
    assert "/register" not in [p for p, _ in oauth_server.state.requests]
    assert [q for p, q in oauth_server.state.requests if p == "/authorize"][-1]["client_id"] == (
        "test-client"
    )


def test_a_client_id_in_the_provider_file_comes_before_registration(
    oauth_server, file_env, tmp_path, install_provider, authsome_home
):
    # A dcr_pkce provider that names a pre-registered client: the spec's first choice.
    install_provider(
        {
            "name": "pre",
            "auth_type": "oauth2",
            "flow": "dcr_pkce",
            "oauth": {"issuer": oauth_server.url, "client_id": "test-client"},
        }
    )
    out = run(["login", "pre"], _desktop(file_env, tmp_path))
    assert out.returncode == 0, out.stderr
    assert "/register" not in [p for p, _ in oauth_server.state.requests]


@pytest.mark.parametrize("methods", [["plain"], None])
def test_no_s256_in_the_metadata_is_no_login(oauth_server, file_env, tmp_path, sdk_server, methods):
    # The MCP spec: S256 listed, or no login (absent means no PKCE at all).
    oauth_server.state.metadata_override = {"code_challenge_methods_supported": methods}
    env = _desktop(file_env, tmp_path)
    assert run(["inspect", "sdk", "--refresh"], env).returncode == 0
    out = run(["login", "sdk", "--flow", "dcr_pkce"], env)
    assert out.returncode == 7 and "does not list S256" in out.stderr
    paths = [p for p, _ in oauth_server.state.requests]
    assert "/authorize" not in paths and "/register" not in paths
