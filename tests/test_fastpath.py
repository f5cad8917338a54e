"""The click-free `token`, `env` and `list` (authsome.cli.fastpath) say exactly what click says.

Both run in this process through authsome.main.main, against a file store with an unlocked
session; the click run has the fast path turned off. Same stdout, stderr and exit status, and
the fast path answers every form click accepts (else it would silently fall back to click).
"""

import pytest
from clitools import run
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

OPENAI_KEY = "sk-0123456789abcdefghijklmn"
WORDS = (
    # names: connected, connected under another connection, a provider not connected, unknown,
    # not a name at all
    *("openai", "openai:work", "gizmo", "github", "nope", "Bad!", "", "-", "work", "default"),
    *("-c", "--connection", "-cwork", "-c=work", "--connection=work", "--connection="),
    *("--shell", "--shell=fish", "--shell=", "bash", "fish", "pwsh", "tcsh"),
    *("--format", "--format=json", "--format=xml", "json", "dotenv", "shell", "github-actions"),
    "--format=github-actions",
    *("--unset", "--unset=1", "--strict", "--", "--help", "-h", "--bogus", "-x", "--debug"),
    *("--json", "--json=1", "--json=", "-j", "--js"),
    # env files (in the fixture's folder): references resolved, a syntax error, none at all
    *("--env-file", "--env-file=e.env", "e.env", "bad.env", "missing.env", "--env-file="),
)


@pytest.fixture
def connected(unlocked_env, install_provider, monkeypatch):
    """openai, openai:work and gizmo logged in; this process's environment is the shell's."""
    install_provider(
        {
            "name": "gizmo",
            "auth_type": "api_key",
            "api_key": {"env_var": "GIZMO_KEY"},
            "export": {"env": {"api_key": "GIZMO_KEY"}},
        }
    )
    keys = {"openai": OPENAI_KEY, "openai:work": OPENAI_KEY + "-work"}  # which one was used
    for ref in ("openai", "openai:work", "gizmo"):
        key = keys.get(ref, OPENAI_KEY)
        e = {**unlocked_env, "OPENAI_API_KEY": key, "GIZMO_KEY": "gz-key 'quoted' $x"}
        out = run(["login", ref], e)
        assert out.returncode == 0, out.stderr
    home = unlocked_env["HOME"]
    with open(f"{home}/e.env", "w") as f:
        f.write("# a project's .env\nA='one two'\nK=authsome://openai:work/api_key\n")
    with open(f"{home}/bad.env", "w") as f:
        f.write("A=1\nB='never closed\n")
    monkeypatch.chdir(home)
    # Both paths append to the same $GITHUB_ENV; what they print (the masks) must agree.
    github_env = str(unlocked_env["HOME"]) + "/github_env"
    for key, value in {**unlocked_env, "SHELL": "/bin/bash", "GITHUB_ENV": github_env}.items():
        monkeypatch.setenv(key, value)


def _outcome(argv, monkeypatch, capsys, fast: bool):
    """((exit status, stdout, stderr), whether the fast path answered) for `authsome ARGV`."""
    from authsome import main as entry
    from authsome.cli import fastpath

    answered = []
    real = fastpath.run

    def spy(args):
        answered.append(fast)  # an error raised on the fast path is its answer too
        code = real(args) if fast else None
        answered[-1] = answered[-1] and code is not None
        return code

    capsys.readouterr()
    with monkeypatch.context() as m:
        m.setattr(fastpath, "run", spy)
        with pytest.raises(SystemExit) as stop:
            entry.main(list(argv))
    out = capsys.readouterr()
    return (stop.value.code, out.out, out.err), answered == [True]


def _click_refused(outcome) -> bool:
    """click printed help or a usage error: forms the fast path is meant to leave to it."""
    _, stdout, stderr = outcome
    return stdout.startswith("Usage:") or " --help\n" in stderr


def _agree(argv, monkeypatch, capsys) -> bool:
    fast, answered = _outcome(argv, monkeypatch, capsys, fast=True)
    slow, _ = _outcome(argv, monkeypatch, capsys, fast=False)
    assert fast == slow, argv
    assert answered or _click_refused(slow), f"click takes {argv} but the fast path does not"
    return answered


@given(
    command=st.sampled_from(["token", "env", "list"]),
    words=st.lists(st.sampled_from(WORDS) | st.text(alphabet="-=c:aow", max_size=4), max_size=5),
)
@example(command="token", words=["openai", "--connection", "work", "-c", "default"])
@example(command="token", words=["openai", "-c=work"])
@example(command="env", words=["--shell", "fish", "--shell=bash", "gizmo"])
@example(command="env", words=["--", "--strict", "openai"])
@example(command="env", words=["--format", "openai", "--format=json"])  # only the last is checked
@example(command="list", words=["--json", "--", "--json"])  # an extra argument after `--`
@example(command="list", words=["--json", "--json"])
@settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fast_path_never_disagrees_with_click(connected, monkeypatch, capsys, command, words):
    _agree([command, *words], monkeypatch, capsys)


PLAIN = [
    ["token", "openai"],
    ["token", "-c", "work", "openai"],
    ["token", "openai", "--connection=work"],
    ["token", "gizmo"],
    ["token", "github"],
    ["token", "nope"],
    ["env"],
    ["env", "openai", "gizmo"],
    ["env", "openai", "openai:work"],
    ["env", "--strict", "openai", "github"],
    ["env", "openai", "github"],
    ["env", "--shell", "fish", "gizmo"],
    ["env", "--shell=pwsh", "--format", "dotenv", "gizmo"],
    ["env", "--format=json", "openai"],
    ["env", "--format", "github-actions", "openai", "gizmo"],
    ["env", "--unset"],
    ["env", "--", "gizmo"],
    ["env", "--env-file", "e.env"],
    ["env", "gizmo", "--env-file=e.env", "--format", "json"],
    ["env", "--env-file", "e.env", "--env-file", "bad.env"],
    ["env", "--env-file", "missing.env", "openai"],
    ["list"],
    ["list", "--json"],
    ["list", "--json", "--json"],
    ["list", "--"],
]


@pytest.mark.slow
@pytest.mark.parametrize("argv", PLAIN, ids=" ".join)
def test_fast_path_answers_the_plain_forms(connected, monkeypatch, capsys, argv):
    """Not vacuous: these never reach click, and still print what click would."""
    assert _agree(argv, monkeypatch, capsys)


def test_click_commands_take_exactly_the_declared_options():
    """No option added to one side only: click's commands are built from cli/options.py."""
    from authsome.cli import options
    from authsome.cli.root import cli

    for name, spec in options.COMMANDS.items():
        params = cli.get_command(None, name).params
        declared = [(o["dest"], set(o["names"]), o["flag"]) for o in spec["options"]]
        arguments = [(p.name, p.nargs) for p in params if p.param_type_name == "argument"]
        found = [(p.name, set(p.opts), bool(p.is_flag)) for p in params[len(arguments) :]]
        assert found == declared, name
        assert arguments == ([spec["argument"]] if spec["argument"] else []), name


def test_the_declared_choices_are_the_shells_and_formats_themselves():
    from authsome import formats, shells
    from authsome.cli.options import COMMANDS

    by_dest = {o["dest"]: o for o in COMMANDS["env"]["options"]}
    assert tuple(by_dest["shell"]["choices"]) == shells.DIALECTS
    assert tuple(by_dest["fmt"]["choices"]) == formats.NAMES
    assert by_dest["fmt"]["default"] == formats.SHELL


@pytest.mark.parametrize("argv", [["login", "gizmo"], ["logout", "gizmo"], ["inspect", "github"]])
def test_fast_path_runs_only_its_own_commands(argv):
    """login, logout, ... are declared for Tab only: the fast path leaves them to click."""
    from authsome.cli import fastpath, options

    assert argv[0] in options.COMMANDS
    assert fastpath.run(argv) is None
