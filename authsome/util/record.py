"""Small value classes. Not dataclasses: importing those (inspect, ast, tokenize...) costs more
than the whole of `authsome token` may take, and they are on every hot path."""

from __future__ import annotations

# Fields that hold secrets in any record (Connection.secrets, TokenSet's tokens, Session.token):
# repr shows them as <redacted>, so a log line or a traceback's locals never carries one.
SECRET_FIELDS = frozenset({"secrets", "access_token", "refresh_token", "id_token", "token"})
REDACTED = "<redacted>"

# For the type checker only, at no cost here: a subclass declares its fields with their types in
# an `if TYPE_CHECKING:` block, in __slots__ order, `= DEFAULT` marking those `_defaults` fills
# in; the checker then reads them as a dataclass's (tests/test_record.py holds them to the slots).
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any, ClassVar, Self, dataclass_transform

    DEFAULT: Any

    @dataclass_transform()
    class _Fields: ...

    @dataclass_transform(frozen_default=True)
    class _FrozenFields: ...
else:
    _Fields = _FrozenFields = object


class _Base:
    """Fields are the class's __slots__; `_defaults` maps a field to its default, and a callable
    default (list, dict, ...) is called for each instance."""

    __slots__: tuple[str, ...] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _secret_fields = SECRET_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self.__slots__
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} fields")
        values = dict(zip(names, args, strict=False))
        for key in kwargs:
            if key not in names or key in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated field {key!r}")
        values.update(kwargs)
        for name in names:
            if name in values:
                value = values[name]
            elif name in self._defaults:
                default = self._defaults[name]
                value = default() if callable(default) else default
            else:
                raise TypeError(f"{type(self).__name__} needs the field {name!r}")
            object.__setattr__(self, name, value)

    def fields(self) -> dict[str, Any]:
        """The fields and their values (shallow)."""
        return {name: getattr(self, name) for name in self.__slots__}

    to_dict = fields  # subclasses may present themselves differently

    def replace(self, **changes: Any) -> Self:
        return type(self)(**{**self.fields(), **changes})

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Base)
            and type(self) is type(other)
            and self.fields() == other.fields()
        )

    # Unhashable, as any class that defines __eq__ (said for the checker, which reads
    # object.__hash__ as a method)
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        def shown(name: str, value: object) -> str:
            return REDACTED if value and name in self._secret_fields else repr(value)

        fields = ", ".join(f"{k}={shown(k, v)}" for k, v in self.fields().items())
        return f"{type(self).__name__}({fields})"


class Record(_Base, _Fields):
    """A record whose fields may be changed."""

    __slots__ = ()


class Frozen(_Base, _FrozenFields):
    """A Record whose fields cannot be changed after construction."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")
