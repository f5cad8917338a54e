"""The inner loop, `pytest -m unit` (tests/costs.py marks its tests), reaches every test module
but those whose every test needs what the loop leaves out; this table says which, and why."""

import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
WITHOUT_UNIT_TESTS = {
    "test_child_env.py": "each test logs in at the test OAuth server or needs bao",
    "test_env_terminal.py": "env and the hook in real shells in tmux",
    "test_install_lines.py": "the README's install recipes, pip installing into new venvs",
    "test_first_day.py": "the README's shell setup, typed into tmux",
    "test_git_helper.py": "git against a test forge",
    "test_journal_places.py": "read-only bind mounts, an immutable folder and a full tmpfs",
    "test_kill_sweep.py": "the command killed by each signal across the refresh window, 36 times",
    "test_login_shells.py": "login shells from /etc/skel in tmux",
    "test_loopback.py": "a login's local server, with handlers that take their time",
    "test_mcp.py": "the MCP SDK's server and client around `authsome mcp`",
    "test_mcp_storms.py": "node-oidc-provider, the MCP SDK, mcp-remote and a bao server",
    "test_mcp_transport.py": "the MCP SDK's servers and client around `authsome mcp`",
    "test_oidc.py": "node-oidc-provider",
    "test_pkce_local_user.py": "a second uid against the PKCE listener",
    "test_proxy.py": "curl and Python through `authsome run --proxy`",
    "test_resource_indicator.py": "a device login at the test OAuth server",
    "test_sandbox_battery.py": "the exfiltration battery, inside bwrap, as two uids",
    "test_unit_loop.py": "this check, which may collect the suite in a process of its own",
    "test_vault_doctor.py": "a bao server",
    "test_vault_errors.py": "a bao server",
    "test_vault_raft.py": "a Raft cluster of bao servers",
    "test_vault_raft_refresh.py": "a Raft cluster of bao servers",
    "test_vault_refresh.py": "bao servers stopped, sealed and restarted",
    "test_vault_trust.py": "a bao server holding hostile names and values",
    "test_wheel.py": "a wheel built and installed into a new venv",
}


def test_the_unit_loop_reaches_every_test_module_but_the_listed_ones(request):
    modules = {path.name for path in TESTS.glob("test_*.py")}
    reached = _unit_modules_of_this_run(request.session, modules)
    if reached is None:
        reached = _unit_modules_of_a_collection()
    assert modules - reached == set(WITHOUT_UNIT_TESTS)


def _unit_modules_of_this_run(session, modules) -> set[str] | None:
    """The modules with a `unit` test, read from this run's own items when it collected the
    whole suite (as every xdist worker does): conftest.py marked them as `-m unit` selects."""
    from conftest import DESELECTED

    if session.config.stash.get(DESELECTED, False):
        return None
    if {item.path.name for item in session.items} != modules:
        return None  # a partial run: some modules were not collected
    return {item.path.name for item in session.items if item.get_closest_marker("unit")}


def _unit_modules_of_a_collection() -> set[str]:
    """The same, from `pytest --collect-only -m unit` in a process of its own."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "unit"]
        + ["-p", "no:cacheprovider", str(TESTS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return {line.split("::")[0].rsplit("/", 1)[-1] for line in out.stdout.splitlines()}
