"""An in-process store for tests: it ships nowhere, and the store contract suite holds it too."""

from __future__ import annotations

import threading

from authsome.storage.base import Store


class MemoryStore(Store):
    name = "memory"
    lists_cheaply = True
    in_process = True

    def __init__(self) -> None:
        self._items: dict[str, str] = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        return "memory (nothing is kept after this process)"

    def prepare(self) -> None:
        return None

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._items.get(key)

    def set(self, key: str, value: str) -> None:
        with self._lock:
            self._items[key] = value

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._items.pop(key, None) is not None

    def list(self) -> list[str]:
        with self._lock:
            return sorted(self._items)
