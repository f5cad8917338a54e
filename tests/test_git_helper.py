"""`authsome git-credential` and `setup-git` with the real git, against git's own http-backend
behind HTTPS and Basic auth (tests/tlsservers.py), and the protocol line by line."""

import subprocess
import time

import pytest
from clitools import login_due, run
from realparts import require, require_file
from tlsservers import GIT_HTTP_BACKEND, GitServer

pytestmark = pytest.mark.real


def _git(env, *args, cwd=None):
    return subprocess.run(
        [require("git"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def _bare_repo(root):
    """root/repo.git with one commit on main."""
    work = root / "work"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), "GIT_CONFIG_NOSYSTEM": "1"}
    assert _git(env, "init", "-q", "-b", "main", str(work)).returncode == 0
    (work / "README").write_text("hello from the test forge\n")
    _git(env, "add", "README", cwd=work)
    who = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    assert _git(env, *who, "commit", "-q", "-m", "first", cwd=work).returncode == 0
    assert _git(env, "clone", "-q", "--bare", str(work), str(root / "repo.git")).returncode == 0


@pytest.fixture
def forge(tmp_path, testsrv):
    """The git server, accepting exactly the access tokens the OAuth server has issued."""
    require("git")
    require_file(GIT_HTTP_BACKEND, "git")
    (tmp_path / "forge").mkdir()
    _bare_repo(tmp_path / "forge")
    server = GitServer(tmp_path / "forge", tmp_path, lambda t: t in testsrv.state.access)
    yield server
    server.stop()


@pytest.fixture
def git_env(file_env, forge, testsrv, install_provider):
    install_provider(testsrv.provider(git={"hosts": [forge.host], "username": "x-access-token"}))
    return {
        **file_env,
        "GIT_SSL_CAINFO": str(forge.ca),
        "GIT_TERMINAL_PROMPT": "0",  # a missing credential fails instead of asking
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def test_git_clones_with_a_token_refreshed_by_the_helper(git_env, forge, testsrv, tmp_path):
    login_due(testsrv, git_env)
    before = set(testsrv.state.access)
    # A helper configured before, which would answer first: setup-git's empty line silences it.
    wrong = "!f() { echo username=someone; echo password=stale; }; f"
    assert _git(git_env, "config", "--global", "credential.helper", wrong).returncode == 0
    out = run(["setup-git", "testsrv"], git_env)  # the only configuration step
    assert out.returncode == 0, out.stderr
    assert out.stdout == ""

    clone = _git(git_env, "clone", "-q", f"{forge.url}/repo.git", str(tmp_path / "clone"))
    assert clone.returncode == 0, clone.stderr
    assert (tmp_path / "clone" / "README").read_text() == "hello from the test forge\n"
    # The helper refreshed the due token first, and git sent the new one.
    assert testsrv.state.count("/token", "refresh_token") == 1
    refreshed = testsrv.state.access - before
    assert len(refreshed) == 1 and forge.seen and set(forge.seen) <= refreshed
    assert set(forge.users) == {"x-access-token"}


def test_setup_git_writes_an_empty_helper_first_and_unset_removes_it(git_env, forge):
    assert run(["setup-git", "testsrv"], git_env).returncode == 0
    key = f"credential.https://{forge.host}.helper"
    lines = _git(git_env, "config", "--global", "--get-all", key).stdout.splitlines()
    assert lines[0] == ""
    assert lines[1].startswith("!'/") and lines[1].endswith("/authsome' git-credential")

    assert run(["setup-git", "testsrv:work"], git_env).returncode == 0
    lines = _git(git_env, "config", "--global", "--get-all", key).stdout.splitlines()
    assert lines[1].endswith(" git-credential --connection testsrv:work") and len(lines) == 2

    out = run(["setup-git", "testsrv", "--unset"], git_env)
    assert out.returncode == 0, out.stderr
    assert _git(git_env, "config", "--global", "--get-all", key).stdout == ""


def _helper(env, operation, text):
    return run(["git-credential", operation], env, input=text)


def test_get_answers_a_listed_https_host_with_username_password_and_expiry(git_env, forge):
    assert run(["login", "testsrv"], git_env).returncode == 0
    out = _helper(git_env, "get", f"protocol=https\nhost={forge.host}\npath=repo.git\n\n")
    assert out.returncode == 0, out.stderr
    attrs = dict(line.split("=", 1) for line in out.stdout.splitlines())
    token = run(["token", "testsrv"], git_env).stdout.strip()
    assert attrs["username"] == "x-access-token" and attrs["password"] == token
    assert attrs["host"] == forge.host and attrs["protocol"] == "https"
    assert abs(int(attrs["password_expiry_utc"]) - (time.time() + 3600)) < 120
    assert out.stderr == ""


@pytest.mark.parametrize(
    "text",
    [
        "protocol=https\nhost=example.com\n\n",  # a host no provider lists
        "protocol=http\nhost=@HOST@\n\n",  # never over plain http
        "protocol=https\n\n",  # no host
    ],
)
def test_get_prints_nothing_for_other_hosts(git_env, forge, text):
    assert run(["login", "testsrv"], git_env).returncode == 0
    out = _helper(git_env, "get", text.replace("@HOST@", forge.host))
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


@pytest.mark.parametrize("operation", ["store", "erase", "capability"])
def test_store_erase_and_unknown_operations_change_nothing(git_env, forge, testsrv, operation):
    assert run(["login", "testsrv"], git_env).returncode == 0
    token = run(["token", "testsrv"], git_env).stdout
    text = f"protocol=https\nhost={forge.host}\nusername=x-access-token\npassword={token}\n"
    out = _helper(git_env, operation, text)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    assert run(["token", "testsrv"], git_env).stdout == token  # erase discarded nothing


def test_a_listed_host_without_a_login_says_how_to_log_in(git_env, forge):
    out = _helper(git_env, "get", f"protocol=https\nhost={forge.host}\n\n")
    assert out.returncode == 3 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "authsome login testsrv" in out.stderr
