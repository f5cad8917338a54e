"""docker-credential-authsome: docker's credential-helper protocol, fed the stdin docker writes,
through the installed console script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import login_due, run

DOCKER_HELPER = str(Path(sys.executable).parent / "docker-credential-authsome")
NOT_FOUND = "credentials not found in native keychain\n"
REGISTRY = "registry.test:5000"


def _helper(env, action, stdin=""):
    return subprocess.run(
        [DOCKER_HELPER, action], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def docker_env(file_env, install_provider, testsrv):
    docker = {"registries": [REGISTRY, "mirror.test"], "username": "oauth2accesstoken"}
    install_provider(testsrv.provider(docker=docker))
    return file_env


def _login(testsrv, env, expires_in=3600):
    testsrv.state.access_expires_in = expires_in
    testsrv.state.refreshed_expires_in = 3600
    assert run(["login", "testsrv"], env).returncode == 0


@pytest.mark.parametrize("server_url", [REGISTRY, f"https://{REGISTRY}", f"https://{REGISTRY}/v2/"])
def test_get_prints_the_credential_for_a_served_registry(docker_env, testsrv, server_url):
    _login(testsrv, docker_env)
    out = _helper(docker_env, "get", server_url + "\n")
    assert out.returncode == 0, out.stdout
    doc = json.loads(out.stdout)
    token = run(["token", "testsrv"], docker_env).stdout.strip()
    assert doc == {"ServerURL": server_url, "Username": "oauth2accesstoken", "Secret": token}
    assert out.stderr == ""


def test_get_refreshes_a_due_token_first(docker_env, testsrv):
    login_due(testsrv, docker_env)
    before = set(testsrv.state.access)
    out = _helper(docker_env, "get", REGISTRY)
    assert out.returncode == 0, out.stdout
    assert testsrv.state.count("/token", "refresh_token") == 1
    assert {json.loads(out.stdout)["Secret"]} == testsrv.state.access - before


def test_get_for_another_registry_is_not_found(docker_env, testsrv):
    _login(testsrv, docker_env)
    out = _helper(docker_env, "get", "https://index.docker.io/v1/\n")
    assert (out.returncode, out.stdout) == (1, NOT_FOUND)


def test_get_without_a_login_is_not_found_so_docker_pulls_anonymously(docker_env):
    out = _helper(docker_env, "get", REGISTRY)
    assert (out.returncode, out.stdout) == (1, NOT_FOUND)
    assert "authsome login testsrv" in out.stderr  # for a person running it by hand


def test_list_maps_each_served_registry_to_its_username(docker_env, testsrv):
    assert json.loads(_helper(docker_env, "list").stdout) == {}
    _login(testsrv, docker_env)
    out = _helper(docker_env, "list")
    assert out.returncode == 0
    assert json.loads(out.stdout) == {
        REGISTRY: "oauth2accesstoken",
        "mirror.test": "oauth2accesstoken",
    }


@pytest.mark.parametrize(
    "action,stdin,fix",
    [
        (
            "store",
            json.dumps({"ServerURL": REGISTRY, "Username": "u", "Secret": "s3cr3t"}),
            "authsome login",
        ),
        ("erase", REGISTRY + "\n", "authsome logout"),
    ],
)
def test_store_and_erase_refuse_and_point_to_authsome(docker_env, testsrv, action, stdin, fix):
    _login(testsrv, docker_env)
    token = run(["token", "testsrv"], docker_env).stdout
    out = _helper(docker_env, action, stdin)
    assert out.returncode == 2
    assert out.stdout.count("\n") == 1 and fix in out.stdout
    assert "s3cr3t" not in out.stdout + out.stderr
    assert run(["token", "testsrv"], docker_env).stdout == token  # nothing erased


def test_an_unknown_action_is_a_usage_error(docker_env):
    out = _helper(docker_env, "fetch")
    assert out.returncode == 2 and "get|list|store|erase" in out.stdout


def test_the_helper_never_imports_click(docker_env):
    code = (
        "import sys\nfrom authsome.cli.dockercred import main\nsys.argv=['x','list']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\nassert 'click' not in sys.modules\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=docker_env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr


def test_doctor_says_when_docker_names_the_helper_but_cannot_find_it(passphrase_env, tmp_path):
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    (docker_dir / "config.json").write_text(json.dumps({"credHelpers": {REGISTRY: "authsome"}}))
    env = {**passphrase_env, "DOCKER_CONFIG": str(docker_dir), "PATH": "/usr/bin:/bin"}
    out = run(["doctor"], env)
    assert out.returncode != 0
    line = next(x for x in out.stdout.splitlines() if "docker-credential-authsome" in x)
    assert "is not on PATH" in line and f"ln -sf {DOCKER_HELPER} " in line

    # With the helper on PATH, as the README's install links it, docker finds it: no problem.
    env["PATH"] = f"{Path(DOCKER_HELPER).parent}:/usr/bin:/bin"
    out = run(["doctor", "--json"], env)
    report = json.loads(out.stdout)
    assert report["docker"] == {
        "config": str(docker_dir / "config.json"),
        "names_helper": True,
        "helper": DOCKER_HELPER,
    }
    assert not [p for p in report["problems"] if "docker" in p]


@pytest.mark.parametrize(
    "server_url", [f"http://{REGISTRY}", f"HTTP://{REGISTRY}/v2/", f"ftp://{REGISTRY}"]
)
def test_get_gives_nothing_for_a_registry_reached_without_tls(docker_env, testsrv, server_url):
    """docker would send the credential for http:// in the clear; only https (or a bare host
    name, which docker reaches over https) gets one."""
    _login(testsrv, docker_env)
    token = run(["token", "testsrv"], docker_env).stdout.strip()
    out = _helper(docker_env, "get", server_url + "\n")
    assert (out.returncode, out.stdout) == (1, NOT_FOUND)
    assert "https://" in out.stderr and token not in out.stderr
