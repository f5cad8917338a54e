"""The sandbox's first process (pid 1 inside): the command's one way to the proxy.

It listens on the proxy's loopback port in the sandbox's own network and hands each connection,
as a file descriptor, to the proxy outside, which serves it as one of its own; then it starts
the command, forwards the signals it is asked to, reaps, and says how the command ended.

bwrap runs it as a script (python -I -S), so it imports C modules only and starts in some
10 ms; it is on every request's path, so it copies no bytes. The control socket (a
SOCK_SEQPACKET pair, its other end in authsome) carries one message per datagram: out, "c"
with a descriptor, "s" started, "e<errno>" could not start, "x<wait status>" ended; in,
"k<signal>" to send to the command. When authsome goes away, the command is killed.
"""

import _socket
import os
import select
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # _signal has no stubs; its functions are signal's
    import signal as _signal
else:
    import _signal

DEFAULT = (_signal.SIGPIPE, _signal.SIGXFSZ)  # Python's own changes, undone for the command


def _listen(port: int):
    listener = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    listener.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    return listener


def _hand_over(listener, control) -> None:
    try:
        fd, _ = listener._accept()
    except OSError:  # the client left before it was accepted, or no descriptor was free
        return
    try:
        rights = [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fd.to_bytes(4, sys.byteorder))]
        control.sendmsg([b"c"], rights)
    finally:
        os.close(fd)


def _reap(pid: int):
    """The command's wait status once it has ended; orphans are reaped on the way."""
    while True:
        try:
            found, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return None
        if found == 0:
            return None
        if found == pid:
            return status


def _serve(control, listener, wake: int, pid: int) -> int:
    try:
        return _loop(control, listener, wake, pid)
    except OSError:  # authsome, and so its proxy, is gone: the command goes too
        os.kill(pid, _signal.SIGKILL)
        return 125


def _loop(control, listener, wake: int, pid: int) -> int:
    poll = select.poll()
    for fd in (listener.fileno(), control.fileno(), wake):
        poll.register(fd, select.POLLIN)
    while True:
        for fd, _ in poll.poll():
            if fd == listener.fileno():
                _hand_over(listener, control)
            elif fd == control.fileno():
                message = control.recv(32)
                if not message:  # authsome, and so its proxy, is gone
                    os.kill(pid, _signal.SIGKILL)
                    return 125
                try:  # noqa: SIM105 - contextlib would cost the start-up its imports
                    os.kill(pid, int(message[1:]))
                except ProcessLookupError:  # ended, not yet reaped: the wake-up comes next
                    pass
            else:
                while os.read(wake, 512) == 512:
                    pass
                status = _reap(pid)
                if status is not None:
                    control.send(b"x%d" % status)
                    return os.waitstatus_to_exitcode(status) % 256


def main(argv) -> int:
    control = _socket.socket(fileno=int(argv[1]))
    os.set_inheritable(control.fileno(), False)
    stderr, port, command = int(argv[2]), int(argv[3]), argv[5:]
    # The terminal's signals: ignored here (and by bwrap), the command's by default unless
    # the user's shell had them ignored (a background job).
    default = (*DEFAULT, *(int(n) for n in argv[4].split(",") if n != "-"))
    listener = _listen(port)
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    _signal.set_wakeup_fd(wake_w)
    _signal.signal(_signal.SIGCHLD, lambda *_: None)
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # bwrap passed it ignored; Python may not
    os.dup2(stderr, 2)  # until here, bwrap's errors and ours went to authsome
    os.close(stderr)
    try:
        pid = os.posix_spawnp(command[0], command, os.environ, setsigdef=default)
    except OSError as e:
        control.send(b"e%d" % (e.errno or 0))
        return 127
    control.send(b"s")
    return _serve(control, listener, wake_r, pid)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
