"""RFC 8707: a login to a resource-bound server names the resource on every request.

A server with resource indicators (node-oidc-provider, as MCP servers run) binds a grant to
the resource its authorization named; a refresh that names another, or one the grant never
named, is refused with invalid_target, and the login is lost."""

import time

from clitools import run


def _resource_bound(server, install_provider, flow):
    server.state.resource_indicators = True
    server.state.access_expires_in = 2
    resource = f"{server.url}/mcp"
    install_provider(server.provider(flow=flow, oauth={"resource": resource}))
    return resource


def test_a_device_login_to_a_resource_bound_server_survives_its_first_refresh(
    oauth_server, install_provider, file_env
):
    resource = _resource_bound(oauth_server, install_provider, "device_code")
    out = run(["login", "testsrv"], file_env)
    assert out.returncode == 0, out.stderr
    time.sleep(1.2)  # half the 2-second life: due for refresh
    out = run(["token", "testsrv"], file_env)
    assert out.returncode == 0, out.stderr
    assert oauth_server.state.count("/token", "refresh_token") == 1
    assert oauth_server.state.audience[out.stdout.strip()] == resource
    starts = [f for p, f in oauth_server.state.requests if p == "/device/code"]
    assert starts[-1].get("resource") == resource  # the device authorization request names it
    polls = [f for p, f in oauth_server.state.requests if p == "/token"]
    assert all(f.get("resource") == resource for f in polls)  # and so does every token request
