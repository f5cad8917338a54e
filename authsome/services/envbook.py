"""The bookkeeping `authsome env` exports beside the credentials, read back from the shell.

It is what lets the next `env` add to what the shell holds instead of replacing it, and the
prompt hook keep a credential that still works when it cannot refresh (a locked vault): each
variable's expiry is known without opening the store.
"""

from __future__ import annotations

from authsome.util.record import SECRET_FIELDS, Record

# Bookkeeping variables exported beside the credentials.
EXPORTED = "AUTHSOME_EXPORTED"  # the credential variables, space-separated
REFS = "AUTHSOME_REFS"  # what to re-export: "github openai:work"
EXPIRES_AT = "AUTHSOME_EXPIRES_AT"  # the earliest expiry, epoch seconds (absent: none expire)
EXPIRY = "AUTHSOME_EXPIRY"  # each expiring variable's expiry: "GITHUB_TOKEN=1700000000 ..."
REFRESH_AT = "AUTHSOME_REFRESH_AT"  # when the prompt hook should re-run `authsome env`
FAILING = "AUTHSOME_FAILING"  # refs whose refresh is failing and was already reported
BOOKKEEPING = (EXPORTED, REFS, EXPIRES_AT, EXPIRY, REFRESH_AT, FAILING)


class Export(Record):
    """values: variable -> value; refs: what the shell holds after this run; expires: variable
    -> expiry; failed: ref -> the error that stopped it; failing: refs to report no more.
    In the shell, beside what this run exported: kept, the variables held from before and not
    exported again; carried, the refs held from before and not named in this run."""

    __slots__ = ("values", "refs", "expires", "refresh_at", "failed", "failing", "kept", "carried")
    _defaults = {
        "values": dict,
        "refs": list,
        "expires": dict,
        "refresh_at": None,
        "failed": dict,
        "failing": list,
        "kept": list,
        "carried": list,
    }
    _secret_fields = SECRET_FIELDS | {"values"}

    @property
    def expires_at(self) -> int | None:
        return min(self.expires.values()) if self.expires else None

    def bookkeeping(self) -> dict[str, str]:
        if not self.refs:
            return {}
        out = {EXPORTED: " ".join([*self.values, *self.kept]), REFS: " ".join(self.refs)}
        if self.expires:
            out[EXPIRES_AT] = str(self.expires_at)
            out[EXPIRY] = " ".join(f"{var}={at}" for var, at in self.expires.items())
        if self.refresh_at is not None:
            out[REFRESH_AT] = str(self.refresh_at)
        if self.failing:
            out[FAILING] = " ".join(self.failing)
        return out


class Held(Record):
    """What the shell holds from earlier runs: its variables, the refs that exported them, each
    variable's expiry (absent: it never expires), and the refs already reported failing."""

    __slots__ = ("variables", "refs", "expiry", "failing", "refresh_at")
    _defaults = {
        "variables": list,
        "refs": list,
        "expiry": dict,
        "failing": list,
        "refresh_at": None,
    }

    @classmethod
    def read(cls, environ: dict[str, str]) -> Held:
        from authsome.shells import safe_names

        # Plain names and digits only: these come from the environment, which anyone may set.
        expiry = {}
        for word in environ.get(EXPIRY, "").split():
            var, _, at = word.partition("=")
            if safe_names(var) == [var] and at.isascii() and at.isdigit():
                expiry[var] = int(at)
        at = environ.get(REFRESH_AT, "")
        return cls(
            variables=safe_names(environ.get(EXPORTED, "")),
            refs=_refs(environ.get(REFS, "")),
            expiry=expiry,
            failing=_refs(environ.get(FAILING, "")),
            refresh_at=int(at) if at.isascii() and at.isdigit() else None,
        )

    def usable(self, var: str, now: float) -> bool:
        """Whether `var`'s credential has not expired, as far as the shell knows."""
        return self.expiry.get(var, now + 1) > now


def _refs(text: str) -> list[str]:
    """The words of `text` that are refs (NAME or NAME:CONNECTION), the rest dropped."""
    from authsome.util.names import is_name

    return [ref for ref in text.split() if all(map(is_name, ref.split(":", 1)))]
