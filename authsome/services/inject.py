"""`authsome inject`: a template with its `{{ authsome://... }}` fields filled in, fresh.

The output file is created 0600 by an atomic rename (never half written, never readable by
others even for a moment); one that others can read already is replaced only with --force,
since the secrets would land where someone chose to let others read.
"""

from __future__ import annotations

import os
import stat

from authsome.errors import AuthsomeError, UsageError
from authsome.formats import template
from authsome.services.references import Resolver, located, parse


def inject(ctx, source: str, out: str | None = None, force: bool = False) -> str | None:
    """The rendered template (None when written to `out`). Every field is parsed and `out`
    checked before a credential is read."""
    name = "stdin" if source == "-" else source
    text = template.decode(_read(ctx, source), name)
    found = template.fields(text, name)
    refs = []
    for line, _start, _end, ref in found:
        try:
            refs.append(parse(ref))
        except AuthsomeError as e:
            raise located(e, f"{name}:{line}") from None
    if out is not None:
        check_target(out, force)
    resolver = Resolver(ctx)
    values = []
    for (line, *_), ref in zip(found, refs, strict=True):
        try:
            values.append(resolver.value(ref))
        except AuthsomeError as e:
            raise located(e, f"{name}:{line}") from None
    rendered = template.render(text, found, values)
    _audit(ctx, resolver, out)
    if out is None:
        return rendered
    _write(out, rendered.encode("utf-8"))
    return None


def _read(ctx, source: str) -> bytes:
    if source == "-":
        stream = ctx.io.stdin
        return stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode()
    try:
        with open(source, "rb") as f:
            return f.read()
    except OSError as e:
        why = (e.strerror or type(e).__name__).lower()
        raise UsageError(f"cannot read template {source}: {why}", "check the path") from None


def check_target(out: str, force: bool) -> None:
    """Refuse an output that is not a plain file, or that others can read, unless `force`."""
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        return
    except OSError as e:
        raise UsageError(
            f"cannot write {out}: {(e.strerror or '').lower()}", "check the path"
        ) from None
    if not stat.S_ISREG(st.st_mode) and not (force and stat.S_ISLNK(st.st_mode)):
        raise UsageError(f"{out} is not a regular file", "give another output path")
    if st.st_mode & 0o077 and not force:
        raise UsageError(
            f"refusing to overwrite {out}: others can read it (mode {st.st_mode & 0o777:04o})",
            "remove it first, or pass --force to replace it with a file only you can read",
        )


def _write(out: str, data: bytes) -> None:
    from authsome.util.fsutil import atomic_write

    try:
        atomic_write(out, data)  # mkstemp: 0600 from the start; os.replace: all or nothing
    except OSError as e:
        why = (e.strerror or type(e).__name__).lower()
        raise UsageError(
            f"cannot write {out}: {why}", "check the folder and its permissions"
        ) from None


def _audit(ctx, resolver: Resolver, out: str | None) -> None:
    from authsome.services.envfiles import audit

    audit(ctx, "inject", resolver, **({"file": out} if out else {}))
