"""`authsome run` conceals the credentials it hands the command in the command's output:
in one write or split across writes, on stdout and stderr, through pipes and on a real pty,
with every other byte passed through as it was."""

import os
import re
import signal
import subprocess
import sys

import pytest
from clitools import AUTHSOME_BIN, run
from hypothesis import given, settings
from hypothesis import strategies as st
from ptyrun import PtyProcess

from authsome.util.masking import LONG_PIECE, MASK, MIN_SECRET, Masker

KEY = "sk-masking-0123456789abcdefghijkl"
SHOWN = MASK.decode()


@pytest.fixture
def logged_in(file_env):
    out = run(["login", "openai"], file_env, input=KEY + "\n")
    assert out.returncode == 0, out.stderr
    return file_env


def _child(code: str) -> list[str]:
    """`run openai` around a Python child running `code` (os, sys, time imported)."""
    return ["run", "openai", "--", sys.executable, "-c", "import os, sys, time\n" + code]


# --- the Masker, in process ---------------------------------------------------------------


def _reference(secrets: list[bytes], data: bytes) -> bytes:
    """Leftmost, then longest, secret replaced: what the stream as one piece becomes."""
    kept = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)
    if not kept:
        return data
    return re.sub(b"|".join(re.escape(s) for s in kept), MASK, data)


def _bytes(min_size: int, max_size: int):
    """Bytes of a small alphabet, so that secrets overlap, repeat and begin one another."""
    return st.text("ab\n", min_size=min_size, max_size=max_size).map(str.encode)


@settings(max_examples=500, deadline=None)
@given(secrets=st.lists(_bytes(4, 10), min_size=1, max_size=4), draw=st.data())
def test_a_stream_in_any_pieces_is_masked_as_if_it_came_whole(secrets, draw):
    parts = draw.draw(st.lists(st.one_of(st.sampled_from(secrets), _bytes(0, 6)), max_size=8))
    data = b"".join(parts)
    cuts = draw.draw(st.lists(st.integers(min_value=0, max_value=len(data)), max_size=6))
    masker = Masker(secrets)
    pieces, last = [], 0
    for cut in sorted(cuts):
        pieces.append(data[last:cut])
        last = cut
    pieces.append(data[last:])
    shown = b"".join(masker.feed(p) for p in pieces) + masker.flush()
    assert shown == _reference(secrets, data)


@pytest.mark.parametrize(
    "secrets,pieces",
    [
        ([b"aaaaaa", b"aaaaaaa"], [b"aaaaaa", b"a"]),  # one secret begins a longer one
        ([b"abcdefgh", b"cdefxy"], [b"abcdef", b"gh"]),  # one begins inside a longer one
        ([b"abcdefghij", b"cdefgh"], [b"xabcdefgh", b"ij!"]),  # one lies inside a longer one
    ],
)
def test_a_secret_cut_by_a_read_is_not_mistaken_for_a_shorter_one(secrets, pieces):
    masker = Masker(secrets)
    shown = b"".join(masker.feed(p) for p in pieces) + masker.flush()
    assert shown == _reference(secrets, b"".join(pieces))


def test_what_cannot_begin_a_secret_is_never_held():
    masker = Masker([KEY])
    assert masker.feed(b"Password: ") == b"Password: "
    assert masker.hold_time() is None
    assert masker.feed(b"binary \x00\xff s") == b"binary \x00\xff "  # "s" may begin the key
    assert masker.hold_time() is not None


def test_a_piece_shown_after_a_pause_leaves_the_rest_of_the_secret_concealed():
    masker = Masker([KEY])
    assert masker.feed(b"key: " + KEY[:10].encode()) == b"key: "
    assert masker.hold_time() > 0 and len(KEY[:10]) >= LONG_PIECE
    assert masker.flush() == KEY[:10].encode()  # the stream went quiet
    assert masker.feed(KEY[10:].encode() + b"\n") == MASK + b"\n"


def test_short_values_are_not_masked():
    assert Masker(["12345"]).feed(b"a 12345 b") == b"a 12345 b"


# --- the command, through pipes -----------------------------------------------------------


def test_the_key_in_one_write_is_concealed_on_stdout_and_stderr(logged_in):
    code = "print('out', os.environ['OPENAI_API_KEY']); print('err', os.environ['OPENAI_API_KEY'],"
    code += " file=sys.stderr); sys.exit(3)"
    out = run(_child(code), logged_in)
    assert (out.returncode, out.stdout, out.stderr) == (3, f"out {SHOWN}\n", f"err {SHOWN}\n")


def test_the_key_split_across_writes_with_pauses_is_concealed(logged_in):
    code = """key = os.environ['OPENAI_API_KEY'].encode()
for out in (1, 2):
    os.write(out, b"a " + key[:12]); time.sleep(0.1)
    os.write(out, key[12:20]); time.sleep(0.1)
    os.write(out, key[20:] + b" b\\n")"""
    out = run(_child(code), logged_in)
    assert out.returncode == 0, out.stderr
    assert out.stdout == out.stderr == f"a {SHOWN} b\n"


def test_binary_output_passes_byte_for_byte(logged_in, tmp_path):
    blob = bytes(range(256)) * 4096 + b"\r\n\x00"  # 1 MiB and a bit
    key = KEY.encode()
    data = blob[:300001] + key + blob[300001:] + key[:5]  # a start of the key, at the end
    (tmp_path / "blob").write_bytes(data)
    code = f"""data = open({str(tmp_path / "blob")!r}, 'rb').read()
for i in range(0, len(data), 4093):
    sys.stdout.buffer.write(data[i:i + 4093]); sys.stdout.flush()"""
    out = subprocess.run([AUTHSOME_BIN, *_child(code)], env=logged_in, capture_output=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == data.replace(key, MASK)


def test_a_prompt_is_shown_while_the_command_waits(logged_in):
    """Neither a prompt without a newline nor one that ends like the start of the key is held
    back until the command ends: the first at once, the second once the output is quiet."""
    code = f"""print("name? ", end="", flush=True); name = input()
print(f"hi {{name}}; key: {KEY[:8]}", end="", flush=True); input(); print("!")"""
    child = subprocess.Popen([AUTHSOME_BIN, *_child(code)], env=logged_in,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    seen = b""
    for prompt, answer in ((b"name? ", b"bob\n"), (f"key: {KEY[:8]}".encode(), b"\n")):
        while not seen.endswith(prompt):
            seen += os.read(child.stdout.fileno(), 4096)
        child.stdin.write(answer)
        child.stdin.flush()
    assert seen + child.stdout.read() == f"name? hi bob; key: {KEY[:8]}!\n".encode()
    assert child.wait(timeout=60) == 0


def test_no_masking_shows_the_output_as_it_is(logged_in):
    echo = ["sh", "-c", "echo $OPENAI_API_KEY"]
    out = run(["run", "--no-masking", "openai", "--", *echo], logged_in)
    assert out.stdout == KEY + "\n"


def test_exit_status_and_signals_pass_through(logged_in):
    assert run(["run", "openai", "--", "sh", "-c", "exit 7"], logged_in).returncode == 7
    assert run(["run", "openai", "--", "sh", "-c", "kill -TERM $$"], logged_in).returncode == -15
    assert run(["run", "openai", "--", "no-such-command"], logged_in).returncode == 127


# Ready once SIGINT is sure to end it: a shell that gets it between its `echo ready` and its
# next command would only act on it once that command is done.
WAITS = "signal.signal(signal.SIGINT, signal.SIG_DFL); print('ready', flush=True); time.sleep(60)"


def test_an_interrupt_sent_to_authsome_reaches_the_command(logged_in):
    """No terminal (an agent's harness): SIGINT to authsome alone goes on to the command."""
    child = subprocess.Popen([AUTHSOME_BIN, *_child("import signal; " + WAITS)], env=logged_in,
                             stdout=subprocess.PIPE, start_new_session=True)  # fmt: skip
    assert child.stdout.readline() == b"ready\n"
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=60) == -signal.SIGINT


# --- the command, on a pty ----------------------------------------------------------------


def test_on_a_terminal_the_command_gets_one_and_its_output_is_masked(logged_in):
    script = 'tty >/dev/null && echo on-a-tty; read -p "name? " n; echo "hi $n $OPENAI_API_KEY"'
    proc = PtyProcess([AUTHSOME_BIN, "run", "openai", "--", "bash", "-c", script + "; exit 4"],
                      logged_in)  # fmt: skip
    proc.expect(b"name? ")
    proc.send(b"bob\r")
    assert proc.wait() == 4
    assert proc.screen == f"on-a-tty\r\nname? bob\r\nhi bob {SHOWN}\r\n".encode()
    assert KEY.encode() not in proc.screen


def test_ctrl_c_on_the_terminal_ends_the_command_as_without_authsome(logged_in):
    proc = PtyProcess([AUTHSOME_BIN, *_child("import signal; " + WAITS)], logged_in)
    proc.expect(b"ready")
    proc.send(b"\x03")
    assert proc.wait() == -signal.SIGINT  # a shell shows 130
    assert b"authsome" not in proc.screen


def test_in_a_terminal_window_the_size_follows_and_job_control_works(logged_in, tmp_path):
    """tmux: the window's size, then its new size (SIGWINCH); a command that stops itself
    stops authsome's job, and `fg` continues it; Ctrl-C's status is the shell's 130."""
    from realparts import require
    from tmuxrun import Tmux

    tmux = Tmux(tmp_path, logged_in)
    tmux.start({"sh": f"{require('bash')} --norc --noprofile -i"})
    # The trap runs between reads: bash defers it while a read waits.
    child = 'stty size; trap "stty size" WINCH; echo go; kill -STOP $$; '
    child += "until read -t 0.1 x; do :; done; echo $x"
    try:
        tmux.run("t:sh", "PS1='READY''> '", "READY> ")
        tmux.run("t:sh", f"{AUTHSOME_BIN} run openai -- bash -c '{child}; echo $OPENAI_API_KEY'",
                 "Stopped")  # fmt: skip
        assert "50 200" in tmux.screen("t:sh")
        tmux.run("t:sh", "fg", "openai")  # the job's line, shown again
        tmux("resize-window", "-t", "t:sh", "-x", "120", "-y", "40")
        tmux.wait_for("t:sh", "40 120")
        tmux.type("t:sh", "typed", "Enter")
        screen = tmux.wait_for("t:sh", SHOWN)
        assert "typed\ntyped\n" in screen and KEY not in screen
        waits = tmp_path / "waits.py"
        waits.write_text(f"import signal, time\n{WAITS}\n")
        tmux.run("t:sh", f"{AUTHSOME_BIN} run openai -- {sys.executable} {waits}", "ready")
        prompts = tmux.screen("t:sh").count("READY> ")
        tmux.type("t:sh", "C-c")
        tmux.wait_for("t:sh", "READY> ", prompts + 1)
        tmux.run("t:sh", "echo status=$?", "status=130")
    finally:
        tmux.kill()
