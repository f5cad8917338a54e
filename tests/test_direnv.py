"""`use authsome` in a real direnv: loaded on `cd` into the project, unloaded on leaving.

The library is the one `authsome hook direnv` prints, installed in a temporary
XDG_CONFIG_HOME; the store is the encrypted file with an unlocked session.
"""

import json
import subprocess
from pathlib import Path

import pytest
from clitools import AUTHSOME_BIN, HOSTILE_PROVIDER, login_keys, run
from ptyrun import PtyProcess
from realparts import require

pytestmark = pytest.mark.real

# Every character a shell treats specially; no control character (tab, newline): a stored
# secret must be printable text (#24 item 8), and the quoting of those is held by test_quoting.
HOSTILE = "a'b\"c $HOME `id` $(id) \\ ! % ünï 🔑 ;second line; rm -rf ~"
OPENAI_KEY = "sk-0123456789abcdefghijklmn"
LOCKED = 'is locked. Run: eval "$(authsome unlock)"'


@pytest.fixture
def direnv_env(unlocked_env, install_provider, tmp_path):
    """hostile and openai logged in; direnv's config and data folders of this test's own."""
    install_provider(HOSTILE_PROVIDER)
    keys = [("hostile", "HOSTILE_KEY", HOSTILE), ("openai", "OPENAI_API_KEY", OPENAI_KEY)]
    login_keys(unlocked_env, keys)
    e = {k: v for k, v in unlocked_env.items() if not k.startswith("DIRENV_")}
    e.update(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PATH=f"{Path(require('direnv')).parent}:{e.get('PATH', '/usr/bin:/bin')}",
    )
    lib = tmp_path / "config" / "direnv" / "lib"
    lib.mkdir(parents=True)
    out = run(["hook", "direnv"], e)
    assert out.returncode == 0, out.stderr
    (lib / "authsome.sh").write_text(out.stdout)
    return e


def project(tmp_path: Path, env: dict, envrc: str) -> Path:
    """A folder whose .envrc is `envrc`, allowed."""
    folder = tmp_path / "project"
    folder.mkdir(exist_ok=True)
    (folder / ".envrc").write_text(envrc)
    out = subprocess.run(
        [require("direnv"), "allow", str(folder)], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return folder


DUMP = "import json, os; print(json.dumps({k: os.environ.get(k) for k in %r}))"


def direnv_exec(folder: Path, env: dict, names: list[str]) -> tuple[dict, str]:
    out = subprocess.run(
        [require("direnv"), "exec", str(folder), "python3", "-c", DUMP % (names,)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout), out.stderr


def test_library_names_the_absolute_path(direnv_env, tmp_path):
    text = (tmp_path / "config" / "direnv" / "lib" / "authsome.sh").read_text()
    assert "use_authsome()" in text and "@AUTHSOME@" not in text
    assert f"setsid -w '{AUTHSOME_BIN}' env --shell bash" in text
    # It hides every bookkeeping variable of the shell's own `env` from authsome.
    from authsome.services.env import BOOKKEEPING

    unset = next(
        line.split()[1:] for line in text.splitlines() if line.strip().startswith("unset ")
    )
    assert sorted(unset) == sorted(BOOKKEEPING)


def test_direnv_exec_exports_the_connections(direnv_env, tmp_path):
    folder = project(tmp_path, direnv_env, "use authsome hostile openai\n")
    got, stderr = direnv_exec(folder, direnv_env, ["HOSTILE_KEY", "OPENAI_API_KEY"])
    assert got == {"HOSTILE_KEY": HOSTILE, "OPENAI_API_KEY": OPENAI_KEY}
    assert "using authsome hostile openai" in stderr
    assert OPENAI_KEY not in stderr


def test_export_prints_only_what_direnv_evaluates(direnv_env, tmp_path):
    """direnv's own hook evaluates `direnv export`: its stdout must be exactly the diff."""
    folder = project(tmp_path, direnv_env, "use authsome openai\n")
    out = subprocess.run(
        [require("direnv"), "export", "json"],
        cwd=folder,
        env=direnv_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["OPENAI_API_KEY"] == OPENAI_KEY


def test_partial_failure_exports_what_it_can_and_the_envrc_goes_on(direnv_env, tmp_path):
    envrc = "use authsome hostile github\nexport AFTER=ran\n"
    folder = project(tmp_path, direnv_env, envrc)
    got, stderr = direnv_exec(folder, direnv_env, ["HOSTILE_KEY", "AFTER", "GITHUB_TOKEN"])
    assert got == {"HOSTILE_KEY": HOSTILE, "AFTER": "ran", "GITHUB_TOKEN": None}
    skipped = [line for line in stderr.splitlines() if line.startswith("authsome:")]
    assert len(skipped) == 1 and "skipped github" in skipped[0], stderr


def test_the_shells_own_exports_are_left_alone(direnv_env, tmp_path):
    """A shell that ran `eval "$(authsome env hostile)"`: the project's names do not unset it."""
    code = run(["env", "--shell", "bash", "hostile"], direnv_env).stdout
    shell = subprocess.run(
        ["bash", "-c", code + "\nenv -0"], env=direnv_env, capture_output=True, timeout=60
    )
    inherited = dict(
        item.split("=", 1) for item in shell.stdout.decode().split("\0") if "=" in item
    )
    folder = project(tmp_path, inherited, "use authsome openai\n")
    got, _ = direnv_exec(folder, inherited, ["HOSTILE_KEY", "OPENAI_API_KEY", "AUTHSOME_REFS"])
    assert got == {"HOSTILE_KEY": HOSTILE, "OPENAI_API_KEY": OPENAI_KEY, "AUTHSOME_REFS": "openai"}


PROMPT = "@@authsome-test-ready@@ "
HOOK_SESSION = """\
eval "$(direnv hook bash)"
cd {project}
printf '%s' "${{HOSTILE_KEY-unset}}" > {out}/inside
cd {outside}
printf '%s' "${{HOSTILE_KEY-unset}}" > {out}/outside
printf 'session-%s\\n' done
"""


def bash_in_a_terminal(env: dict, script: str, tmp_path: Path) -> PtyProcess:
    """An interactive bash on a real terminal that runs `script` line by line at its prompts."""
    # A prompt that nothing else prints: a line is typed only once bash waits for it, after
    # the direnv hook has run, never ahead into a program that could read it ("$ " matched
    # early under load, and a line typed ahead was lost).
    rc = tmp_path / "bashrc"
    rc.write_text(f"PS1='{PROMPT}'\n")
    shell = PtyProcess([require("bash"), "--noprofile", "--rcfile", str(rc), "-i"], env)
    # expect_next: each prompt after the last one, not the first prompt found again.
    shell.expect_next(PROMPT.encode())
    for line in script.splitlines():
        shell.send(line.encode() + b"\n")
        shell.expect_next(PROMPT.encode())
    return shell


def test_the_hook_loads_on_cd_in_and_unloads_on_cd_out(direnv_env, tmp_path):
    folder = project(tmp_path, direnv_env, "use authsome hostile\n")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    script = HOOK_SESSION.format(project=folder, outside=outside, out=out)
    shell = bash_in_a_terminal({**direnv_env, "TERM": "dumb"}, script, tmp_path)
    try:
        shell.expect(b"session-done")
    finally:
        shell.close()
    assert (out / "inside").read_text() == HOSTILE
    assert (out / "outside").read_text() == "unset"
    assert b"direnv: unloading" in shell.screen


def test_a_locked_vault_is_one_line_and_never_a_prompt(direnv_env, tmp_path):
    """On a real terminal, where authsome could ask for the passphrase, it must not."""
    locked = {k: v for k, v in direnv_env.items() if k != "AUTHSOME_SESSION"}
    locked.pop("XDG_RUNTIME_DIR", None)
    assert "AUTHSOME_PASSPHRASE" not in locked
    folder = project(tmp_path, locked, "use authsome hostile\nexport AFTER=ran\n")
    out = tmp_path / "out"
    out.mkdir()
    script = (
        'eval "$(direnv hook bash)"\n'
        f"cd {folder}\n"
        f"printf '%s' \"${{HOSTILE_KEY-unset}} ${{AFTER-}}\" > {out}/inside\n"
        "printf 'session-%s\\n' done\n"
    )
    shell = bash_in_a_terminal({**locked, "TERM": "dumb"}, script, tmp_path)
    try:
        shell.expect(b"session-done", timeout=30)
    finally:
        shell.close()
    screen = shell.screen.decode(errors="replace")
    assert "Passphrase" not in screen
    assert screen.count(LOCKED) == 1, screen
    assert (out / "inside").read_text() == "unset ran"


def test_use_authsome_with_an_env_file_resolves_its_references(direnv_env, tmp_path):
    """#28 item 7: `use authsome --env-file .env` exports the file, references resolved, as
    `run --env-file` gives them; a bad reference is one line and exports nothing of the file."""
    # strict_env: nounset and errexit, which the library must survive (empty NAMES).
    folder = project(tmp_path, direnv_env, "strict_env\nuse authsome --env-file .env\n")
    (folder / ".env").write_text(
        "# no secret in this file\n"
        "OPENAI_API_KEY=authsome://openai/api_key\n"
        "export H='authsome://hostile/api_key'  # quoted\n"
        'PLAIN="two words"\n'
    )
    names = ["OPENAI_API_KEY", "H", "PLAIN"]
    values, _ = direnv_exec(folder, direnv_env, names)
    assert values == {"OPENAI_API_KEY": OPENAI_KEY, "H": HOSTILE, "PLAIN": "two words"}

    (folder / ".env").write_text("PLAIN=x\nBAD=authsome://openai/access_token\n")
    values, err = direnv_exec(folder, direnv_env, names)  # the file is watched: reloaded
    assert values == dict.fromkeys(names)
    assert "authsome: .env:2: BAD: openai has no access_token. Reference one of: api_key" in err
