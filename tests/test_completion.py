"""Tab completion through click's protocol, in real bash, fish and zsh, and its speed guard."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from clitools import AUTHSOME_BIN, check_generated, run
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ptyrun import PtyProcess
from realparts import require, require_file

ROOT = Path(__file__).resolve().parents[1]
BIN = str(Path(AUTHSOME_BIN).parent)


@pytest.fixture
def shell_env(file_env, authsome_home):
    folder = authsome_home / "providers"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gizmo.json").write_text(
        '{"name": "gizmo", "auth_type": "api_key", "api_key": {"env_var": "GIZMO_KEY"},'
        ' "export": {"env": {"api_key": "GIZMO_KEY"}}}'
    )
    return {**file_env, "PATH": f"{BIN}:{file_env.get('PATH', '/usr/bin:/bin')}"}


def test_checked_in_scripts_match_the_generator():
    out = check_generated("gen-completions")
    assert out.returncode == 0, out.stderr


def test_completion_command_prints_the_checked_in_scripts(shell_env):
    for shell, name in (("bash", "authsome.bash"), ("zsh", "_authsome"), ("fish", "authsome.fish")):
        out = run(["completion", shell], shell_env)
        assert out.stdout == (ROOT / "completions" / name).read_text()


def _bash_complete(words: str, env) -> list[str]:
    script = (
        f"source {ROOT / 'completions' / 'authsome.bash'}\n"
        f"COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))\n"
        '[[ "' + words + '" == *" " ]] && COMP_WORDS+=("") && COMP_CWORD=${#COMP_WORDS[@]}-1\n'
        "_authsome_completion authsome\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    out = subprocess.run(
        [require("bash"), "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_bash_completes_provider_names(shell_env):
    assert _bash_complete("authsome login gi", shell_env) == ["github", "gitlab", "gizmo"]


def test_bash_completes_commands_flows_and_shells(shell_env):
    assert "login" in _bash_complete("authsome lo", shell_env)
    assert _bash_complete("authsome login github --flow de", shell_env) == ["device_code"]
    assert _bash_complete("authsome login github --flow d", shell_env) == [
        "device_code",
        "dcr_pkce",
    ]
    assert _bash_complete("authsome env --shell f", shell_env) == ["fish"]


def test_bash_completes_connected_names(shell_env):
    assert run(["login", "gizmo"], {**shell_env, "GIZMO_KEY": "k1"}, input="").returncode == 0
    assert run(["login", "gizmo:work"], {**shell_env, "GIZMO_KEY": "k2"}).returncode == 0
    assert _bash_complete("authsome token gi", shell_env) == ["gizmo", "gizmo:work"]
    assert _bash_complete("authsome env giz", shell_env) == ["gizmo", "gizmo:work"]


def test_bash_completes_after_the_colon_of_name_connection(shell_env, tmp_path):
    """bash breaks words at ':'; with bash-completion loaded, gizmo:w<Tab> still completes."""
    assert run(["login", "gizmo:work"], {**shell_env, "GIZMO_KEY": "k2"}).returncode == 0
    helpers = require_file("/usr/share/bash-completion/bash_completion", "bash-completion")
    rc = tmp_path / "bashrc"
    rc.write_text(
        f"source {helpers}\nsource {ROOT / 'completions' / 'authsome.bash'}\nPS1='READY> '\n"
    )
    proc = PtyProcess([require("bash"), "--rcfile", str(rc), "-i"], {**shell_env, "TERM": "dumb"})
    proc.expect(b"READY> ")
    proc.send(b"authsome token gizmo:w\t")
    proc.expect(b"authsome token gizmo:work", timeout=30)
    proc.close()


def test_fish_completes_provider_names(shell_env):
    script = f"source {ROOT / 'completions' / 'authsome.fish'}\ncomplete -C 'authsome login gi'\n"
    out = subprocess.run(
        [require("fish"), "--no-config", "-c", script],
        capture_output=True,
        text=True,
        env=shell_env,
        timeout=60,
    )
    assert [line.split("\t")[0] for line in out.stdout.splitlines()] == [
        "github",
        "gitlab",
        "gizmo",
    ], out.stderr


def test_zsh_completes_provider_names_on_a_terminal(shell_env, tmp_path):
    zdot = tmp_path / "zdot"
    zdot.mkdir()
    (zdot / ".zshrc").write_text(
        f"fpath=({ROOT / 'completions'} $fpath)\n"
        "autoload -Uz compinit && compinit -u -d $ZDOTDIR/.zcompdump\n"
        "PS1='READY> '\n"
    )
    env = {**shell_env, "ZDOTDIR": str(zdot), "TERM": "dumb"}
    proc = PtyProcess([require("zsh"), "-i"], env)
    proc.expect(b"READY> ")
    proc.send(b"authsome login gi\t")
    proc.expect(b"gizmo", timeout=30)
    proc.close()
    assert b"github" in proc.screen and b"gitlab" in proc.screen


ZSHRC_ORDERS = {
    # The README's line in a fresh .zshrc: nothing has run compinit.
    "alone": "{line}\n",
    # A framework (oh-my-zsh, ...) runs compinit after it, which forgets earlier compdefs.
    "compinit-after": "{line}\nautoload -Uz compinit && compinit -i\n",
    "compinit-before": "autoload -Uz compinit && compinit -i\n{line}\n",
}


@pytest.mark.parametrize("order", ZSHRC_ORDERS)
def test_zsh_eval_line_works_whether_or_not_compinit_has_run(shell_env, tmp_path, order):
    zdot = tmp_path / "zdot"  # an empty ZDOTDIR: only this .zshrc
    zdot.mkdir()
    line = f'eval "$({AUTHSOME_BIN} completion zsh)"'
    (zdot / ".zshrc").write_text(ZSHRC_ORDERS[order].format(line=line) + "PS1='READY> '\n")
    proc = PtyProcess([require("zsh"), "-i"], {**shell_env, "ZDOTDIR": str(zdot), "TERM": "dumb"})
    proc.expect(b"READY> ")
    proc.send(b"authsome login gi\t")
    proc.expect(b"gizmo", timeout=30)
    proc.close()
    assert b"github" in proc.screen and b"gitlab" in proc.screen
    assert b"command not found" not in proc.screen, proc.screen


HEAVY = ("httpx", "keyring", "secretstorage", "jeepney", "cryptography")


@pytest.mark.parametrize("words", ["authsome login gi", "authsome token ", "authsome env "])
def test_completion_path_imports_nothing_heavy(shell_env, words):
    assert run(["login", "gizmo"], {**shell_env, "GIZMO_KEY": "k1"}).returncode == 0
    code = (
        "import sys, os\nfrom authsome.cli.root import cli\n"
        "try:\n    cli(prog_name='authsome')\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {
        **shell_env,
        "_AUTHSOME_COMPLETE": "bash_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert ast.literal_eval(out.stderr.strip().splitlines()[-1]) == []
    assert "plain," in out.stdout


# The click-free answer (authsome.cli.tab) must say exactly what click would say.

SHELLS = ("bash_complete", "zsh_complete", "fish_complete")
COMMANDS = ("login", "inspect", "logout", "token", "env", "run", "list", "lo", "--debug")
EXTRAS = (
    (),
    ("github",),
    ("gizmo:work",),
    ("-c",),
    ("--flow",),
    ("--shell",),
    ("a", "b"),
    ("x", "--"),
    ("--format",),
    ("--connection",),
    ("--strict",),
    ("--json",),
    ("--shell", "fish"),
    ("gizmo", "-c"),
)
INCOMPLETE = ("", "gi", "giz", "gizmo:", "x", "-", "--f", "G", "_a", "9", "g'i'", "gi\\", '"gi')
# Option names and values: token --c<Tab>, env --s<Tab>, env --shell=f<Tab>, list --j<Tab>, ...
INCOMPLETE += ("--", "--c", "-c", "--s", "--sh", "--u", "--j", "--h", "-h", "--x", "f", "j")
INCOMPLETE += ("--shell=", "--shell=f", "--format=j", "--json=", "--bogus=f", "=", "-c=w")


def _protocol_env(shell: str, words: list[str], incomplete: str) -> dict[str, str]:
    if shell == "fish_complete":
        line = " ".join([*words, incomplete])
        return {"_AUTHSOME_COMPLETE": shell, "COMP_WORDS": line, "COMP_CWORD": incomplete}
    line = " ".join([*words, incomplete]) if incomplete else " ".join(words) + " "
    return {"_AUTHSOME_COMPLETE": shell, "COMP_WORDS": line, "COMP_CWORD": str(len(words))}


def _click_says(monkeypatch, capsys, protocol: dict[str, str]) -> str:
    from authsome.cli.root import cli

    for key, value in protocol.items():
        monkeypatch.setenv(key, value)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli.main(args=[], prog_name="authsome", standalone_mode=False)
    return capsys.readouterr().out


def _fast_says(protocol: dict[str, str]) -> str | None:
    import os

    from authsome.cli import tab as completion

    # The names as main reads them (services.complete.TabContext), not through the factory,
    # which click's answer uses: the comparison holds the two readers of a home together.
    out = completion.answer({**os.environ, **protocol})
    return None if out is None else out + "\n"


@pytest.fixture
def two_connections(shell_env):
    assert run(["login", "gizmo"], {**shell_env, "GIZMO_KEY": "k1"}).returncode == 0
    assert run(["login", "gizmo:work"], {**shell_env, "GIZMO_KEY": "k2"}).returncode == 0


@pytest.mark.slow
def test_fast_answer_is_clicks_answer(two_connections, monkeypatch, capsys):
    answered = 0
    for shell in SHELLS:
        for command in COMMANDS:
            for extra in EXTRAS:
                for incomplete in INCOMPLETE:
                    protocol = _protocol_env(shell, ["authsome", command, *extra], incomplete)
                    fast = _fast_says(protocol)
                    if fast is None:
                        continue
                    answered += 1
                    assert fast == _click_says(monkeypatch, capsys, protocol), protocol
    # Not vacuous: name arguments right after their command, and the options of the declared
    # commands (cli/options.py), are answered without click.
    assert answered >= 1700  # 1800 when written, login's, logout's, inspect's and run's too


def _declared_questions():
    """(words after `authsome`, incomplete) for each declared command (cli/options.py): every
    prefix of every option name, right after the command and after a name; and each option
    taking a value, its choices by every prefix, given apart (--flow d) and attached (--flow=d)."""
    from authsome.cli.options import COMMANDS as DECLARED

    for command, spec in DECLARED.items():
        for opt in spec["options"]:
            for name in opt["names"]:
                for end in range(1, len(name) + 1):
                    yield [command], name[:end]
                    yield [command, "x"], name[:end]
                if opt["flag"]:
                    continue
                values = {c[:end] for c in opt["choices"] for end in range(len(c) + 1)}
                for value in sorted(values | {"", "=", "x", "9"}):
                    yield [command, name], value
                    if name.startswith("--") and value != "=":
                        yield [command], f"{name}={value}"


def test_fast_answer_is_clicks_answer_on_every_declared_option(shell_env, monkeypatch, capsys):
    """Tab on the options of login, env, ... never imports click: each answer is click's."""
    asked = 0
    for shell in SHELLS:
        for words, incomplete in _declared_questions():
            protocol = _protocol_env(shell, ["authsome", *words], incomplete)
            fast = _fast_says(protocol)
            assert fast is not None, protocol
            assert fast == _click_says(monkeypatch, capsys, protocol), protocol
            asked += 1
    assert asked >= 1500  # 1575 when written


def test_declared_option_questions_cover_logins_options():
    asked = {(tuple(words), incomplete) for words, incomplete in _declared_questions()}
    for question in [
        (("login",), "--f"),
        (("login",), "--n"),
        (("login", "x"), "-c"),
        (("login", "--flow"), ""),
        (("login", "--flow"), "d"),
        (("login",), "--flow="),
        (("login",), "--flow=dc"),
        (("login", "--port"), "9"),
        (("login", "--scopes"), "x"),
        (("login", "x"), "--no-b"),
    ]:
        assert question in asked, question


def test_the_declared_flows_are_the_oauth_flows():
    from authsome.cli.options import COMMANDS
    from authsome.cli.root import cli
    from authsome.oauth import FLOWS

    by_dest = {o["dest"]: o for o in COMMANDS["login"]["options"]}
    assert tuple(by_dest["flow"]["choices"]) == tuple(FLOWS)
    port = next(p for p in cli.get_command(None, "login").params if p.name == "port")
    assert (port.type.min, port.type.max) == by_dest["port"]["span"] == (1024, 65535)


def test_fast_answer_lists_names_in_each_format(two_connections):
    protocol = _protocol_env("zsh_complete", ["authsome", "token"], "giz")
    assert _fast_says(protocol) == "plain\ngizmo\n_\nplain\ngizmo:work\n_\n"
    protocol = _protocol_env("fish_complete", ["authsome", "login"], "gi")
    assert _fast_says(protocol) == "plain,github\nplain,gitlab\nplain,gizmo\n"


@given(
    line=st.lists(
        st.sampled_from(
            ["authsome", "login", "env", "token", "list", "gi", "gizmo:work", "-c", "--"]
        )
        | st.sampled_from(["x", "--shell", "--format", "--strict", "--json", "--c", "--s=f", "j"])
        | st.sampled_from(
            ["logout", "inspect", "run", "--flow", "--port", "--f", "--flow=d", "-cw"]
        )
        | st.text(alphabet="gi :-='\"\\\t\x0b", max_size=4),
        max_size=6,
    ).map(" ".join),
    cword=st.integers(min_value=-1, max_value=6),
    shell=st.sampled_from(SHELLS),
)
@example(line="authsome login \t", cword=0, shell="fish_complete")  # noqa: S604 - found by hypothesis
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fast_answer_never_disagrees_with_click(shell_env, monkeypatch, capsys, line, cword, shell):
    current = line.split(" ")[-1] if shell == "fish_complete" else str(cword)
    protocol = {"_AUTHSOME_COMPLETE": shell, "COMP_WORDS": line, "COMP_CWORD": current}
    fast = _fast_says(protocol)
    if fast is not None:
        assert fast == _click_says(monkeypatch, capsys, protocol)


def test_name_table_matches_the_click_commands():
    from authsome.cli import complete
    from authsome.cli import tab as completion
    from authsome.cli.root import COMMANDS as CLI_COMMANDS
    from authsome.cli.root import cli

    kinds = {
        complete.provider_names: completion.PROVIDERS,
        complete.connected_refs: completion.CONNECTIONS,
    }
    found = {}
    for name in CLI_COMMANDS:
        command = cli.get_command(None, name)
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        if arguments and arguments[0]._custom_shell_complete in kinds:
            first = arguments[0]
            found[name] = (
                kinds[first._custom_shell_complete],
                None if first.nargs == -1 else first.nargs,
            )
    assert found == completion.NAME_ARGUMENTS


def test_fast_answer_gives_option_help_as_click_formats_it():
    protocol = _protocol_env("bash_complete", ["authsome", "token"], "--c")
    assert _fast_says(protocol) == "plain,--connection\n"
    protocol = _protocol_env("zsh_complete", ["authsome", "list"], "--")
    assert (
        _fast_says(protocol)
        == "plain\n--json\nPrint JSON.\nplain\n--help\nShow this message and exit.\n"
    )
    protocol = _protocol_env("fish_complete", ["authsome", "env", "--format"], "j")
    assert _fast_says(protocol) == "plain,json\n"


@pytest.mark.parametrize(
    ("words", "incomplete", "expected"),
    [
        (["login"], "gi", "plain,github\nplain,gitlab\nplain,gizmo\n"),
        (["token"], "--c", "plain,--connection\n"),
        (["env", "--shell"], "f", "plain,fish\n"),
        (["list"], "--j", "plain,--json\n"),
        (["login"], "--f", "plain,--flow\nplain,--force\n"),
        (["login", "github", "--flow"], "d", "plain,device_code\nplain,dcr_pkce\n"),
        (["login"], "--port=", "\n"),
        (["inspect"], "--r", "plain,--refresh\n"),
    ],
)
def test_tab_on_a_name_or_declared_option_does_not_import_click(
    shell_env, words, incomplete, expected
):
    code = (
        "import sys\nfrom authsome.main import main\n"
        "try:\n    main([])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('click', *HEAVY) if m in sys.modules), file=sys.stderr)\n"
    ).replace("HEAVY", repr(HEAVY))
    env = {**shell_env, **_protocol_env("bash_complete", ["authsome", *words], incomplete)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.stdout == expected, out.stderr
    assert ast.literal_eval(out.stderr.strip().splitlines()[-1]) == []


def test_zsh_registration_works_with_old_and_new_click_templates():
    """Debian 12's click 8.1.3 ends its zsh script with a bare compdef line; newer clicks with a
    `$zsh_eval_context` block. An unknown template is left alone rather than breaking every
    command at import."""
    from authsome.cli.complete import _zsh_body

    old = "#compdef %(prog_name)s\n_f() {\n}\n\ncompdef %(complete_func)s %(prog_name)s\n"
    new = "_f() {\n}\n\nif [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n  x\nfi\n"
    assert _zsh_body(old) == "#compdef %(prog_name)s\n_f() {\n}\n\n"
    assert _zsh_body(new) == "_f() {\n}\n\n"
    assert _zsh_body("something else entirely") is None


@pytest.mark.parametrize(
    "environ",
    [
        {"AUTHSOME_HOME": "/srv/a//b/./c/", "HOME": "/h"},
        {"AUTHSOME_HOME": "rel/../home", "HOME": "/h"},
        {"AUTHSOME_HOME": "~/x", "HOME": "/h"},
        {"AUTHSOME_HOME": "", "HOME": "/h/"},
        {"HOME": "relative-home"},
        {"AUTHSOME_HOME": "//net/./x//", "HOME": "/h"},
        {"AUTHSOME_HOME": "/", "HOME": "/h"},
        {},
    ],
)
def test_the_home_is_spelled_as_pathlib_spells_it(environ, monkeypatch):
    """Tab and the factory find the home without pathlib (storage/home.py's home_dir). The
    spelling must be pathlib's, as it was: the vault's path is sealed into unlocked sessions."""
    from authsome import settings
    from authsome.storage.home import home_dir

    if "HOME" not in environ:
        monkeypatch.delenv("HOME")  # Path.home() then asks the password database, as ~ does
    if environ.get("AUTHSOME_HOME"):
        expected = Path(environ["AUTHSOME_HOME"]).expanduser().absolute()
    else:
        expected = (Path(environ["HOME"]) if environ.get("HOME") else Path.home()) / ".authsome"
    assert home_dir(environ) == settings.resolve_home(environ).value == str(expected)


_BACKENDS = (None, "", " ", "\t\n", "vault", "VAULT", " Vault\n", "file", "KeyChain", "bogus")
_CONFIGS = {
    "absent": None,
    "vault": b'{"backend": "vault"}',
    "file": b'{"backend": "file"}',
    "upper-case": b'{"backend": "VAULT"}',
    "null": b'{"backend": null}',
    "no backend": b'{"other": 1}',
    "a list": b'["vault"]',
    "a string": b'"vault"',
    "invalid JSON": b'{"backend": "vault"',
    "empty": b"",
    "a UTF-8 BOM": b'\xef\xbb\xbf{"backend": "vault"}',
    "UTF-16": '{"backend": "vault"}'.encode("utf-16"),
    "not UTF-8": b'{"backend": "vault", "x": "\xff"}',
    "a folder": "folder",
}


def _factory_uses_vault(environ) -> bool:
    """Whether the factory's store is the vault store; a setting it refuses means no store."""
    from authsome.errors import AuthsomeError
    from authsome.factory import Context

    try:
        return Context(environ).backend.value == "vault"
    except AuthsomeError:
        return False


def _suits_and_factory(tmp_path, backend, config):
    """(TabContext.suits, whether the factory's store is not the vault store) for one home."""
    from authsome.services.complete import TabContext

    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "config.json").unlink(missing_ok=True)  # hypothesis reuses tmp_path
    if config == "folder":
        (home / "config.json").mkdir()
    elif config is not None:
        (home / "config.json").write_bytes(config)
    environ = {"AUTHSOME_HOME": str(home), "HOME": str(tmp_path)}
    if backend is not None:
        environ["AUTHSOME_BACKEND"] = backend
    return TabContext.suits(environ), not _factory_uses_vault(environ)


@pytest.mark.parametrize("config", _CONFIGS.values(), ids=_CONFIGS.keys())
@pytest.mark.parametrize("backend", _BACKENDS)
def test_tab_finds_the_vault_store_where_the_factory_does(tmp_path, backend, config):
    """Tab reads the backend without settings.py (TabContext.suits); it must leave to the
    factory exactly the homes whose store settings.resolve_backend makes the vault store."""
    suits, not_vault = _suits_and_factory(tmp_path, backend, config)
    assert suits == not_vault


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(("vault", "file", "VAULT", "")),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=4,
)


@pytest.mark.slow
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    backend=st.none() | st.sampled_from(_BACKENDS[1:]) | st.text(max_size=8),
    config=st.one_of(
        st.none(),
        st.binary(max_size=30),
        st.builds(lambda value: json.dumps({"backend": value}).encode(), _JSON),
        st.builds(lambda value: json.dumps(value).encode(), _JSON),
    ),
)
def test_tab_and_the_factory_agree_on_any_backend_setting(tmp_path, backend, config):
    """The same over any AUTHSOME_BACKEND and any config.json, valid JSON or not."""
    suits, not_vault = _suits_and_factory(tmp_path, backend, config)
    assert suits == not_vault
