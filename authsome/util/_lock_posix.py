import fcntl


def lock_fd(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_EX)


def unlock_fd(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
