"""The CLI frame: version, doctor, one-line errors with distinct exit codes, lazy imports."""

import ast
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import TEST_PASSPHRASE

import authsome
from authsome import errors
from authsome import main as cli
from authsome.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
AUTHSOME = [sys.executable, "-m", "authsome"]


def run(args, env, **kw):
    return subprocess.run(
        [*AUTHSOME, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=kw.pop("timeout", 60),
        start_new_session=True,
        **kw,
    )


def test_version_has_one_source(env):
    out = run(["--version"], env)
    assert out.stdout == f"authsome {authsome.__version__}\n"
    assert 'dynamic = ["version"]' in (ROOT / "pyproject.toml").read_text()


def test_doctor_without_dbus_explains_the_file_store(env, authsome_home):
    out = run(["doctor"], env)
    assert out.returncode == 0, out.stderr
    assert "no session bus" in out.stdout
    assert f"store:     file, the encrypted file {authsome_home / 'vault'}" in out.stdout
    assert "chosen by probe: no D-Bus session" in out.stdout
    report = json.loads(run(["doctor", "--json"], env).stdout)
    assert report["store"]["name"] == "file" and report["keychain"]["dbus"] is False
    assert report["ok"] is True


def test_doctor_names_the_secret_service(env, fresh_secret_service):
    # A keyring of its own: the session's shared one holds other tests' logins, which this
    # empty home's index lacks, and doctor rightly reports that.
    out = run(["doctor", "--json"], {**env, **fresh_secret_service.env()})
    report = json.loads(out.stdout)
    assert out.returncode == 0, out.stdout
    assert report["store"]["name"] == "keychain"
    assert report["store"]["where"] == "the Secret Service keychain"
    assert report["keychain"]["secret_service"] is True and report["keychain"]["dbus"] is True


def test_doctor_reports_and_fixes_loose_modes(env, authsome_home):
    run(["doctor"], env)
    os.chmod(authsome_home, 0o755)  # noqa: S103 - the point
    os.chmod(authsome_home / "version", 0o644)
    out = run(["doctor"], env)
    assert out.returncode == 11
    assert "2 path(s)" in out.stdout and "open to others" in out.stdout
    assert out.stderr.strip().startswith("authsome: doctor found 1 problem(s)")
    fixed = run(["doctor", "--fix"], env)
    assert fixed.returncode == 0, fixed.stdout
    assert oct(authsome_home.stat().st_mode & 0o777) == oct(0o700)
    assert oct((authsome_home / "version").stat().st_mode & 0o777) == oct(0o600)


def test_a_readable_provider_file_is_no_problem_a_writable_one_is(env, authsome_home):
    run(["doctor"], env)
    providers = authsome_home / "providers"
    providers.mkdir(mode=0o755)
    override = providers / "github.json"
    override.write_text('{"name": "github", "extends": "github"}')
    override.chmod(0o644)  # as an editor leaves it: no secret in it, so nothing to report
    out = run(["doctor"], env)
    assert "open to others" not in out.stdout, out.stdout
    override.chmod(0o666)  # noqa: S103 - others could move its endpoints
    out = run(["doctor"], env)
    assert out.returncode == 11 and "1 path(s)" in out.stdout, out.stdout
    assert run(["doctor", "--fix"], env).returncode == 0
    assert oct(override.stat().st_mode & 0o777) == oct(0o644)


def test_doctor_reports_vault_state(env):
    run(["unlock"], {**env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE})
    report = json.loads(run(["doctor", "--json"], env).stdout)
    assert report["file"]["exists"] and report["file"]["kdf"]["n"] == 2**17
    assert report["file"]["session"] == "none"


def test_unknown_home_format_is_one_line(env, authsome_home):
    authsome_home.mkdir(mode=0o700)
    (authsome_home / "version").write_text("7\n")
    out = run(["unlock"], env)
    assert out.returncode == 6
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "format version '7'" in out.stderr and "AUTHSOME_HOME" in out.stderr


def test_wrong_passphrase_exit_code_and_nothing_changes(env, authsome_home):
    assert run(["unlock"], {**env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}).returncode == 0
    before = (authsome_home / "vault").read_bytes()
    out = run(["unlock"], {**env, "AUTHSOME_PASSPHRASE": "wrong"})
    assert out.returncode == 5
    assert out.stdout == ""
    assert out.stderr.startswith("authsome: wrong passphrase for the encrypted file")
    assert (authsome_home / "vault").read_bytes() == before


def test_corrupt_vault_exit_code(env, authsome_home):
    run(["unlock"], {**env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE})
    (authsome_home / "vault").write_text("{garbage")
    out = run(["unlock"], {**env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE})
    assert out.returncode == 6
    assert "is damaged (corrupted or tampered)" in out.stderr
    assert (authsome_home / "vault").read_text() == "{garbage"


def test_debug_shows_the_traceback(env, authsome_home):
    authsome_home.mkdir(mode=0o700)
    (authsome_home / "version").write_text("7\n")
    assert "Traceback" in run(["--debug", "unlock"], env).stderr


def test_usage_error_is_one_line_exit_2(env):
    out = run(["doctor", "--nope"], env)
    assert out.returncode == 2
    assert out.stderr == "authsome: No such option '--nope'. See: authsome doctor --help\n"


def test_bare_authsome_shows_the_usage_screen(env):
    out = run([], env)
    assert out.returncode == 2 and out.stdout == ""
    # The screen as --help shows it, line by line, not one 2,000-character error line.
    assert out.stderr == run(["--help"], env).stdout
    assert out.stderr.startswith("Usage: authsome") and "\n  login " in out.stderr


@pytest.mark.parametrize(
    ("typed", "line"),
    [
        ("logn", "authsome: no such command 'logn'. Did you mean login?\n"),
        ("tokne", "authsome: no such command 'tokne'. Did you mean token?\n"),
        ("frobnicate", "authsome: no such command 'frobnicate'. See: authsome --help\n"),
        # Not a word that could be a command: perhaps a pasted secret, so never repeated.
        ("sk-proj-AbCdEf0123456789", "authsome: no such command. See: authsome --help\n"),
        ("loginX9", "authsome: no such command. See: authsome --help\n"),
    ],
)
def test_a_mistyped_command_gets_a_suggestion(env, typed, line):
    out = run([typed, "github"], env)
    assert out.returncode == 2
    assert out.stderr == line and out.stdout == ""


SHAPE = re.compile(r"authsome: (?P<what>[^\n]+?)\. (?P<fix>[A-Z][^\n]*[^.\n])\n")


def test_errors_have_the_documented_shape(env, authsome_home, install_provider):
    """`authsome: <what happened>. <how to fix it>`: one line, exit code by kind."""
    install_provider(
        {
            "name": "peer",
            "auth_type": "oauth2",
            "flow": "pkce",
            "oauth": {"issuer": "http://127.0.0.1:9"},  # nothing listens on port 9
            "export": {"env": {"access_token": "PEER_TOKEN"}},
        }
    )
    vault = {**env, "AUTHSOME_BACKEND": "file", "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}
    cases = [
        (["token", "openai"], vault, None, 3),
        (["logout", "openai"], vault, None, 3),
        (["env", "openai:work"], vault, None, 3),
        (["run", "openai", "--", "true"], vault, None, 3),
        (["login", "nosuch"], vault, None, 2),
        (["inspect", "nosuch"], vault, None, 2),
        (["logn", "github"], vault, None, 2),
        (["doctor", "--nope"], vault, None, 2),
        (["login", "openai"], vault, "not-a-key\n", 2),
        (["login", "peer", "--no-browser"], vault, None, 8),
        (["token", "openai"], {**vault, "AUTHSOME_PASSPHRASE": "wrong"}, None, 5),
    ]
    for args, e, stdin, code in cases:
        if code == 5:  # a vault to be wrong about
            assert run(["login", "openai"], vault, input="sk-" + "a" * 40 + "\n").returncode == 0
        out = run(args, e, input=stdin)
        assert out.returncode == code, (args, out.stderr)
        assert SHAPE.fullmatch(out.stderr), (args, out.stderr)
        assert "; run" not in out.stderr and "; see" not in out.stderr, (args, out.stderr)


def test_locked_vault_without_terminal_exit_4(env):
    run(["unlock"], {**env, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE})
    out = run(["unlock"], {**env, "AUTHSOME_BACKEND": "file"})
    assert out.returncode == 4
    assert "no terminal to ask for its passphrase" in out.stderr


def test_every_error_class_has_its_own_exit_code():
    classes = [
        cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.AuthsomeError)
    ]
    assert set(cli.EXIT_CODES) == set(classes) - {errors.AuthsomeError}
    codes = list(cli.EXIT_CODES.values())
    assert len(codes) == len(set(codes))
    # Every code but success and "a bug" belongs to exactly one error class.
    assert set(codes) == ALL_CODES - {ExitCode.OK, ExitCode.INTERNAL}
    assert cli.EXIT_CODES[errors.Cancelled] == 130
    assert cli.exit_code_for(errors.AuthsomeError("x")) == ExitCode.INTERNAL


ALL_CODES = {code for name, code in vars(ExitCode).items() if name.isupper()}


def _readme_exit_codes() -> list[int]:
    section = (ROOT / "README.md").read_text().split("\n## Exit codes\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    return [int(code) for code in re.findall(r"^\| (\d+) \| .+ \|$", section, re.MULTILINE)]


def test_the_readme_exit_code_table_is_exit_code():
    documented = _readme_exit_codes()
    assert len(documented) == len(set(documented)), documented
    assert set(documented) == ALL_CODES
    assert documented == sorted(documented)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_domain_code_never_imports_click_or_exits():
    for path in (ROOT / "authsome").rglob("*.py"):
        if "cli" in path.relative_to(ROOT / "authsome").parts or path.name in (
            "__main__.py",
            "main.py",
            "forwarder.py",  # a program of its own: the sandbox's pid 1, which bwrap runs
        ):
            continue
        assert "click" not in _imports(path), path
        assert "sys.exit" not in path.read_text(), path


def test_only_the_keychain_modules_import_keyring():
    for path in (ROOT / "authsome").rglob("*.py"):
        if "keyring" in _imports(path):
            assert path.name == "oskeyring.py", path


HEAVY = ("httpx", "keyring", "secretstorage", "jeepney", "cryptography")


@pytest.mark.parametrize(
    "args,allowed",
    [
        (["--version"], ()),
        (["doctor"], ("cryptography",)),
    ],
)
def test_light_paths_import_no_heavy_modules(env, args, allowed):
    code = (
        "import sys\nfrom authsome.main import main\n"
        f"sys.argv = ['authsome', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    loaded = ast.literal_eval(out.stderr.strip().splitlines()[-1])
    assert set(loaded) <= set(allowed), loaded


HOT_PATH_FORBIDDEN = (
    "click",
    "httpx",
    "keyring",
    "secretstorage",
    "jeepney",
    "dataclasses",
    "inspect",
    "typing",
    "authsome.storage.vault",
)
# The standard library's slow imports, each a chain (json -> re -> enum -> functools ->
# collections; pathlib -> re, urllib.parse): util/jsonfast and util/lazy stand in for them.
STDLIB_SLOW = ("json", "re", "enum", "functools", "pathlib", "urllib.parse", "contextlib")
# A subprocess's last word: which of `names` it loaded (read back by _loaded).
LOADED = "print('loaded:', sorted(m for m in {names!r} if sys.modules.get(m)), file=sys.stderr)\n"


def _loaded(stderr: str) -> list[str]:
    line = next(line for line in stderr.splitlines() if line.startswith("loaded: "))
    return ast.literal_eval(line.removeprefix("loaded: "))


@pytest.mark.parametrize(
    "args",
    [
        ["token", "openai"],
        ["env", "openai"],
        ["env", "--shell", "fish", "openai"],
        ["list"],
        ["list", "--json"],
    ],
)
def test_token_and_env_hot_paths_stay_light(unlocked_env, args):
    """Guards the start-up budget without timing anything: which modules get imported."""
    e = unlocked_env
    login = run(["login", "openai"], {**e, "OPENAI_API_KEY": "sk-0123456789abcdefghijklmn"})
    assert login.returncode == 0, login.stderr
    forbidden = HOT_PATH_FORBIDDEN + (() if "--json" in args else STDLIB_SLOW)
    code = (
        "import sys\nfrom authsome.main import main\n"
        f"sys.argv = ['authsome', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        + LOADED.format(names=forbidden)
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert ("openai" if args[0] == "list" else "sk-0123456789abcdefghijklmn") in out.stdout
    assert _loaded(out.stderr) == []


# Installed here by the test extra (selenium brings trio, twine rich and pygments): httpx and
# httpcore import them whenever they can.
UNUSED_BY_HTTP = ("trio", "anyio", "rich", "pygments", "httpx._main")
NO_PROXY = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}


def test_a_network_command_loads_no_async_library_and_no_httpx_command_line(testsrv, file_env):
    import importlib.util

    assert all(importlib.util.find_spec(m) for m in ("trio", "anyio", "rich", "pygments"))
    code = (
        "import sys\nfrom authsome.main import main\n"
        "sys.argv = ['authsome', 'login', 'testsrv']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        + LOADED.format(names=(*UNUSED_BY_HTTP, "httpcore"))
        # Nothing stays hidden once the client is built: the process may still import them.
        + "import trio, anyio, rich\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=file_env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert _loaded(out.stderr) == ["httpcore"]


def test_called_as_a_library_the_client_leaves_async_libraries_alone():
    """In a process authsome does not own (tests, embedding code), httpcore keeps its async
    locks: another part of the process may use httpx asynchronously."""
    code = (
        "import sys\nfrom authsome.util.http import new_client\n"
        "new_client(1.0, 1.0).close()\n"
        + LOADED.format(names=UNUSED_BY_HTTP)
        + "import httpx, asyncio\n"
        "async def go():\n"
        "    async with httpx.AsyncClient(trust_env=False) as c:\n"
        "        await c.get('http://127.0.0.1:9/')\n"
        "try:\n    asyncio.run(go())\nexcept httpx.ConnectError:\n    print('async works')\n"
    )
    environ = {k: v for k, v in os.environ.items() if k not in NO_PROXY}
    out = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "async works\n"
    # trio and anyio loaded as httpcore asked; only httpx's command line stayed out.
    assert _loaded(out.stderr) == ["anyio", "trio"]


def _folder_modes(root):
    return {str(p): oct(p.stat().st_mode & 0o777) for p in [root, *root.rglob("*")] if p.is_dir()}


def test_every_folder_is_private_whatever_the_umask(oauth_server, env, authsome_home, tmp_path):
    """register first on a fresh home, then the discovery cache: every folder made is 0700."""
    assert not authsome_home.exists()
    definition = tmp_path / "dyn.json"
    definition.write_text(
        json.dumps(
            {
                "name": "dyn",
                "auth_type": "oauth2",
                "flow": "dcr_pkce",
                "oauth": {"issuer": oauth_server.url},
                "export": {"env": {"access_token": "DYN_TOKEN"}},
            }
        )
    )
    out = run(["register", str(definition)], env, umask=0o022)
    assert out.returncode == 0, out.stderr
    out = run(["inspect", "dyn", "--refresh"], env, umask=0o022)
    assert out.returncode == 0, out.stderr
    assert (authsome_home / "cache" / "discovery" / "dyn.json").is_file()
    modes = _folder_modes(authsome_home)
    assert {str(authsome_home / "cache"), str(authsome_home / "providers")} <= set(modes)
    assert set(modes.values()) == {oct(0o700)}, modes
    out = run(["doctor"], env, umask=0o022)
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_nested_home_gets_private_parents_and_leaves_existing_ones(env, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)  # noqa: S103 - an existing folder authsome must not touch
    home = shared / "a" / "b" / "authsome"
    out = run(["unlock"], {**env, "AUTHSOME_HOME": str(home), "AUTHSOME_PASSPHRASE": "x"}, umask=0)
    assert out.returncode == 0, out.stderr
    assert oct(shared.stat().st_mode & 0o777) == oct(0o755)
    assert set(_folder_modes(shared / "a").values()) == {oct(0o700)}


def test_doctor_says_when_sessions_outlive_a_reboot(env, tmp_path):
    out = run(["doctor"], env)
    assert out.returncode == 0
    assert "sessions:  " in out.stdout and "an unlocked session outlives a reboot" in out.stdout
    assert json.loads(run(["doctor", "--json"], env).stdout)["sessions"]["survives_reboot"]
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    out = run(["doctor"], {**env, "XDG_RUNTIME_DIR": str(runtime)})
    assert out.returncode == 0
    assert f"sessions:  {runtime / 'authsome'} (in XDG_RUNTIME_DIR: gone at logout)" in out.stdout


def _waiting_login(env):
    """An authsome process that stays alive: login waits for an API key on a pipe."""
    return subprocess.Popen(
        [*AUTHSOME, "login", "openai"],
        env={**env, "AUTHSOME_BACKEND": "file", "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE},
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _eventually(check, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_no_core_file_can_be_written(env):
    proc = _waiting_login(env)
    try:
        limits = Path(f"/proc/{proc.pid}/limits")

        def core():  # [soft, hard] from "Max core file size  SOFT  HARD  bytes"
            line = next(x for x in limits.read_text().splitlines() if "core" in x)
            return line.split()[4:6]

        assert _eventually(lambda: core() == ["0", "0"]), core()
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_the_process_is_not_dumpable(env):
    """After main, the kernel says the process is not dumpable (PR_GET_DUMPABLE is 0): no core
    through a core_pattern pipe either, and no ptrace or /proc/PID/mem by the user's other
    processes."""
    code = (
        "import ctypes, sys\nfrom authsome.main import main\n"
        "sys.argv = ['authsome', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), file=sys.stderr)\n"  # PR_GET_DUMPABLE
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stderr.strip() == "0", out.stderr


@pytest.mark.parametrize(
    "content,message",
    [
        (b'{"backend": "file"', "is not valid JSON (line 1)"),
        # A number too long for int() is json's plain ValueError, with no line (found by mypy)
        (b'{"margin": ' + b"1" * 5000 + b"}", "is not valid JSON"),
        (b'{"backend": "\xff"}', "is not UTF-8 text"),
        (b'["file"]', "must hold a JSON object"),
    ],
)
def test_a_bad_config_file_is_a_config_error(env, authsome_home, content, message):
    authsome_home.mkdir(mode=0o700)
    (authsome_home / "config.json").write_bytes(content)
    out = run(["list"], env)
    assert out.returncode == 9, out.stderr
    assert out.stderr.startswith(f"authsome: {authsome_home / 'config.json'} {message}")
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [["list"], ["--version"]])
def test_main_called_in_process_leaves_the_collector_alone(env, argv, monkeypatch):
    """A process of authsome's own runs without cycle collections (main() with no argv); a
    caller that hands main its arguments keeps its collector, enabled and unfrozen."""
    import gc

    from authsome.main import main

    monkeypatch.setenv("AUTHSOME_BACKEND", "file")
    frozen = gc.get_freeze_count()
    with pytest.raises(SystemExit):
        main(argv)
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_help_summaries_are_whole_and_commands_show_examples(env):
    out = run(["--help"], {**env, "COLUMNS": "80"})
    commands = out.stdout.split("Commands:\n", 1)[1]
    assert "..." not in commands, commands  # click cuts a summary too long for 80 columns
    for name in ("doctor", "token", "log", "setup-git", "setup-kube", "kube-credential"):
        page = run([name, "--help"], env).stdout
        assert "  Examples:\n    authsome " in page, page
