"""The README's shell set-up, tried as a new user would: fresh bash, zsh (empty ZDOTDIR) and
fish started from bash, each a pane of a real tmux, in a home where github is not logged in,
after one unlock in another terminal."""

import subprocess
from pathlib import Path

import pytest
from clitools import installed_env, run
from conftest import TEST_PASSPHRASE
from realparts import require
from tmuxrun import Tmux, readme_shell_lines

OPENAI_KEY = "sk-first-day-0123456789abcdef"
# The README's lines, read from its "Shell setup" section: the docs and this test cannot drift.
README = readme_shell_lines()
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


@pytest.fixture
def first_day(env, tmp_path):
    """openai logged in with the encrypted file, github not; the keyring on, as outside tests;
    PATH finds authsome as after an install; a prompt that says READY."""
    e = {**installed_env(env, tmp_path), "SHELL": require("bash"), "TERM": "xterm"}
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
    assert set(README) == {"bash", "zsh", "fish"} and all(len(v) == 3 for v in README.values())
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
    tmux.start(commands)
    try:
        for shell in ("bash", "zsh", "fish"):
            w = f"t:{shell}"
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
        tmux.kill()
