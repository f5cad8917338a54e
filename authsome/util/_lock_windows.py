import msvcrt
import sys
import time

assert sys.platform == "win32"  # imported there only; a checker on another system skips the rest


def lock_fd(fd: int) -> None:
    while True:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return
        except OSError:
            time.sleep(0.05)


def unlock_fd(fd: int) -> None:
    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
