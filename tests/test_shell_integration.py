"""`authsome env`, the prompt hooks, `run` and completion, in the real bash, zsh and fish."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clitools import AUTHSOME_BIN, age, age_command, run
from realparts import require
from shellrun import BINARY, roundtrip

ROOT = Path(__file__).resolve().parents[1]
# Every character a shell treats specially; no control character (tab, newline): a stored
# secret must be printable text (#24 item 8), and the quoting of those is held by test_quoting.
HOSTILE = "a'b\"c $HOME `id` $(id) \\ ! % ünï 🔑 ;second line; rm -rf ~"
SHELLS = ["bash", "zsh", "fish"]


@pytest.fixture
def file_env(file_env):
    """conftest's unlocked file store (no KDF per call), with authsome on PATH for scripts."""
    bin_dir = str(Path(AUTHSOME_BIN).parent)
    return {**file_env, "PATH": f"{bin_dir}:{file_env.get('PATH', '/usr/bin:/bin')}"}


@pytest.fixture
def hostile_login(file_env, install_provider):
    install_provider(
        {
            "name": "hostile",
            "auth_type": "api_key",
            "api_key": {"env_var": "HOSTILE_KEY"},
            "export": {"env": {"api_key": "HOSTILE_KEY"}},
        }
    )
    out = run(["login", "hostile"], {**file_env, "HOSTILE_KEY": HOSTILE}, input="")
    assert out.returncode == 0, out.stderr
    return file_env


def _eval_env(shell, args):
    command = " ".join([AUTHSOME_BIN, "env", "--shell", shell, *args])
    if shell == "fish":
        return f"{command} | source"
    return f'eval "$({command})"'


@pytest.mark.parametrize("shell", SHELLS)
def test_hostile_value_round_trips_through_eval(shell, hostile_login, tmp_path):
    got = roundtrip(
        shell,
        _eval_env(shell, ["hostile"]),
        ["HOSTILE_KEY", "AUTHSOME_EXPORTED"],
        tmp_path,
        env=hostile_login,
    )
    assert got == {"HOSTILE_KEY": HOSTILE, "AUTHSOME_EXPORTED": "HOSTILE_KEY"}


@pytest.mark.parametrize("shell", SHELLS)
def test_unset_removes_exactly_what_was_exported(shell, hostile_login, tmp_path):
    unset = _eval_env(shell, ["--unset"])
    code = f"{_eval_env(shell, ['hostile'])}\n{unset}"
    check = {
        "fish": "set -q HOSTILE_KEY; and echo still-set; echo KEEP=$KEEP",
        "bash": 'echo "${HOSTILE_KEY+still-set}"; echo "KEEP=$KEEP"',
        "zsh": 'echo "${HOSTILE_KEY+still-set}"; echo "KEEP=$KEEP"',
    }[shell]
    script = tmp_path / "s"
    script.write_text(f"{code}\n{check}\n")
    out = subprocess.run(
        [require(BINARY[shell]), str(script)],
        capture_output=True,
        text=True,
        env={**hostile_login, "KEEP": "mine"},
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "still-set" not in out.stdout and "KEEP=mine" in out.stdout


def test_env_errors_leave_stdout_empty(file_env):
    out = run(["env", "openai"], file_env)
    assert out.returncode == 3 and out.stdout == ""
    assert out.stderr.startswith("authsome: skipped openai: not logged in to openai")
    assert out.stderr.endswith("authsome login openai\n") and out.stderr.count("\n") == 1
    strict = run(["env", "--strict", "openai"], file_env)
    assert strict.returncode == 3 and strict.stdout == ""
    assert strict.stderr.startswith("authsome: not logged in to openai")


def test_two_connections_on_one_variable_is_an_error(testsrv, file_env):
    assert run(["login", "testsrv"], file_env).returncode == 0
    assert run(["login", "testsrv:work"], file_env).returncode == 0
    out = run(["env", "--strict", "testsrv", "testsrv:work"], file_env)
    assert out.returncode == 2 and out.stdout == ""
    assert "testsrv and testsrv:work both export TESTSRV_TOKEN" in out.stderr
    # Without --strict the first is exported and the second skipped, with the same reason.
    out = run(["env", "--shell", "bash", "testsrv", "testsrv:work"], file_env)
    assert out.returncode == 2 and "export TESTSRV_TOKEN=" in out.stdout
    assert out.stderr.startswith("authsome: skipped testsrv:work: testsrv and testsrv:work both")


def test_env_exports_expiry_and_never_the_refresh_token(testsrv, file_env):
    assert run(["login", "testsrv"], file_env).returncode == 0
    out = run(["env", "--shell", "bash"], file_env)
    assert out.returncode == 0, out.stderr
    refresh = [t for t in testsrv.state.refresh]
    assert refresh and not any(t in out.stdout for t in refresh)
    assert "export AUTHSOME_EXPIRES_AT='" in out.stdout
    assert "export AUTHSOME_REFRESH_AT='" in out.stdout
    data = json.loads(run(["env", "--format", "json"], file_env).stdout)
    assert set(data["variables"]) == {"TESTSRV_TOKEN"}
    assert data["expires_at"]["TESTSRV_TOKEN"] > time.time()


PROMPT = {
    "bash": 'eval "$PROMPT_COMMAND"',
    "zsh": "for f in $precmd_functions; do $f; done",
    "fish": "emit fish_prompt",
}
HOOK = {
    "bash": f'eval "$({AUTHSOME_BIN} hook bash)"',
    "zsh": f'eval "$({AUTHSOME_BIN} hook zsh)"',
    "fish": f"{AUTHSOME_BIN} hook fish | source",
}


# Until the hook's own clock reaches the time `env` gave it. Not `date +%s`: the shells' clocks
# are time(2)'s, which lags the precise clock by up to a tick after each second begins, so the
# hook could still see the second before the one `date` saw.
WAIT_FOR_REFRESH_AT = {
    "bash": "while printf -v now '%(%s)T' -1; ((now < AUTHSOME_REFRESH_AT)); do sleep 0.1; done",
    "zsh": "while ((EPOCHSECONDS < AUTHSOME_REFRESH_AT)); do sleep 0.1; done",
    "fish": "while test (__authsome_now) -lt $AUTHSOME_REFRESH_AT; sleep 0.1; end",
}
KEEP_REFRESH_AT = {"bash": "R=$AUTHSOME_REFRESH_AT", "zsh": "R=$AUTHSOME_REFRESH_AT"}
KEEP_REFRESH_AT["fish"] = "set R $AUTHSOME_REFRESH_AT"


@pytest.mark.parametrize("shell", SHELLS)
def test_hook_refreshes_a_token_when_its_refresh_time_comes(shell, testsrv, unlocked_env, tmp_path):
    testsrv.state.refreshed_expires_in = 3600
    assert run(["login", "testsrv"], unlocked_env).returncode == 0
    before = run(["token", "testsrv"], unlocked_env).stdout.strip()
    # An hour old with 303 s left: due in 3 s, when the 300 s refresh margin begins.
    age(unlocked_env, left=303)
    due = int(time.time()) + 3
    # `env` finds it not yet due and tells the hook when; the hook's first prompt comes before
    # then, the second after, by the shell's own clock.
    code = "\n".join(
        [
            HOOK[shell],
            _eval_env(shell, ["testsrv"]),
            KEEP_REFRESH_AT[shell],
            PROMPT[shell],
            WAIT_FOR_REFRESH_AT[shell],
            PROMPT[shell],
        ]
    )
    got = roundtrip(
        shell, code, ["R", "TESTSRV_TOKEN", "AUTHSOME_EXPIRES_AT"], tmp_path, env=unlocked_env
    )
    assert int(got["R"]) in (due - 1, due)  # `env` itself did not refresh: the hook did
    assert testsrv.state.count("/token", "refresh_token") == 1
    assert got["TESTSRV_TOKEN"] != before and got["TESTSRV_TOKEN"] in testsrv.state.access
    assert int(got["AUTHSOME_EXPIRES_AT"]) > time.time() + 3000


def _spawns(shell, script_text, tmp_path, env, name) -> list[str]:
    """The processes a shell script starts (execve, fork, clone), traced by strace."""
    script = tmp_path / f"{name}.sh"
    script.write_text(script_text)
    trace = tmp_path / f"{name}.trace"
    args = [require(BINARY[shell]), *(["--no-config"] if shell == "fish" else []), str(script)]
    out = subprocess.run(
        [
            require("strace"),
            "-f",
            "-qq",
            "-o",
            str(trace),
            "-e",
            "trace=execve,fork,vfork,clone,clone3",
            *args,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return [
        line
        for line in trace.read_text().splitlines()
        if any(f"{call}(" in line for call in ("execve", "fork", "clone"))
    ]


@pytest.mark.parametrize("shell", SHELLS)
def test_hook_starts_no_process_when_nothing_is_due(shell, testsrv, file_env, tmp_path):
    assert run(["login", "testsrv"], file_env).returncode == 0
    setup = "\n".join([HOOK[shell], _eval_env(shell, ["testsrv"])]) + "\n"
    without = _spawns(shell, setup, tmp_path, file_env, "none")
    with_prompts = _spawns(
        shell, setup + "\n".join([PROMPT[shell]] * 50) + "\n", tmp_path, file_env, "fifty"
    )
    # Fifty prompts with nothing due start no process at all: no date, no authsome.
    assert len(with_prompts) == len(without), with_prompts[len(without) :]


STATUS_CHECK = {
    # A due refresh that fails (nothing-here is not logged in) must still keep $? for the
    # prompt, print nothing on stdout, and be installed once however often it is sourced.
    "bash": """{hook}
{hook}
AUTHSOME_REFRESH_AT=1 AUTHSOME_REFS=nothing-here
false
eval "$PROMPT_COMMAND"
echo "status=$?"
echo "hooks=$(grep -o _authsome_hook <<< "$PROMPT_COMMAND" | wc -l)"
""",
    "zsh": """{hook}
{hook}
AUTHSOME_REFRESH_AT=1 AUTHSOME_REFS=nothing-here
false
for f in $precmd_functions; do $f; done
echo "status=$?"
echo "hooks=${{#${{(@M)precmd_functions:#_authsome_hook}}}}"
""",
    "fish": """{hook}
{hook}
function __show --on-event fish_prompt; echo status=$status; end
set -gx AUTHSOME_REFRESH_AT 1
set -gx AUTHSOME_REFS nothing-here
false
emit fish_prompt
echo hooks=(functions --handlers-type generic | string match -e __authsome_hook | count)
""",
}


@pytest.mark.parametrize("shell", SHELLS)
def test_hook_keeps_status_prints_nothing_and_installs_once(shell, file_env, tmp_path):
    script = tmp_path / "s"
    script.write_text(STATUS_CHECK[shell].format(hook=HOOK[shell]))
    args = [require(BINARY[shell]), *(["--no-config"] if shell == "fish" else []), str(script)]
    out = subprocess.run(args, capture_output=True, text=True, env=file_env, timeout=60)
    assert out.stdout.split() == ["status=1", "hooks=1"], (out.stdout, out.stderr)
    assert out.stderr.count("unknown provider 'nothing-here'") == 1, out.stderr


def test_bash_hook_coexists_with_prompt_command_array_and_string(file_env, tmp_path):
    hook = HOOK["bash"]
    for setup in ("PROMPT_COMMAND=(mine)", 'PROMPT_COMMAND="mine"'):
        script = tmp_path / "s"
        script.write_text(
            f"mine() {{ echo mine-ran; }}\n{setup}\n{hook}\n{hook}\ndeclare -p PROMPT_COMMAND\n"
        )
        out = subprocess.run(
            ["bash", str(script)], capture_output=True, text=True, env=file_env, timeout=60
        )
        assert "_authsome_hook" in out.stdout and "mine" in out.stdout
        assert out.stdout.count("_authsome_hook") == 1


def test_the_fish_hooks_clock_keeps_time(file_env, tmp_path):
    """fish has no clock builtin: the hook's is a file's mtime plus the seconds since it, and
    the hook tests wait on it, so it is held to `date` here."""
    each = "for i in (seq 5); echo (__authsome_now) (date +%s); end"
    out = _run_shell("fish", f"{AUTHSOME_BIN} hook fish | source\n{each}\n", tmp_path, file_env)
    assert out.returncode == 0, out.stderr
    pairs = [line.split() for line in out.stdout.splitlines()]
    assert len(pairs) == 5 and all(0 <= int(d) - int(h) <= 1 for h, d in pairs), pairs


def test_hook_embeds_the_absolute_path(file_env):
    for shell in SHELLS:
        text = run(["hook", shell], file_env).stdout
        assert f"'{AUTHSOME_BIN}' env --shell {shell}" in text
        assert "@AUTHSOME@" not in text


def test_run_passes_environment_stdio_and_exit_code(hostile_login):
    out = subprocess.run(
        [
            AUTHSOME_BIN,
            "run",
            "--no-masking",  # the value itself, to compare
            "hostile",
            "--",
            sys.executable,
            "-c",
            "import os,sys; sys.stdout.write(os.environ['HOSTILE_KEY'] + "
            "sys.stdin.read()); sys.exit(42)",
        ],
        input="+stdin",
        capture_output=True,
        text=True,
        env=hostile_login,
        timeout=60,
    )
    assert out.returncode == 42
    assert out.stdout == HOSTILE + "+stdin"
    assert "HOSTILE_KEY" not in hostile_login


def test_run_command_not_found_is_127(hostile_login):
    out = run(["run", "hostile", "--", "no-such-command-xyz"], hostile_login)
    assert out.returncode == 127
    assert out.stderr == (
        "authsome: command not found: no-such-command-xyz. Check its name and your PATH\n"
    )


def test_run_passes_signals(hostile_login):
    proc = subprocess.Popen(
        [
            AUTHSOME_BIN,
            "run",
            "hostile",
            "--",
            sys.executable,
            "-c",
            "import signal,sys,time; "
            "signal.signal(signal.SIGTERM, lambda *a: sys.exit(7)); "
            "print('up', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=hostile_login,
    )
    assert proc.stdout.readline() == "up\n"
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(30) == 7


def test_run_needs_a_command(hostile_login):
    out = run(["run", "hostile"], hostile_login)
    assert out.returncode == 2 and "put it after '--'" in out.stderr


HOSTILE_TIMES = {
    # A bookkeeping time that is not plain digits (a[$(cmd)] runs cmd in bash arithmetic) is
    # ignored: first as AUTHSOME_REFRESH_AT, then as AUTHSOME_EXPIRES_AT after a failed refresh.
    "bash": """{hook}
AUTHSOME_REFRESH_AT='{bad}'
eval "$PROMPT_COMMAND"
AUTHSOME_REFRESH_AT=1 AUTHSOME_REFS=nothing-here AUTHSOME_EXPIRES_AT='{bad}'
eval "$PROMPT_COMMAND"
""",
    "zsh": """{hook}
AUTHSOME_REFRESH_AT='{bad}'
for f in $precmd_functions; do $f; done
AUTHSOME_REFRESH_AT=1 AUTHSOME_REFS=nothing-here AUTHSOME_EXPIRES_AT='{bad}'
for f in $precmd_functions; do $f; done
""",
    "fish": """{hook}
set -gx AUTHSOME_REFRESH_AT '{bad}'
emit fish_prompt
set -gx AUTHSOME_REFRESH_AT 1
set -gx AUTHSOME_REFS nothing-here
set -gx AUTHSOME_EXPIRES_AT '{bad}'
emit fish_prompt
""",
}


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("form", ["a[$(touch {mark})]", "$(touch {mark})", "1+0", "1 2"])
def test_hook_ignores_times_that_are_not_plain_digits(shell, form, file_env, tmp_path):
    mark = tmp_path / "ran"
    script = tmp_path / "s"
    script.write_text(HOSTILE_TIMES[shell].format(hook=HOOK[shell], bad=form.format(mark=mark)))
    args = [require(BINARY[shell]), *(["--no-config"] if shell == "fish" else []), str(script)]
    out = subprocess.run(args, capture_output=True, text=True, env=file_env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert not mark.exists()
    # Nothing but the failed refresh of the second prompt: no arithmetic or test errors.
    assert [line for line in out.stderr.splitlines() if not line.startswith("authsome: ")] == []
    assert out.stderr.count("unknown provider 'nothing-here'") == 1, out.stderr


def test_fish_started_from_bash_gets_fish_code_without_shell_option(hostile_login, tmp_path):
    """$SHELL says bash when fish is started from bash or in tmux: `env --unset | source` and
    `lock | source` must still print fish code, found from the parent process."""
    script = tmp_path / "s.fish"
    script.write_text(
        f"{_eval_env('fish', ['hostile'])}\n"
        f"{AUTHSOME_BIN} env --unset | source\n"
        "set -q HOSTILE_KEY; and echo still-set\n"
        f"{AUTHSOME_BIN} lock | source\n"
        "echo done\n"
    )
    out = subprocess.run(
        [require("bash"), "-c", f"{require('fish')} --no-config {script}"],
        capture_output=True,
        text=True,
        env={**hostile_login, "SHELL": require("bash")},
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["done"], out.stdout
    assert "Unknown command" not in out.stderr and "fish:" not in out.stderr, out.stderr


OPENAI_KEY = "sk-0123456789abcdefghijklmn"
SHOW = {
    "bash": 'echo "T=${TESTSRV_TOKEN:+set} O=${OPENAI_API_KEY:+set} G=${GITHUB_TOKEN:+set}"',
    "zsh": 'echo "T=${TESTSRV_TOKEN:+set} O=${OPENAI_API_KEY:+set} G=${GITHUB_TOKEN:+set}"',
    "fish": "set -l t; set -l o; set -l g; set -q TESTSRV_TOKEN; and set t set\n"
    "set -q OPENAI_API_KEY; and set o set; set -q GITHUB_TOKEN; and set g set\n"
    'echo "T=$t O=$o G=$g"',
}
DUE_NOW = {"bash": "AUTHSOME_REFRESH_AT=1", "zsh": "AUTHSOME_REFRESH_AT=1"}
DUE_NOW["fish"] = "set -gx AUTHSOME_REFRESH_AT 1"


def _run_shell(shell, text, tmp_path, env):
    script = tmp_path / f"s.{shell}"
    script.write_text(text)
    args = [require(BINARY[shell]), *(["--no-config"] if shell == "fish" else []), str(script)]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("shell", SHELLS)
def test_startup_line_exports_what_it_can_and_names_what_it_skipped(shell, file_env, tmp_path):
    """github is not logged in: openai is exported anyway, and one line says how to fix it."""
    assert run(["login", "openai"], {**file_env, "OPENAI_API_KEY": OPENAI_KEY}).returncode == 0
    line = f"{AUTHSOME_BIN} env github openai"
    startup = f"{line} | source" if shell == "fish" else f'eval "$({line})"'
    status = "echo status=$status" if shell == "fish" else "echo status=$?"
    out = _run_shell(shell, f"{startup}\n{status}\n{SHOW[shell]}\n", tmp_path, file_env)
    assert out.stdout.split() == ["status=0", "T=", "O=set", "G="], (out.stdout, out.stderr)
    assert out.stderr.startswith("authsome: skipped github: not logged in to github")
    assert out.stderr.endswith("Run: authsome login github\n") and out.stderr.count("\n") == 1
    # The exit status still tells scripts that something was skipped (3: not logged in).
    direct = run(["env", "--shell", shell, "github", "openai"], file_env)
    assert direct.returncode == 3 and f"{OPENAI_KEY}" in direct.stdout
    strict = run(["env", "--strict", "--shell", shell, "github", "openai"], file_env)
    assert strict.returncode == 3 and strict.stdout == ""


ENV_ARGVS = [
    ["github", "openai"],
    ["--strict", "github", "openai"],
    ["openai", "--strict"],
    ["--shell", "fish", "github", "openai"],
    ["--format", "json", "github", "openai"],
    ["--format=dotenv", "--strict", "openai"],
    ["--unset"],
    [],
    ["--strict"],
]


@pytest.mark.slow
@pytest.mark.parametrize("argv", ENV_ARGVS, ids=" ".join)
def test_env_fast_path_and_click_agree(argv, file_env):
    """`authsome env` takes a click-free fast path; `authsome --debug env` goes through click.
    Same options, same output, same exit status."""
    assert run(["login", "openai"], {**file_env, "OPENAI_API_KEY": OPENAI_KEY}).returncode == 0
    e = {**file_env, "SHELL": "/bin/bash"}
    fast = run(["env", *argv], e)
    slow = run(["--debug", "env", *argv], e)
    assert (fast.returncode, fast.stdout) == (slow.returncode, slow.stdout)
    last = [out.stderr.strip().splitlines()[-1:] for out in (fast, slow)]
    assert last[0] == last[1]


@pytest.mark.parametrize("shell", SHELLS)
def test_hook_warns_once_per_failure_and_unsets_only_what_failed(
    shell, testsrv, unlocked_env, tmp_path
):
    """The provider fails every refresh until told to recover. Each later prompt is made due
    (as a minute later): one warning while the old token still works, one when it expires and
    only its variable is unset, then silence; after recovery the token is back. Time passes
    by aging the stored login: due with a minute left, then expired."""
    e = {**unlocked_env, "OPENAI_API_KEY": OPENAI_KEY}
    assert run(["login", "testsrv"], e).returncode == 0
    assert run(["login", "openai"], e).returncode == 0
    recover = tmp_path / "recover"
    testsrv.state.refresh_failure = (503, "application/json", '{"error": "server_error"}')

    def maybe_recover():
        if recover.exists():
            testsrv.state.refresh_failure = None

    testsrv.state.on_refresh = maybe_recover
    prompt, due, show = PROMPT[shell], DUE_NOW[shell], SHOW[shell]
    steps = [
        HOOK[shell],
        _eval_env(shell, ["testsrv", "openai"]),
        age_command("testsrv", 60),
        due,
        prompt,  # due: the refresh fails, the old token still works
        show,
        *[due, prompt] * 2,
        age_command("testsrv", -1),
        *[due, prompt] * 3,  # expired: unset, once
        show,
        f"touch {recover}",
        due,
        prompt,
        show,
    ]
    out = _run_shell(shell, "\n".join(steps) + "\n", tmp_path, {**unlocked_env})
    assert out.stdout.split() == [
        "T=set", "O=set", "G=",
        "T=", "O=set", "G=",
        "T=set", "O=set", "G=",
    ], (out.stdout, out.stderr)  # fmt: skip
    lines = out.stderr.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("authsome: warning: could not refresh testsrv")
    assert lines[1].startswith("authsome: unset TESTSRV_TOKEN: could not refresh testsrv")


def test_env_keeps_only_plain_bookkeeping_from_the_shell(hostile_login, tmp_path):
    """What the shell holds is read back from its environment, which anyone may set: words
    that are not refs, names or digits are dropped, never carried into the code it prints."""
    mark = tmp_path / "ran"
    e = {
        **hostile_login,
        "AUTHSOME_REFS": f"$(touch {mark}) openai a;b",
        "AUTHSOME_EXPORTED": f"OPENAI_API_KEY $(touch {mark}) X=1",
        "AUTHSOME_EXPIRY": f"OPENAI_API_KEY=1$(touch {mark}) HOSTILE_KEY=12",
        "AUTHSOME_FAILING": "`id` openai",
        "OPENAI_API_KEY": "kept",
    }
    code = f"{_eval_env('bash', ['hostile'])}\n" + 'printf "%s|" "$AUTHSOME_REFS" "$OPENAI_API_KEY"'
    out = _run_shell(
        "bash", code + ' "$AUTHSOME_EXPORTED" "${AUTHSOME_EXPIRY-none}"\n', tmp_path, e
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "openai hostile|kept|HOSTILE_KEY OPENAI_API_KEY|none|", out.stdout
    assert not mark.exists()
