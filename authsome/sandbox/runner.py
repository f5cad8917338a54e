"""Start the command in the sandbox, serve the connections its forwarder hands over, and
report how it ended. The command never runs unsandboxed: when bwrap cannot start, this says
why and stops."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys

from authsome.errors import ProxyStopped, SandboxUnavailable
from authsome.sandbox import bwrap, seccomp
from authsome.sandbox.checks import fix_for, unavailable

FORWARDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "forwarder.py")


def run(command, environ, hidden, keep, port: int, on_connection, signals=((), ())) -> int:
    """Run `command` sandboxed; its exit status, or minus the signal that ended it.

    Each connection the child makes to 127.0.0.1:`port` reaches `on_connection` as a socket.
    `signals`: (those passed on to the command, those the terminal sends it already). Raises
    OSError (ENOENT, EACCES) when the command cannot be started inside."""
    why = unavailable(environ)
    if why:
        raise SandboxUnavailable(*why)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    saved = _forward(ours, signals)
    # The terminal's signals the command gets by default, unless they were ignored here.
    reset = [sig for sig in signals[1] if saved[sig] != signal.SIG_IGN]
    try:
        with ours:
            proc, said = _start(command, environ, hidden, keep, (port, reset), theirs)
            with said:
                try:
                    served = _serve(ours, on_connection)
                except BaseException:
                    ours.close()  # the forwarder kills the command when this end goes
                    proc.wait()
                    raise
                proc.wait()
                return _ended(served, proc.returncode, said, command, environ)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _start(command, environ, hidden, keep, forwarder, theirs):
    """bwrap with the forwarder and `command`; (its process, a file of what it said before
    the command started). `forwarder`: (port, the signals it resets for the command)."""
    port, reset = forwarder
    errors_r, errors_w = os.pipe()
    filter_r, filter_w = os.pipe()
    stderr = os.dup(2)
    os.write(filter_w, seccomp.compiled())  # some 200 bytes: a pipe holds them
    os.close(filter_w)
    argv = [
        shutil.which("bwrap", path=environ.get("PATH")),
        *bwrap.arguments(hidden, keep, os.getcwd(), filter_r),
        "--", sys.executable, "-I", "-S", FORWARDER, str(theirs.fileno()), str(stderr), str(port),
        ",".join(map(str, reset)) or "-", *command,
    ]  # fmt: skip
    try:
        proc = subprocess.Popen(  # noqa: S603 - argv, no shell
            argv, env=environ, stderr=errors_w, pass_fds=(theirs.fileno(), stderr, filter_r)
        )
    except OSError:
        os.close(errors_r)
        raise
    finally:
        for fd in (errors_w, filter_r, stderr):
            os.close(fd)
        theirs.close()
    return proc, open(errors_r, "rb")  # noqa: SIM115 - the caller closes it


def _forward(ours, signals) -> dict:
    """Pass `forwarded` signals on to the command. The terminal's own (Ctrl-C, Ctrl-\\) reach
    it directly; they are ignored here, and by bwrap, which inherits that: bwrap killed by
    Ctrl-C would take the sandbox down before the command could handle it."""
    forwarded, ignored = signals
    saved = {}
    for sig in forwarded:
        saved[sig] = signal.signal(sig, lambda s, _f: _tell(ours, b"k%d" % s))
    for sig in ignored:
        saved[sig] = signal.signal(sig, signal.SIG_IGN)
    return saved


def _tell(ours, message: bytes) -> None:
    with contextlib.suppress(OSError):
        ours.send(message)


def _serve(ours, on_connection) -> tuple[bool, tuple[bytes, int] | None]:
    """Hand each connection on until the forwarder says the command ended (b"x", status) or
    could not start (b"e", errno): (whether it started, that); None if it went away first."""
    started = False
    while True:
        message, fds, _, _ = socket.recv_fds(ours, 32, 1)
        if not message:
            return started, None
        tag = message[:1]
        if tag == b"c":
            for fd in fds:
                on_connection(socket.socket(fileno=fd))
            continue
        for fd in fds:  # none is sent with the others
            os.close(fd)
        if tag == b"s":
            started = True
        elif tag in (b"x", b"e"):
            return started, (tag, int(message[1:]))


def _ended(served, returncode: int, said, command, environ) -> int:
    started, outcome = served
    if outcome is None and not started:
        text = said.read().decode("utf-8", "replace").strip().splitlines()
        why = text[-1][:300] if text else f"bwrap exit {returncode}"
        # bwrap (or python) said why before the command could start
        raise SandboxUnavailable(f"the sandbox could not start: {why}", fix_for(environ))
    if outcome is None:
        raise ProxyStopped(
            f"the sandbox around {command[0]} stopped before the command ended, and the"
            " command with it",
            "run it again; if this repeats, run with --debug and report it",
        )
    tag, value = outcome
    if tag == b"e":
        raise OSError(value, os.strerror(value))
    return os.waitstatus_to_exitcode(value)
