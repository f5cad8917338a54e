"""`authsome kube-credential` as kubectl's exec credential plugin, with the real kubectl against
a stub API server that checks the bearer token (tests/tlsservers.py), and `setup-kube`."""

import json
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from clitools import AUTHSOME_BIN, login_due, run
from realparts import require
from tlsservers import KubeApiServer

pytestmark = pytest.mark.real
V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"


@pytest.fixture
def apiserver(tmp_path, testsrv):
    """The stub API server, accepting exactly the access tokens the OAuth server issued."""
    server = KubeApiServer(tmp_path, lambda t: t in testsrv.state.access)
    yield server
    server.stop()


@pytest.fixture
def kube_env(file_env, tmp_path, install_provider, testsrv):
    require("kubectl")
    install_provider(testsrv.provider(kubernetes={"token": "access_token"}))
    return {**file_env, "KUBECONFIG": str(tmp_path / "kubeconfig")}


def _kubeconfig(env, apiserver, exec_section):
    """The kubeconfig of the docs: a cluster, and a user whose token comes from exec."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "test",
                "cluster": {"server": apiserver.url, "certificate-authority": str(apiserver.ca)},
            }
        ],
        "users": [{"name": "authsome-testsrv", "user": {"exec": exec_section}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "authsome-testsrv"}}],
        "current-context": "test",
    }
    with open(env["KUBECONFIG"], "w") as f:
        json.dump(config, f)


def _kubectl_minor() -> int:
    out = subprocess.run(
        [require("kubectl"), "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return int(json.loads(out.stdout)["clientVersion"]["minor"].rstrip("+"))


def _documented_exec(command=AUTHSOME_BIN, args=("kube-credential", "testsrv")):
    """The exec section as docs/helpers.md gives it for the installed kubectl:
    v1 from kubectl 1.22; v1beta1, without interactiveMode, before (Debian 12 ships 1.20).
    provideClusterInfo shows the plugin the server, so that it can refuse plain http."""
    section = {"command": command, "args": list(args)}
    if _kubectl_minor() < 22:
        return {"apiVersion": V1BETA1, **section}
    return {"apiVersion": V1, **section, "interactiveMode": "Never", "provideClusterInfo": True}


def _kubectl(env, *args):
    return subprocess.run(
        [require("kubectl"), *args], env=env, capture_output=True, text=True, timeout=60
    )


def _login(testsrv, env, expires_in, refreshed=3600):
    testsrv.state.access_expires_in = expires_in
    testsrv.state.refreshed_expires_in = refreshed
    out = run(["login", "testsrv"], env)
    assert out.returncode == 0, out.stderr


def test_kubectl_gets_a_refreshed_token_from_the_documented_exec_section(
    kube_env, apiserver, testsrv
):
    login_due(testsrv, kube_env)
    before = set(testsrv.state.access)
    _kubeconfig(kube_env, apiserver, _documented_exec())
    out = _kubectl(kube_env, "get", "--raw", "/version")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["gitVersion"] == "v1.32.0-authsome-stub"
    assert testsrv.state.count("/token", "refresh_token") == 1
    refreshed = testsrv.state.access - before
    assert apiserver.seen and set(apiserver.seen) <= refreshed


def test_setup_kube_writes_a_user_kubectl_uses(kube_env, apiserver, testsrv):
    _login(testsrv, kube_env, expires_in=3600)
    _kubeconfig(kube_env, apiserver, _documented_exec())  # the cluster; the user is replaced
    out = run(
        ["setup-kube", "testsrv", "--cluster", "test", "--user", "authsome-testsrv"], kube_env
    )
    assert out.returncode == 0, out.stderr
    view = json.loads(_kubectl(kube_env, "config", "view", "-o", "json").stdout)
    exec_section = view["users"][0]["user"]["exec"]
    assert exec_section["command"] == AUTHSOME_BIN
    assert exec_section["args"] == ["kube-credential", "testsrv"]
    assert exec_section["apiVersion"] == V1BETA1  # what every kubectl since 1.11 reads
    out = _kubectl(kube_env, "get", "--raw", "/version")
    assert out.returncode == 0, out.stderr
    assert set(apiserver.seen) == {run(["token", "testsrv"], kube_env).stdout.strip()}


def test_setup_kube_in_a_fresh_kubeconfig_makes_its_context_current(kube_env, apiserver, testsrv):
    _login(testsrv, kube_env, expires_in=3600)
    # A kubeconfig with only the cluster, as `kubectl config set-cluster` leaves it:
    # current-context "", so plain kubectl would go to localhost:8080.
    ca = f"--certificate-authority={apiserver.ca}"
    assert _kubectl(kube_env, "config", "set-cluster", "test", f"--server={apiserver.url}", ca)
    out = run(["setup-kube", "testsrv", "--cluster", "test"], kube_env)
    assert out.returncode == 0, out.stderr
    assert "It is now the current context (there was none)." in out.stderr
    out = _kubectl(kube_env, "get", "--raw", "/version")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["gitVersion"] == "v1.32.0-authsome-stub"


def test_setup_kube_leaves_the_users_current_context_and_says_how_to_switch(kube_env, apiserver):
    _kubeconfig(kube_env, apiserver, _documented_exec())
    _kubectl(kube_env, "config", "set-context", "mine", "--cluster=test")
    _kubectl(kube_env, "config", "use-context", "mine")
    out = run(["setup-kube", "testsrv", "--cluster", "test"], kube_env)
    assert out.returncode == 0, out.stderr
    assert "current context is still mine; switch: kubectl config use-context test" in out.stderr
    assert _kubectl(kube_env, "config", "current-context").stdout.strip() == "mine"


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - our own proxy
        return answer.status


@pytest.mark.slow  # ten seconds or more: its module starts early (conftest.py)
def test_kubectl_keeps_the_token_until_its_expiration_timestamp(
    kube_env, apiserver, testsrv, tmp_path
):
    """One kubectl process (kubectl proxy) calls the plugin once while the token is good, and
    again once expirationTimestamp (when authsome would refresh) has passed."""
    _login(testsrv, kube_env, expires_in=20)  # due, so asked again, after 10 s
    log = tmp_path / "plugin-calls"
    # The documented section, with the command wrapped to count its calls.
    counted = ["-c", f'echo call >> {log}; exec "$0" "$@"', AUTHSOME_BIN, "kube-credential"]
    _kubeconfig(kube_env, apiserver, _documented_exec("/bin/sh", [*counted, "testsrv"]))
    proxy = subprocess.Popen(
        [require("kubectl"), "proxy", "--port=0"],  # it says which port it took
        env=kube_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        serving = proxy.stdout.readline()
        assert "Starting to serve on 127.0.0.1:" in serving, serving
        port = int(serving.rsplit(":", 1)[1])
        started = time.time()
        assert [_get(f"http://127.0.0.1:{port}/version") for _ in range(3)] == [200] * 3
        assert time.time() - started < 9, "too slow to test the cache"
        assert log.read_text().count("call") == 1 and len(set(apiserver.seen)) == 1
        time.sleep(max(0.0, started + 11 - time.time()))
        assert [_get(f"http://127.0.0.1:{port}/version") for _ in range(2)] == [200] * 2
    finally:
        proxy.terminate()
        proxy.wait(10)
    assert log.read_text().count("call") == 2
    assert testsrv.state.count("/token", "refresh_token") == 1
    assert len(set(apiserver.seen)) == 2 and apiserver.seen[-1] == apiserver.seen[-2]


def _plugin(env, exec_info=None, ref="testsrv"):
    env = {k: v for k, v in env.items() if k != "KUBERNETES_EXEC_INFO"}
    if exec_info is not None:
        env["KUBERNETES_EXEC_INFO"] = json.dumps(exec_info)
    return run(["kube-credential", ref], env)


@pytest.mark.parametrize(
    "exec_info,version",
    [
        ({"apiVersion": V1, "kind": "ExecCredential", "spec": {"interactive": False}}, V1),
        ({"apiVersion": V1BETA1, "kind": "ExecCredential", "spec": {}}, V1BETA1),
        (None, V1BETA1),
    ],
)
def test_the_plugin_answers_in_the_api_version_kubectl_asked_for(
    kube_env, testsrv, exec_info, version
):
    _login(testsrv, kube_env, expires_in=3600)
    out = _plugin(kube_env, exec_info)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["apiVersion"] == version and doc["kind"] == "ExecCredential"
    assert doc["status"]["token"] == run(["token", "testsrv"], kube_env).stdout.strip()
    stamp = doc["status"]["expirationTimestamp"]
    assert stamp.endswith("Z")
    when = time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert 0 < when - time.time() <= 3600


def test_the_plugin_says_on_stderr_when_a_login_is_needed(kube_env):
    out = _plugin(kube_env, {"apiVersion": V1, "kind": "ExecCredential", "spec": {}})
    assert out.returncode == 3 and out.stdout == ""
    assert "authsome login testsrv" in out.stderr and out.stderr.count("\n") == 1


def test_the_plugin_refuses_an_api_version_it_does_not_speak(kube_env, testsrv):
    _login(testsrv, kube_env, expires_in=3600)
    out = _plugin(kube_env, {"apiVersion": "client.authentication.k8s.io/v1alpha1"})
    assert out.returncode == 2 and out.stdout == ""
    assert "v1alpha1" in out.stderr


def test_an_id_token_cluster_without_an_id_token_says_how_to_get_one(
    kube_env, testsrv, install_provider
):
    install_provider(testsrv.provider(kubernetes={"token": "id_token"}))
    _login(testsrv, kube_env, expires_in=3600)
    out = _plugin(kube_env)
    assert out.returncode == 7 and out.stdout == ""
    assert "no ID token" in out.stderr and "openid" in out.stderr


class _PlainApiServer(ThreadingHTTPServer):
    """An API server on plain http: it records every Authorization header it is sent."""

    def __init__(self):
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                seen.append(self.headers.get("Authorization"))
                body = json.dumps({"gitVersion": "v1.32.0-plain"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_kubectl_itself_sends_no_credential_over_plain_http(kube_env, testsrv):
    """The rule the plugin follows: client-go applies a kubeconfig user's credentials only over
    TLS, loopback included (kubernetes/kubectl#744), so kubectl never runs the plugin for an
    http:// server. Not a regression test: it shows that refusing loopback http too breaks
    nothing kubectl does."""
    _login(testsrv, kube_env, expires_in=3600)
    server = _PlainApiServer()
    try:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "test", "cluster": {"server": server.url}}],
            "users": [{"name": "authsome-testsrv", "user": {"exec": _documented_exec()}}],
            "contexts": [
                {"name": "test", "context": {"cluster": "test", "user": "authsome-testsrv"}}
            ],
            "current-context": "test",
        }
        with open(kube_env["KUBECONFIG"], "w") as f:
            json.dump(config, f)
        _kubectl(kube_env, "get", "--raw", "/version")
        assert server.seen and not any(server.seen)  # asked, without an Authorization header
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("server", ["http://127.0.0.1:8080", "HTTP://api.example.com"])
def test_the_plugin_refuses_a_plain_http_server_kubectl_names(kube_env, testsrv, server):
    """What a client that runs the plugin for an http:// server would get: no token."""
    _login(testsrv, kube_env, expires_in=3600)
    spec = {"interactive": False, "cluster": {"server": server}}
    out = _plugin(kube_env, {"apiVersion": V1, "kind": "ExecCredential", "spec": spec})
    assert out.returncode == 9 and out.stdout == ""
    assert "https://" in out.stderr and out.stderr.count("\n") == 1
