"""Exercise an installed authsome (the .deb's /usr/bin/authsome) for real.

Checks `providers`, an API-key login into the encrypted file and into gnome-keyring's
Secret Service, `token`, and Tab completion from the installed files in bash, fish and zsh.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from ptyrun import PtyProcess  # noqa: E402
from realparts import SecretService  # noqa: E402

KEY = "sk-deb-0123456789abcdefghijklmnop"


def check(cond: bool, what: str) -> None:
    if not cond:
        raise SystemExit(f"check_installed: FAILED: {what}")
    print(f"ok: {what}")


def run(argv, env, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True, timeout=60)


def main(authsome: str) -> None:
    tmp = Path(tempfile.mkdtemp())
    env = {
        "PATH": f"{Path(authsome).parent}:/usr/bin:/bin",
        "HOME": str(tmp),
        "AUTHSOME_HOME": str(tmp / ".authsome"),
        "LANG": "C.UTF-8",
    }
    out = run([authsome, "providers"], env)
    check(out.returncode == 0 and "github" in out.stdout, "authsome providers lists github")

    fenv = {**env, "AUTHSOME_BACKEND": "file", "AUTHSOME_PASSPHRASE": "deb test"}
    out = run([authsome, "login", "openai"], fenv, stdin=KEY + "\n")
    check(out.returncode == 0, f"API-key login into the encrypted file ({out.stderr.strip()})")
    check(run([authsome, "token", "openai"], fenv).stdout.strip() == KEY, "token reads it back")

    service = SecretService(tmp / "ss")
    try:
        kenv = {**env, **service.env(), "AUTHSOME_HOME": str(tmp / "kc")}
        out = run([authsome, "login", "anthropic"], kenv, stdin="sk-ant-deb-0123456789abcdefghij\n")
        check(
            "Stored in the Secret Service keychain" in out.stderr,
            f"login into the Secret Service with Debian's secretstorage ({out.stderr.strip()})",
        )
        check(
            run([authsome, "token", "anthropic"], kenv).stdout.strip()
            == "sk-ant-deb-0123456789abcdefghij",
            "token reads it back from the keychain",
        )
    finally:
        service.stop()

    bash = (
        "source /usr/share/bash-completion/completions/authsome\n"
        "COMP_WORDS=(authsome login gi); COMP_CWORD=2; _authsome_completion authsome\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    out = run(["bash", "-c", bash], env)
    check(out.stdout.split() == ["github", "gitlab"], f"bash completion ({out.stdout.split()})")
    out = run(
        [
            "fish",
            "--no-config",
            "-c",
            "source /usr/share/fish/vendor_completions.d/authsome.fish; "
            "complete -C 'authsome login gi'",
        ],
        env,
    )
    names = [line.split("\t")[0] for line in out.stdout.splitlines()]
    check(names == ["github", "gitlab"], f"fish completion ({names})")

    zdot = tmp / "zdot"
    zdot.mkdir()
    (zdot / ".zshrc").write_text(
        "fpath=(/usr/share/zsh/vendor-completions $fpath)\n"
        "autoload -Uz compinit && compinit -u -d $ZDOTDIR/.zcompdump\nPS1='READY> '\n"
    )
    proc = PtyProcess(["zsh", "-i"], {**env, "ZDOTDIR": str(zdot), "TERM": "dumb"})
    proc.expect(b"READY> ")
    proc.send(b"authsome login git\t")  # already the common prefix: zsh lists the choices
    proc.expect(b"gitlab", timeout=30)
    proc.close()
    check(b"github" in proc.screen, "zsh completion from vendor-completions")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/authsome")
    os._exit(0)
