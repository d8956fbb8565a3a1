"""One writer per results folder: a lock that a second process is refused, naming the first.

A process that writes into a folder (a run, a sweep, an experiment) holds an advisory lock
(``flock``) on ``FOLDER/.brainlike.lock``, which names it: pid, host, start and command. The
kernel drops the lock when the process ends, however it ends, so a folder left locked by a
killed process is taken over by the next writer, which says so. A process may take the same
folder again while it holds it (an experiment holds its folder, then sweeps into it). The lock is
removed when its holder lets go. Advisory: only brainlike's own writers ask for it; on a file
system shared between hosts it is as good as that file system's ``flock``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path

from brainlike.store.results import ResultsError

try:
    import fcntl
except ImportError:  # no flock (Windows): folders are not locked
    fcntl = None

LOCK_FILE = ".brainlike.lock"
_HELD: dict[Path, list] = {}  # folder -> [open file descriptor, depth]: this process's locks


def holder() -> dict:
    """Who this process is, as a lock file names it."""
    command = " ".join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"] + sys.argv[1:])
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": command[:160]}


def describe(who: dict) -> str:
    """``process 1234 on host (since ..., `brainlike sweep ...`)``: the process a lock file names."""
    if not who:
        return "another process"
    return f"process {who.get('pid')} on {who.get('host')} (since {who.get('since')}: {who.get('command')})"


@contextlib.contextmanager
def writing(folder):
    """Hold ``folder``'s lock while the block runs; ``ResultsError`` in one line naming the live
    process that holds it already. A lock left by a process that is gone is taken over (said on
    stderr)."""
    folder = Path(folder).resolve()
    if fcntl is None:
        yield
        return
    if folder in _HELD:
        _HELD[folder][1] += 1
    else:
        _HELD[folder] = [_acquire(folder), 1]
    try:
        yield
    finally:
        _HELD[folder][1] -= 1
        if _HELD[folder][1] == 0:
            _release(folder, _HELD.pop(folder)[0])


def _acquire(folder: Path) -> int:
    path = folder / LOCK_FILE
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise ResultsError(f"out: cannot write to {folder} ({e.strerror or e})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            who = _read(fd)
            os.close(fd)
            raise ResultsError(f"out: {folder} is being written by {describe(who)}; wait for it to finish, or "
                               "choose another folder") from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:  # else its holder removed it as we opened it: lock the new one
            break
        os.close(fd)
    left = _read(fd)
    if left:
        print(f"brainlike: {folder} was left locked by {describe(left)}, which is no longer running; taking it over",
              file=sys.stderr)
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(holder()) + "\n").encode(), 0)
    return fd


def _release(folder: Path, fd: int) -> None:
    """Remove the lock file while it is still ours, then let go; in a folder made read-only, empty it
    instead (the next writer then finds no one to name)."""
    try:
        (folder / LOCK_FILE).unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
    os.close(fd)


def _read(fd: int) -> dict:
    """What a lock file says of its holder ({} if empty or unreadable)."""
    try:
        who = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        return who if isinstance(who, dict) else {}
    except (OSError, ValueError):
        return {}
