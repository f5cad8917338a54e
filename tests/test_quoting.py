"""Quoting: any string round-trips through eval in real bash, zsh, fish and dash."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shellrun import roundtrip

from authsome import shells

HOSTILE = [
    "",
    "plain",
    "it's",
    "'",
    "''",
    '"double" quotes',
    "$HOME ${HOME} $(id) `id`",
    "back\\slash\\",
    "\\'",
    "\\\\'\\",
    "new\nline\n",
    "\ttab\t",
    "!bang !! !$",
    "100% %s %d",
    "ünïcödé ✓ 🔑 ‮rtl",
    "; rm -rf ~ #",
    "a\rb",
    "-n",
    "--",
    "{a,b} * ? [x] ~",
    "$'\\x41'",
    "\u2018smart\u2019 \u201aquotes\u201b",
    "line1\nexport EVIL=1\n",
    "end with backslash \\",
]
SHELLS = ["bash", "zsh", "fish", "sh"]


def _check(shell, values, tmp_path):
    dialect = shells.get(shell)
    names = [f"V{i}" for i in range(len(values))]
    code = shells.script(dialect, dict(zip(names, values, strict=True)))
    got = roundtrip(shell, code, names, tmp_path)
    assert [got[n] for n in names] == values


@pytest.mark.parametrize("shell", SHELLS)
def test_hostile_table_round_trips(shell, tmp_path):
    _check(shell, HOSTILE, tmp_path)


# Environment values cannot hold NUL, and must be encodable as UTF-8.
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)


@pytest.mark.parametrize("shell", SHELLS)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(TEXT, min_size=1, max_size=12))
def test_any_text_round_trips(shell, values, tmp_path_factory):
    _check(shell, values, tmp_path_factory.mktemp("q"))


def test_pwsh_doubles_every_single_quote():
    pwsh = shells.get("pwsh")
    assert pwsh.quote("it's \u2019x\u2019") == "'it''s \u2019\u2019x\u2019\u2019'"
    assert pwsh.export("A", "v") == "$env:A = 'v'"


def test_fish_quote_is_not_posix_quote():
    assert shells.get("fish").quote("a\\'b") == "'a\\\\\\'b'"
    assert shells.get("bash").quote("a\\'b") == "'a\\'\\''b'"


@pytest.mark.parametrize(
    "shell_env,expected",
    [
        ("/bin/bash", "bash"),
        ("/usr/bin/zsh", "zsh"),
        ("-zsh", "zsh"),
        ("/usr/bin/fish", "fish"),
        ("/bin/dash", "sh"),
        ("/usr/bin/pwsh", "pwsh"),
        ("", "sh"),
        ("/opt/weird", "sh"),
    ],
)
def test_detect_falls_back_to_dollar_shell(shell_env, expected):
    assert shells.detect({"SHELL": shell_env}, parent="python3") == expected


@pytest.mark.parametrize(
    "parent,expected",
    [("fish", "fish"), ("bash", "bash"), ("zsh", "zsh"), ("-bash", "bash"), ("dash", "sh")],
)
def test_detect_prefers_the_parent_shell(parent, expected):
    assert shells.detect({"SHELL": "/usr/bin/pwsh"}, parent=parent) == expected


def test_dotenv_round_trips_through_python_dotenv(tmp_path):
    from dotenv import dotenv_values

    from authsome.formats import dotenv

    values = {f"V{i}": v for i, v in enumerate(HOSTILE) if "\r" not in v}
    path = tmp_path / ".env"
    path.write_text(shells.script(dotenv, values), encoding="utf-8")
    # python-dotenv expands ${VAR} even inside single quotes, and has no escape for it.
    assert dotenv_values(path, interpolate=False) == values
    plain = {k: v for k, v in values.items() if "${" not in v}
    assert {k: v for k, v in dotenv_values(path).items() if k in plain} == plain
    assert dotenv.unsafe_for_docker(values) == sorted(
        k for k, v in values.items() if "\n" in v or "${" in v or dotenv.quote(v) != v
    )


def test_dotenv_plain_tokens_are_bare_for_docker():
    from authsome.formats import dotenv

    assert dotenv.export("GITHUB_TOKEN", "gho_abc123-._") == "GITHUB_TOKEN=gho_abc123-._"
    # A final newline is kept, quoted, and docker is warned about it.
    assert dotenv.export("GITHUB_TOKEN", "gho_abc\n") == "GITHUB_TOKEN='gho_abc\n'"
    assert dotenv.unsafe_for_docker({"GITHUB_TOKEN": "gho_abc\n"}) == ["GITHUB_TOKEN"]


def test_each_dialect_names_the_hook_and_completion_files_that_ship():
    """`authsome hook` and `authsome completion` offer the shells whose files are in the wheel."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for folder, attribute in (("shell", "HOOK_FILE"), ("completions", "COMPLETION_FILE")):
        named = {getattr(shells.get(n), attribute) for n in shells.supporting(attribute)}
        assert named == {p.name for p in (root / folder).iterdir()}, folder


def test_every_env_format_has_the_same_interface():
    from authsome import formats

    assert formats.NAMES[0] == formats.SHELL  # the default of --format
    for name in formats.NAMES:
        module = formats.get(name)
        assert name == module.NAME
        assert callable(module.render) and callable(module.warnings)
