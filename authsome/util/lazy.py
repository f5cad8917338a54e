"""functools.cached_property without importing functools, which imports collections: about a
tenth of an `authsome token`, spent on the one decorator the factory and the streams use."""

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:  # the checker reads it as what it stands in for
    from functools import cached_property as lazy
else:

    class lazy:  # noqa: N801 - named like the decorator it stands in for
        """An attribute computed on first read and kept in the instance, as cached_property."""

        def __init__(self, fn):
            self.fn = fn
            self.__doc__ = fn.__doc__
            self.name = fn.__name__

        def __set_name__(self, owner, name: str) -> None:
            self.name = name

        def __get__(self, obj, cls=None):
            if obj is None:
                return self
            # Not a data descriptor: once the instance holds the value, reads never come here.
            value = obj.__dict__[self.name] = self.fn(obj)
            return value
