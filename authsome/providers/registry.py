"""The registry: bundled definitions and the user's files, each parsed only when asked for.

Bundled definitions live in providers/; a user file ~/.authsome/providers/NAME.json with a
bundled name is deep-merged over it, and any other name adds a provider.
"""

from __future__ import annotations

import os

from authsome.errors import ConfigError, UsageError
from authsome.util import jsonfast
from authsome.util.names import is_name, provider_files

# The schema and the model are imported when a definition is parsed: Tab on a provider name
# reads file names alone, and they would be two thirds of its imports.
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from authsome.providers.model import Provider


def deep_merge(base: dict, override: dict) -> dict:
    """`override` over `base`: objects merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def secret_name_error(kind: str) -> UsageError:
    """The error for a NAME that may be a pasted key: it is never echoed."""
    return UsageError(
        f"unknown {kind} (the name looks like a secret, so it is not shown)",
        "a key is never an argument: run authsome login NAME and paste it when asked",
    )


def read_json(path):
    """The JSON in `path`; a file that cannot be read or parsed is a ConfigError naming it."""
    try:
        with open(path, encoding="utf-8") as f:
            return jsonfast.loads(f.read())
    except OSError as e:
        raise ConfigError(f"cannot read {path}: {e.strerror}", "check the file") from None
    except ValueError as e:
        raise ConfigError(f"{path}: not valid JSON ({e})", "fix the provider file") from None
    except RecursionError:
        raise ConfigError(f"{path}: JSON nested too deeply", "fix the provider file") from None


def _object(path) -> dict:
    from authsome.providers.schema import not_an_object

    data = read_json(path)
    if not isinstance(data, dict):
        raise not_an_object(str(path))
    return data


class Registry:
    """Bundled and user providers (folders as str); a name is parsed only when asked for."""

    def __init__(self, bundled, user):
        self.bundled = os.fspath(bundled)
        self.user = os.fspath(user)

    def names(self) -> list[str]:
        """Every provider name, from file names alone (cheap enough for Tab completion)."""
        return sorted(provider_files(self.bundled) | provider_files(self.user))

    def check_known(self, name: str) -> None:
        """Raise the unknown-provider error, with the nearest name, when `name` is not one."""
        names = self.names()
        if name in names:
            return
        from authsome.util.secretlike import looks_like_secret

        if looks_like_secret(name or ""):
            raise secret_name_error("provider")
        from difflib import get_close_matches

        near = get_close_matches(name, names, n=1, cutoff=0.75)
        guess = f"did you mean {near[0]!r}? See" if near else "see"
        raise UsageError(
            f"unknown provider {name!r}",
            f"{guess}: authsome providers, or add one with: authsome register FILE",
        )

    def get(self, name: str) -> Provider:
        from authsome.providers.schema import parse_provider

        bundled = os.path.join(self.bundled, f"{name}.json")
        user = os.path.join(self.user, f"{name}.json")
        in_bundled, in_user = os.path.isfile(bundled), os.path.isfile(user)
        if not is_name(name) or not (in_bundled or in_user):
            self.check_known(name)  # raises: the name is not among names()
        if in_bundled and in_user:
            data = deep_merge(_object(bundled), _object(user))
            provider = parse_provider(data, f"{user} (over {bundled})", name)
            return provider.replace(sources=(bundled, user))
        if in_bundled:
            return parse_provider(read_json(bundled), bundled, name, bundled=True)
        return parse_provider(read_json(user), user, name)

    def all(self) -> list[Provider]:
        return [self.get(n) for n in self.names()]

    def is_bundled(self, name: str) -> bool:
        return os.path.isfile(os.path.join(self.bundled, f"{name}.json"))
