"""What a shell holds across `authsome env` runs and prompts, typed into real shells on real
terminals (tmux): `env NAMES` adds to the shell, and the prompt hook never asks for a
passphrase, keeping what still works while the vault is locked."""

import re
import subprocess
import time
from pathlib import Path

import conftest
import pytest
from clitools import installed_env, run
from conftest import TEST_PASSPHRASE
from realparts import require
from tmuxrun import Tmux

OPENAI_KEY = "sk-0123456789abcdefghijklmn"
POSIX_SHOW = (
    'show() { echo "V:T=${TESTSRV_TOKEN:+set}|O=${OPENAI_API_KEY:+set}|G=${GIZMO_KEY:+set}'
    '|R=$AUTHSOME_REFS|F=$AUTHSOME_REFRESH_AT|E=$AUTHSOME_EXPIRES_AT"; }'
)
FISH_SHOW = """function show
    set -l t; set -q TESTSRV_TOKEN; and set t set
    set -l o; set -q OPENAI_API_KEY; and set o set
    set -l g; set -q GIZMO_KEY; and set g set
    echo "V:T=$t|O=$o|G=$g|R=$AUTHSOME_REFS|F=$AUTHSOME_REFRESH_AT|E=$AUTHSOME_EXPIRES_AT"
end"""
DUE = {"fish": "set -gx AUTHSOME_REFRESH_AT 1"}  # the others: AUTHSOME_REFRESH_AT=1
LOCKED = {"fish": "is locked. Run: authsome unlock --shell fish | source"}
POSIX_LOCKED = 'is locked. Run: eval "$(authsome unlock)"'


def env_line(shell: str, args: str) -> str:
    return f"authsome env {args} | source" if shell == "fish" else f'eval "$(authsome env {args})"'


@pytest.fixture
def terminal_env(env, tmp_path):
    """The encrypted file, unlocked for the login (the kernel keyring, as outside tests);
    PATH finds authsome as after an install. A shell started here has no passphrase."""
    e = {**installed_env(env, tmp_path), "SHELL": require("bash"), "TERM": "xterm"}
    yield e
    run(["lock"], e)


def login(e: dict, template, *refs: str) -> None:
    """Log in to `refs` in a new home through a session of this function's own: the vault is a
    copy of conftest's template, whose key is known, so no scrypt runs. The session is shared
    with no shell; they are unlocked by `unlock` below."""
    session = conftest.unlock({**e, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE}, template)
    for ref in refs:
        keys = {"OPENAI_API_KEY": OPENAI_KEY, "GIZMO_KEY": "gz-key"}
        out = run(["login", ref], {**session, **keys})
        assert out.returncode == 0, out.stderr


def unlock(e: dict) -> None:
    """`eval "$(authsome unlock)"` in another terminal: every shell of the login is unlocked."""
    out = subprocess.run(
        [require("bash"), "-c", 'eval "$(authsome unlock)"'],
        env={**e, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE},
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert out.returncode == 0, out.stderr


def start_file(tmp: Path, shell: str, startup: list[str]) -> str:
    """The command that starts `shell` with a start-up file holding `startup` (POSIX lines;
    fish's are made from them), a `show` function and a prompt that says READY."""
    folder = tmp / shell
    folder.mkdir(exist_ok=True)
    lines = [x.replace("SHELL", shell) for x in startup if shell != "dash" or "hook" not in x]
    if shell == "fish":
        lines = [re.sub(r'^eval "\$\((.*)\)"$', r"\1 | source", x) for x in lines]
        lines += [FISH_SHOW, "function fish_prompt; echo -n 'READY> '; end"]
        (folder / "fish").mkdir(exist_ok=True)
        (folder / "fish" / "config.fish").write_text("\n".join(lines) + "\n")
        return f"env XDG_CONFIG_HOME={folder} {require('fish')}"
    rc = folder / (".zshrc" if shell == "zsh" else ".rc")
    rc.write_text("\n".join([*lines, POSIX_SHOW, "PS1='READY> '"]) + "\n")
    return {
        "bash": f"{require('bash')} --rcfile {rc} -i",
        "zsh": f"env ZDOTDIR={folder} {require('zsh')} -i",
        "dash": f"env ENV={rc} {require('dash')} -i",
    }[shell]


def show(tmux: Tmux, window: str) -> dict[str, str]:
    """What the shell holds: T, O, G set or not, R the refs, F and E the bookkeeping times."""
    screen = tmux.run(window, "show", "V:T=")
    line = screen[screen.rindex("V:T=") :].splitlines()[0]
    return dict(pair.split("=", 1) for pair in line.removeprefix("V:").split("|"))


def wait_past(epoch: str) -> None:
    """Wait until the clock has passed `epoch` (a token's expiry, a refresh's due time)."""
    while time.time() <= int(epoch):
        time.sleep(0.2)


@pytest.mark.slow  # ten seconds or more: its module starts early (conftest.py)
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "dash"])
def test_env_adds_to_the_shell_and_a_failing_name_unsets_nothing(
    shell, testsrv, terminal_env, tmp_path, install_provider, vault_template
):
    install_provider(
        {
            "name": "gizmo",
            "auth_type": "api_key",
            "api_key": {"env_var": "GIZMO_KEY"},
            "export": {"env": {"api_key": "GIZMO_KEY"}},
        }
    )
    testsrv.state.access_expires_in = 20  # the hook's refresh is due after 10 s
    login(terminal_env, vault_template, "openai", "gizmo", "testsrv")
    unlock(terminal_env)
    tmux = Tmux(tmp_path, terminal_env)
    tmux.start({shell: start_file(tmp_path, shell, ['eval "$(authsome hook SHELL)"'])})
    w = f"t:{shell}"
    try:
        tmux.wait_for(w, "READY> ")
        for args in ("openai", "gizmo"):
            tmux.type(w, env_line(shell, args), "Enter")
        assert show(tmux, w) | {"F": "", "E": ""} == {
            "T": "", "O": "set", "G": "set", "R": "openai gizmo", "F": "", "E": ""
        }  # fmt: skip
        # A typo says so once and changes nothing.
        tmux.type(w, env_line(shell, "opnai"), "Enter")
        assert show(tmux, w)["R"] == "openai gizmo"
        screen = tmux.wait_for(w, "skipped opnai")
        assert screen.count("skipped opnai") == 1 and show(tmux, w)["G"] == "set"
        # Removing is explicit, and by name.
        tmux.type(w, env_line(shell, "--unset openai"), "Enter")
        held = show(tmux, w)
        assert (held["O"], held["G"], held["R"]) == ("", "set", "gizmo")
        tmux.type(w, env_line(shell, "--unset"), "Enter")
        held = show(tmux, w)
        assert (held["O"], held["G"], held["R"]) == ("", "", "")
        if shell == "dash":
            return  # no prompt hook in dash
        # The hook refreshes the union: testsrv, then openai added.
        for args in ("testsrv", "openai"):
            tmux.type(w, env_line(shell, args), "Enter")
        held = show(tmux, w)
        assert (held["T"], held["O"], held["R"]) == ("set", "set", "testsrv openai")
        refreshed = testsrv.state.count("/token", "refresh_token")
        wait_past(held["F"])
        tmux.type(w, "Enter")  # the hook runs before the prompt after it
        held = show(tmux, w)
        assert (held["T"], held["O"], held["R"]) == ("set", "set", "testsrv openai")
        assert testsrv.state.count("/token", "refresh_token") == refreshed + 1
        assert "assphrase" not in tmux.screen(w)
    finally:
        tmux.kill()


@pytest.mark.slow  # ten seconds or more: its module starts early (conftest.py)
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_hook_with_a_locked_vault_never_asks_and_keeps_what_still_works(
    shell, testsrv, terminal_env, tmp_path, vault_template
):
    """Locked after start-up: one line, nothing unset; the token unset only once it expires;
    everything back after an unlock. A shell started while locked: one line, no prompt."""
    testsrv.state.access_expires_in = 16  # room for the prompts before it expires, under load
    login(terminal_env, vault_template, "openai", "testsrv")
    unlock(terminal_env)
    startup = ['eval "$(authsome env testsrv openai)"', 'eval "$(authsome hook SHELL)"']
    tmux = Tmux(tmp_path, terminal_env)
    tmux.start({shell: start_file(tmp_path, shell, startup)})
    w, due = f"t:{shell}", DUE.get(shell, "AUTHSOME_REFRESH_AT=1")
    locked = LOCKED.get(shell, POSIX_LOCKED)
    try:
        tmux.wait_for(w, "READY> ")
        assert run(["lock"], terminal_env).returncode == 0
        for _ in range(3):  # due at three prompts: one line, the first time
            tmux.type(w, due, "Enter")
            held = show(tmux, w)
            assert (held["T"], held["O"]) == ("set", "set"), tmux.screen(w)
        screen = tmux.screen(w)
        assert screen.count(locked) == 1, screen
        assert "could not refresh testsrv, openai (retrying every minute)" in screen
        wait_past(held["E"])  # the token has expired: now, and only now, it is unset
        for _ in range(2):
            tmux.type(w, due, "Enter")
            held = show(tmux, w)
            assert (held["T"], held["O"]) == ("", "set"), tmux.screen(w)
        screen = tmux.screen(w)
        assert screen.count("unset TESTSRV_TOKEN: could not refresh testsrv, openai") == 1
        assert screen.count(locked) == 2, screen
        unlock(terminal_env)
        tmux.type(w, due, "Enter")
        held = show(tmux, w)
        assert (held["T"], held["O"], held["R"]) == ("set", "set", "testsrv openai")
        screen = tmux.screen(w)
        assert screen.count(locked) == 2 and "assphrase" not in screen, screen
        # A new shell while the vault is locked: one line, then the rest of its start-up file.
        assert run(["lock"], terminal_env).returncode == 0
        tmux("new-window", "-t", "t", "-n", "again", start_file(tmp_path, shell, startup))
        screen = tmux.wait_for("t:again", "READY> ")
        assert screen.count("authsome: skipped testsrv, openai: the encrypted file") == 1, screen
        assert screen.count(locked) == 1 and "assphrase" not in screen, screen
    finally:
        tmux.kill()
