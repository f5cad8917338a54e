"""`run`'s masked output when our stdout is a terminal: the child gets a pty of its own.

Its stdout (and stderr, and stdin, where ours are terminals) is the pty, so interactive tools
keep a terminal: prompts, colours, line editing, the window's size (kept in step on SIGWINCH),
and job control (util/ptyterm.py). The pty is the child's controlling terminal: it is opened
by name in the child's new session, which on Linux makes it so with no code in the child.
"""

from __future__ import annotations

import contextlib
import os
import signal

from authsome.util.child import FORWARDED, FROM_TERMINAL, foreground, forwarding, wait


def run_on_pty(command: list[str], environ: dict[str, str], maskers, spawn) -> int:
    """Run `command` on a pty whose output is masked; its status (-N: signal N). `spawn` is
    childrun.spawn (this module is imported from there)."""
    from authsome.util.ptyterm import OuterTerminal

    master, slave = os.openpty()
    # Keys are relayed from our terminal only in its foreground: a job started with `&` that
    # set raw mode would be stopped (SIGTTOU), where the command alone would have run on.
    child = _Child(master, OuterTerminal(1, 0 if foreground(0) else None))
    child.outer.copy_size(master)
    err_r = err_w = None
    # posix_spawn's file actions: (OPEN, fd, path, flags, mode) and (DUP2, fd, fd2)
    actions: list[tuple] = [(os.POSIX_SPAWN_OPEN, 1, os.ttyname(slave), os.O_RDWR, 0)]
    if os.isatty(0):  # in the background too: it must not read our terminal behind the shell
        actions.append((os.POSIX_SPAWN_DUP2, 1, 0))
    if os.isatty(2):
        actions.append((os.POSIX_SPAWN_DUP2, 1, 2))
    else:  # our stderr is a file or a pipe: so is the child's
        err_r, err_w = os.pipe()
        actions.append((os.POSIX_SPAWN_DUP2, err_w, 2))
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    # Before the child starts, so that its end cannot go unnoticed.
    saved = {sig: signal.signal(sig, h) for sig, h in child.handlers().items()}
    old_wake = signal.set_wakeup_fd(wake_w)
    child.outer.raw()  # before the child can prompt: no key is read by the cooked terminal
    try:
        try:
            child.pid = spawn(command, environ, actions, setsid=True)
        except BaseException:
            for fd in (master, err_r):
                if fd is not None:
                    os.close(fd)
            raise
        finally:
            os.close(slave)
            if err_w is not None:
                os.close(err_w)
        return _relay(child, err_r, wake_r, maskers)  # it closes master and err_r
    finally:
        child.outer.restore()
        signal.set_wakeup_fd(old_wake)
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        os.close(wake_r)
        os.close(wake_w)


def _relay(child, err_r: int | None, wake_r: int, maskers) -> int:
    from authsome.util.relay import Relay

    relay: Relay = Relay(wake_r, lambda: child.check(relay))
    relay.add(child.master, 1, maskers[0])
    if err_r is not None:
        relay.add(err_r, 2, maskers[1])
    typing = None
    if child.outer.keys is not None:
        typing = os.dup(child.master)
        os.set_blocking(typing, False)
        relay.add(child.outer.keys, typing, owned=False)
    # Keys typed at the terminal reach the child's own terminal, not us; a signal sent to
    # us goes to its foreground job, as a terminal would send it.
    try:
        with forwarding(child.pid, FORWARDED), forwarding(child.master, FROM_TERMINAL,
                                                          to=_to_foreground):  # fmt: skip
            relay.run()
            child.outer.restore()
            return child.status if child.status is not None else wait(child.pid)
    finally:
        if typing is not None:
            os.close(typing)


class _Child:
    """What SIGCHLD and SIGWINCH mean here: the child stopped or ended; the window changed."""

    def __init__(self, master: int, outer):
        self.pid, self.master, self.outer = 0, master, outer
        self.status: int | None = None

    def handlers(self) -> dict:
        return {
            signal.SIGCHLD: lambda _s, _f: None,  # the wake-up pipe says it; check() looks
            signal.SIGWINCH: lambda _s, _f: self.outer.copy_size(self.master),
            # Sent to us, not typed (the terminal is raw): stop with the terminal as it was.
            signal.SIGTSTP: lambda _s, _f: self.outer.suspend(self.master, 0),
        }

    def check(self, relay) -> None:
        if self.status is not None or not self.pid:
            return
        done, status = os.waitpid(self.pid, os.WNOHANG | os.WUNTRACED)
        if done != self.pid:
            return
        if os.WIFSTOPPED(status):
            self.outer.suspend(self.master, self.pid)
        else:
            self.status = os.waitstatus_to_exitcode(status)
            relay.exited = True


def _to_foreground(master: int, signum: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(os.tcgetpgrp(master), signum)
