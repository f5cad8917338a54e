"""A subprocess that writes records through the real store selection (used by tests)."""

import sys

from authsome.factory import Context


def main() -> None:
    prefix, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = Context().store_choice.store
    forever = count < 0
    i = 0
    while forever or i < count:
        store.set(f"{prefix}:{i % 1000}", (f"{prefix}-{i}-" * size)[:size])
        i += 1
        if forever and i == 1:
            print("writing", flush=True)


if __name__ == "__main__":
    main()
