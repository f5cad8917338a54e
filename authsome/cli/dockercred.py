"""The `docker-credential-authsome` program: docker's credential-helper protocol, without click
(docker runs it for each pull and push)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    """Run one action; an error is one line on stdout, where docker reads it."""
    from authsome.errors import AuthsomeError
    from authsome.factory import Context
    from authsome.main import claim_process, exit_code_for
    from authsome.services.dockercred import serve

    args = sys.argv[1:] if argv is None else argv
    if argv is None:
        claim_process()
    ctx = Context()
    try:
        code = serve(ctx, args[0] if len(args) == 1 else "")
    except AuthsomeError as e:
        ctx.io.emit(f"authsome: {e}")
        code = exit_code_for(e)
    except KeyboardInterrupt:
        code = 130
    except Exception as e:  # noqa: BLE001 - docker shows stdout; never a traceback with locals
        ctx.io.emit(f"authsome: internal error ({type(e).__name__})")
        code = 1
    sys.exit(int(code))
