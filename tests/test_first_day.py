"""The README's shell set-up, tried as a new user would: fresh bash, zsh (empty ZDOTDIR) and
fish started from bash, each a pane of a real tmux, in a home where github is not logged in,
after one unlock in another terminal."""

import subprocess
import time
from pathlib import Path

import pytest
from clitools import AUTHSOME_BIN, run
from conftest import TEST_PASSPHRASE
from realparts import require

OPENAI_KEY = "sk-first-day-0123456789abcdef"
# The README's lines, word for word (README "Shell setup").
README = {
    "bash": [
        'eval "$(authsome completion bash)"',
        'eval "$(authsome env github openai)"',
        'eval "$(authsome hook bash)"',
    ],
    "zsh": [
        'eval "$(authsome completion zsh)"',
        'eval "$(authsome env github openai)"',
        'eval "$(authsome hook zsh)"',
    ],
    "fish": [
        "authsome completion fish | source",
        "authsome env --shell fish github openai | source",
        "authsome hook fish | source",
    ],
}
UNSET = {
    "bash": 'eval "$(authsome env --unset)"',
    "zsh": 'eval "$(authsome env --unset)"',
    "fish": "authsome env --unset --shell fish | source",
}
SHOW = {
    "bash": 'echo "O=${OPENAI_API_KEY:-none}" | cut -c1-8',
    "zsh": 'echo "O=${OPENAI_API_KEY:-none}" | cut -c1-8',
    "fish": 'if set -q OPENAI_API_KEY; echo "O=$OPENAI_API_KEY" | cut -c1-8; else; echo O=none;'
    " end",
}


class Tmux:
    def __init__(self, tmp: Path, env: dict[str, str]):
        self.binary = require("tmux")
        self.socket = str(tmp / "tmux.sock")
        self.env = env

    def __call__(self, *args: str) -> str:
        out = subprocess.run(
            [self.binary, "-S", self.socket, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    def screen(self, window: str) -> str:
        return self("capture-pane", "-p", "-J", "-t", window, "-S", "-200")

    def wait_for(self, window: str, text: str, count: int = 1, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen(window)
            if screen.count(text) >= count:
                return screen
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not shown in {window}; screen:\n{screen}")
            time.sleep(0.2)

    def type(self, window: str, *keys: str) -> None:
        self("send-keys", "-t", window, *keys)


@pytest.fixture
def first_day(env, tmp_path):
    """openai logged in with the encrypted file, github not; the keyring on, as outside tests;
    PATH finds authsome as after an install; a prompt that says READY."""
    e = {k: v for k, v in env.items() if k != "AUTHSOME_KEYRING"}
    e.update(
        AUTHSOME_BACKEND="file",
        XDG_RUNTIME_DIR=str(tmp_path / "run"),
        PATH=f"{Path(AUTHSOME_BIN).parent}:{e.get('PATH', '/usr/bin:/bin')}",
        SHELL=require("bash"),
        TERM="xterm",
    )
    (tmp_path / "run").mkdir(mode=0o700)
    login = {**e, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE, "OPENAI_API_KEY": OPENAI_KEY}
    assert run(["login", "openai"], login).returncode == 0
    yield e
    run(["lock"], e)


def _rc_files(tmp: Path) -> dict[str, str]:
    """Each shell's start-up file holding the README's lines; the command that starts it."""
    bashrc = tmp / "bashrc"
    bashrc.write_text("\n".join(README["bash"]) + "\nPS1='READY> '\n")
    zdot = tmp / "zdot"  # an empty ZDOTDIR but for .zshrc
    zdot.mkdir()
    (zdot / ".zshrc").write_text("\n".join(README["zsh"]) + "\nPS1='READY> '\n")
    fish_config = tmp / "config" / "fish"
    fish_config.mkdir(parents=True)
    (fish_config / "config.fish").write_text(
        "\n".join(README["fish"]) + "\nfunction fish_prompt; echo -n 'READY> '; end\n"
    )
    return {
        "bash": f"{require('bash')} --rcfile {bashrc} -i",
        "zsh": f"env ZDOTDIR={zdot} {require('zsh')} -i",
        # fish started from bash ($SHELL is bash), which stays its parent.
        "fish": f"{require('bash')} -c 'env XDG_CONFIG_HOME={tmp / 'config'} {require('fish')}; :'",
    }


def test_readme_shell_setup_in_tmux_after_one_unlock(first_day, tmp_path):
    unlocked = subprocess.run(
        [require("bash"), "-c", 'eval "$(authsome unlock)"'],
        env={**first_day, "AUTHSOME_PASSPHRASE": TEST_PASSPHRASE},
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert unlocked.returncode == 0, unlocked.stderr
    commands = _rc_files(tmp_path)
    tmux = Tmux(tmp_path, first_day)
    tmux("new-session", "-d", "-s", "day", "-x", "200", "-y", "50", "-n", "bash", commands["bash"])
    try:
        for shell in ("zsh", "fish"):
            tmux("new-window", "-t", "day", "-n", shell, commands[shell])
        for shell in ("bash", "zsh", "fish"):
            w = f"day:{shell}"
            screen = tmux.wait_for(w, "READY> ")
            # Start-up: openai exported, github named once with its fix, nothing broke.
            assert screen.count("authsome: skipped github: not logged in to github") == 1, screen
            for bad in ("command not found", "Unknown command", "assphrase", "rror"):
                assert bad not in screen, (shell, screen)
            tmux.type(w, SHOW[shell], "Enter")
            tmux.wait_for(w, "O=sk-fir")
            # Completion works (zsh: whether or not compinit had run).
            tmux.type(w, "authsome token op", "Tab")
            tmux.wait_for(w, "authsome token openai")
            tmux.type(w, "C-u", UNSET[shell], "Enter")
            tmux.type(w, SHOW[shell], "Enter")
            screen = tmux.wait_for(w, "O=none")
            for bad in ("command not found", "Unknown command", "assphrase"):
                assert bad not in screen, (shell, screen)
    finally:
        subprocess.run([tmux.binary, "-S", tmux.socket, "kill-server"], capture_output=True)
