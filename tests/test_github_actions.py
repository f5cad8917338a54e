"""`authsome env --format github-actions`: $GITHUB_ENV read back by GitHub's own grammar, and
the masks on stdout, first and one per line of each value."""

import io

import pytest
from clitools import HOSTILE_PROVIDER, login_keys, run
from hypothesis import given
from hypothesis import strategies as st

from authsome.formats import github_actions

# What GitHub's grammar treats specially, on one line: a stored secret is printable text
# (#24 item 8); multi-line values are held by the format's own round-trip test below.
HOSTILE = "a'b\"c $HOME `id` % %0A ::add-mask:: ünï 🔑 second line; rm -rf ~ X<<EOF last"
OPENAI_KEY = "sk-0123456789abcdefghijklmn"


def parse_github_env(text: str) -> dict[str, str]:
    """$GITHUB_ENV as the runner reads it (actions/runner SetEnvFileCommand): NAME=value lines,
    and NAME<<DELIMITER heredocs whose value is every line up to the delimiter line. Lines end
    at \n, as the runner on Linux splits them."""
    values = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if line == "":
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            values[line[:equals]] = line[equals + 1 :]
            continue
        assert heredoc > 0, f"not a NAME=value or NAME<<DELIMITER line: {line!r}"
        name, delimiter = line[:heredoc], line[heredoc + 2 :]
        body = []
        for row in lines:
            if row == delimiter:
                break
            body.append(row)
        else:
            raise AssertionError(f"{name}: no line {delimiter!r} ends its value")
        values[name] = "\n".join(body)
    return values


def unescape(data: str) -> str:
    """What the runner masks for `::add-mask::DATA` (it unescapes %25, %0D and %0A)."""
    return data.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


@pytest.fixture
def logged_in(file_env, install_provider):
    install_provider(HOSTILE_PROVIDER)
    keys = [("hostile", "HOSTILE_KEY", HOSTILE), ("openai", "OPENAI_API_KEY", OPENAI_KEY)]
    login_keys(file_env, keys)
    return file_env


def test_values_round_trip_through_githubs_grammar(logged_in, tmp_path):
    github_env = tmp_path / "github_env"
    github_env.write_text("EARLIER=kept\n")  # an earlier step's line: appended to, not replaced
    e = {**logged_in, "GITHUB_ENV": str(github_env)}
    out = run(["env", "--format", "github-actions", "hostile", "openai"], e)
    assert out.returncode == 0, out.stderr
    assert parse_github_env(github_env.read_bytes().decode()) == {
        "EARLIER": "kept",
        "HOSTILE_KEY": HOSTILE,
        "OPENAI_API_KEY": OPENAI_KEY,
    }
    # No bookkeeping: nothing in a job re-runs `authsome env` from it.
    assert "AUTHSOME_" not in github_env.read_bytes().decode()


def test_masks_come_first_one_per_line_of_each_value(logged_in, tmp_path):
    e = {**logged_in, "GITHUB_ENV": str(tmp_path / "github_env")}
    out = run(["env", "--format", "github-actions", "hostile", "openai"], e)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert all(line.startswith("::add-mask::") for line in lines), out.stdout
    masked = [unescape(line.removeprefix("::add-mask::")) for line in lines]
    expected = [line.rstrip("\r") for line in HOSTILE.split("\n") if line.rstrip("\r")]
    assert masked == [*expected, OPENAI_KEY]
    # Nothing else the runner would print unmasked: no value on stdout or stderr.
    assert OPENAI_KEY not in out.stderr and "second line" not in out.stderr


def test_masks_are_printed_before_the_file_is_written(logged_in, tmp_path):
    from authsome.factory import Context
    from authsome.services import env as env_service

    github_env = tmp_path / "github_env"
    github_env.write_text("")
    seen = []

    class Stdout(io.StringIO):
        def flush(self):
            seen.append((self.getvalue().count("::add-mask::"), github_env.read_bytes().decode()))

    ctx = Context({**logged_in, "GITHUB_ENV": str(github_env)}, stdout=Stdout())
    assert env_service.run(ctx, ["openai"], fmt="github-actions") is None
    assert seen == [(1, "")]
    assert parse_github_env(github_env.read_bytes().decode()) == {"OPENAI_API_KEY": OPENAI_KEY}


def test_no_github_env_is_one_line_with_the_fix_and_reads_nothing(logged_in, tmp_path):
    e = {k: v for k, v in logged_in.items() if k not in ("AUTHSOME_SESSION", "GITHUB_ENV")}
    e["AUTHSOME_PASSPHRASE"] = "wrong"  # were the store opened, this would say so instead
    out = run(["env", "--format", "github-actions", "openai"], e)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1, out.stderr
    assert "$GITHUB_ENV" in out.stderr and "--format dotenv" in out.stderr


def test_an_unwritable_github_env_is_a_filesystem_error(logged_in, tmp_path):
    e = {**logged_in, "GITHUB_ENV": str(tmp_path / "missing" / "github_env")}
    out = run(["env", "--format", "github-actions", "openai"], e)
    assert out.returncode == 12, out.stderr
    assert out.stderr.count("\n") == 1 and "GITHUB_ENV" in out.stderr


def test_a_delimiter_found_in_the_value_is_drawn_again():
    tokens = iter(["aaaa", "aaaa", "bbbb"])
    value = "x\nghadelimiter_aaaa\ny"
    text = github_actions.entry("NAME", value, token=lambda: next(tokens))
    assert text == "NAME<<ghadelimiter_bbbb\nx\nghadelimiter_aaaa\ny\nghadelimiter_bbbb\n"
    assert parse_github_env(text) == {"NAME": value}


def test_delimiters_are_random():
    assert github_actions.entry("A", "v") != github_actions.entry("A", "v")


@given(
    values=st.dictionaries(
        st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True),
        st.text(alphabet=st.sampled_from("ab=<%\n\r :_") | st.characters(), max_size=30)
        | st.sampled_from(["ghadelimiter_", "EOF", "\n\n", "X<<Y\nY"]),
        max_size=4,
    )
)
def test_hostile_values_round_trip(values):
    """Any value, newlines and carriage returns included; every line of it is masked."""
    text = "".join(github_actions.entry(k, v) for k, v in values.items())
    assert parse_github_env(text) == values
    masks = github_actions.mask_lines(values)
    for value in values.values():
        for line in value.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
            assert not line or line in masks
