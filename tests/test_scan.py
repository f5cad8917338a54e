"""`authsome scan`: plaintext credentials in a project's env files and the environment, with
the bundled providers; `--import` stores them, `--rewrite` puts references in the files with
every other byte kept; then `run --env-file .env` works from the references (README's three
commands)."""

import json
import os
import shlex
import stat
from pathlib import Path

import pytest
from clitools import run

OPENAI = "sk-scan-0123456789abcdefghijklmn"
ANTHROPIC = "sk-ant-scan0123456789abcdefghij"
GROQ = "gsk_scan0123456789abcdefghijk"
# Comments, blank lines, export, quotes of each kind, a CRLF line, a reference, an empty value.
DOTENV = (
    "# the project's settings\n"
    f'export OPENAI_API_KEY="{OPENAI}"   # from the dashboard\n'
    "\n"
    "PORT=3000\r\n"
    f"MY_CLAUDE='{ANTHROPIC}'\n"
    "GROQ_API_KEY=authsome://groq/api_key\n"
    "ELEVENLABS_API_KEY=\n"
    "NAME='not a key'\n"
)
EXPECTED = DOTENV.replace(OPENAI, "authsome://openai/api_key").replace(
    ANTHROPIC, "authsome://anthropic/api_key"
)


def _clean(env: dict[str, str]) -> dict[str, str]:
    """`env` without what scan would find in it: the runner's own tokens stay out."""
    from authsome.factory import Context
    from authsome.services.scan import Matcher

    matcher = Matcher(Context(env).registry)
    return {k: v for k, v in env.items() if not matcher.provider_of(k, v)}


@pytest.fixture
def project(file_env, tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / ".env").write_bytes(DOTENV.encode())
    (folder / ".env").chmod(0o644)
    (folder / ".env.local").write_text(f"OPENAI_API_KEY={OPENAI}\n")
    (folder / ".env.example").write_text("OPENAI_API_KEY=sk-your-key-here-0123456789\n")
    return folder, _clean(file_env)


def _scan(args, env, folder, **kw):
    return run(["scan", *args], env, cwd=folder, **kw)


def _rows(out) -> list[tuple]:
    return [(r["file"], r["line"], r["variable"], r["provider"], r["state"])
            for r in json.loads(out.stdout)]  # fmt: skip


def test_scan_names_where_each_plaintext_key_is_and_never_its_value(project):
    folder, env = project
    out = _scan(["--json"], {**env, "GROQ_API_KEY": GROQ}, folder)
    assert out.returncode == 11, out.stderr
    assert _rows(out) == [
        (".env", 2, "OPENAI_API_KEY", "openai", "not stored"),
        (".env", 5, "MY_CLAUDE", "anthropic", "not stored"),  # by its key pattern
        (".env.local", 1, "OPENAI_API_KEY", "openai", "not stored"),
        ("(environment)", None, "GROQ_API_KEY", "groq", "not stored"),
    ]
    table = _scan([], env, folder)
    assert table.stdout.splitlines()[0].split() == ["FILE", "LINE", "VARIABLE", "PROVIDER", "STATE"]
    for secret in (OPENAI, ANTHROPIC, GROQ):
        assert secret not in out.stdout + out.stderr + table.stdout + table.stderr


def test_nothing_found_is_exit_0(project):
    folder, env = project
    out = _scan([str(folder / ".env.example"), str(folder / "nothing-here")], env, folder)
    assert (out.returncode, out.stdout) == (2, "")  # a missing file is said
    (folder / "clean").mkdir()
    (folder / "clean" / ".env").write_text("PORT=1\nOPENAI_API_KEY=authsome://openai/api_key\n")
    out = _scan(["clean"], env, folder)
    assert (out.returncode, out.stdout) == (0, ""), out.stderr


def test_import_and_rewrite_keep_every_other_byte(project):
    folder, env = project
    before = set(os.listdir(folder))
    out = _scan(["--import", "--rewrite"], env, folder)
    assert out.returncode == 0, out.stderr
    assert (folder / ".env").read_bytes() == EXPECTED.encode()
    assert (folder / ".env.local").read_text() == "OPENAI_API_KEY=authsome://openai/api_key\n"
    assert stat.S_IMODE((folder / ".env").stat().st_mode) == 0o644
    assert set(os.listdir(folder)) == before  # no backup, no temp file left
    for name in before - {".env.example"}:
        data = (folder / name).read_bytes()
        assert OPENAI.encode() not in data and ANTHROPIC.encode() not in data
    assert "git log --oneline -S" in out.stderr and OPENAI not in out.stdout + out.stderr
    assert run(["token", "openai"], env).stdout.strip() == OPENAI
    assert run(["token", "anthropic"], env).stdout.strip() == ANTHROPIC
    again = _scan([], env, folder)
    assert (again.returncode, again.stdout) == (0, "")


def test_a_key_that_fails_its_pattern_or_differs_is_not_imported_without_force(project):
    folder, env = project
    (folder / ".env.local").write_text("OPENAI_API_KEY=sk-short\n")
    out = _scan(["--import", "--rewrite", ".env.local"], env, folder)
    assert out.returncode == 11
    assert "does not look like an API key for OpenAI" in out.stdout
    assert (folder / ".env.local").read_text() == "OPENAI_API_KEY=sk-short\n"
    assert "sk-short" not in out.stdout + out.stderr
    other = "sk-other-0123456789abcdefghijklm"
    assert run(["login", "openai"], env, input=other + "\n").returncode == 0
    out = _scan(["--json", ".env"], env, folder)
    assert _rows(out)[0][4] == "stored, different"
    out = _scan(["--import", "--rewrite", ".env"], env, folder)
    assert out.returncode == 11 and "--force replaces it" in out.stdout
    assert run(["token", "openai"], env).stdout.strip() == other
    out = _scan(["--import", "--rewrite", "--force", ".env"], env, folder)
    assert out.returncode == 0, out.stderr
    assert run(["token", "openai"], env).stdout.strip() == OPENAI


def _readme_commands() -> list[list[str]]:
    """The README's three commands from a plaintext .env to references, as argv."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("From a plaintext `.env` to one you can commit:\n\n```bash\n")[1]
    lines = block.split("```")[0].splitlines()
    return [shlex.split(line.split("#")[0])[1:] for line in lines]


def test_the_three_readme_commands_take_a_project_off_plaintext(project):
    """scan; scan --import --rewrite; run --env-file .env -- ... (real bash): the command gets
    the key from the reference, and its output shows it concealed."""
    folder, env = project
    assert run(["login", "groq"], env, input=GROQ + "\n").returncode == 0  # .env references it
    scan, imports, run_ = _readme_commands()
    assert run(scan, env, cwd=folder).returncode == 11
    assert run(imports, env, cwd=folder).returncode == 0
    script = 'test "$OPENAI_API_KEY" = "$1" && echo same; echo "$PORT $OPENAI_API_KEY"'
    command = [*run_[: run_.index("--") + 1], "bash", "-c", script, "-", OPENAI]
    out = run(command, env, cwd=folder)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "same\n3000 <concealed by authsome>\n"


def test_a_locked_store_leaves_the_states_unknown_and_asks_nothing(project):
    """A pre-commit hook or CI step runs scan unattended: the findings still count."""
    folder, env = project
    assert run(["login", "openai"], env, input=OPENAI + "\n").returncode == 0
    locked = {k: v for k, v in env.items() if k != "AUTHSOME_SESSION"}
    out = _scan(["--json", ".env.local"], locked, folder)
    assert out.returncode == 11 and "locked" in out.stderr
    assert _rows(out) == [(".env.local", 1, "OPENAI_API_KEY", "openai", "unknown")]
    assert _scan(["--import", ".env.local"], locked, folder).returncode == 4


def test_import_into_a_named_connection_writes_its_reference(project):
    folder, env = project
    (folder / ".env.staging").write_text(f"OPENAI_API_KEY={OPENAI}\n")
    out = _scan(["--import", "--rewrite", "--connection", "work", ".env.staging"], env, folder)
    assert out.returncode == 0, out.stderr
    assert (
        folder / ".env.staging"
    ).read_text() == "OPENAI_API_KEY=authsome://openai:work/api_key\n"
    assert run(["token", "openai:work"], env).stdout.strip() == OPENAI
    assert 'authsome token openai:work)" -- .env.staging' in out.stderr
