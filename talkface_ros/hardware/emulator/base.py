"""A device on a pseudo-terminal: a thread serves the pty master; clients open a stable symlink path.

Faults a real USB serial device shows, on demand:
- unplug(): the master closes (open clients get EIO, like a vanished ttyACM) and the symlink disappears;
  when it returns, a client's next write or read fails. replug() makes a fresh pty and points the symlink at it.
- inject_garbage(bytes): unsolicited bytes on the line.
- drop_replies(n): the next n replies are never sent (client timeouts).
- truncate_replies(n): the next n replies are cut after their first byte (partial writes).
Subclasses parse requests in `handle_bytes` and answer through `reply`.
"""
from __future__ import annotations

import logging
import os
import select
import tempfile
import threading
import time
import tty
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class EmulatorStats:
    bytes_in: int = 0
    bytes_out: int = 0
    replies: int = 0
    replies_dropped: int = 0
    replies_truncated: int = 0
    garbage_sent: int = 0
    unplugs: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class PtyEmulator(ABC):
    """Base class: pty lifecycle, symlink, service thread and fault injection."""

    name = "device"

    def __init__(self, link_path: str | os.PathLike | None = None) -> None:
        if link_path is None:
            self._tmpdir: str | None = tempfile.mkdtemp(prefix="talkface-emu-")
            link_path = Path(self._tmpdir) / f"tty{self.name}"
        else:
            self._tmpdir = None
        self.path = str(link_path)
        self.stats = EmulatorStats()
        self._lock = threading.RLock()
        self._master: int | None = None
        self._slave: int | None = None
        self._device_path: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The master the service thread is waiting on in select(), outside the lock. A select() holds a reference
        # to the file, so closing the fd does not hang the pty up until that select() returns.
        self._selecting: int | None = None
        self._select_done = threading.Condition(self._lock)
        self._drop = 0
        self._truncate = 0

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> "PtyEmulator":
        self._plug()
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name=f"{self.name}-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        with self._lock:
            self._unplug_locked()
        if self._tmpdir is not None:
            try:
                os.rmdir(self._tmpdir)
            except OSError:
                pass

    def __enter__(self) -> "PtyEmulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def device_path(self) -> str | None:
        """The /dev/pts/N behind the symlink (None while unplugged)."""
        return self._device_path

    @property
    def plugged(self) -> bool:
        return self._master is not None

    # -- faults ----------------------------------------------------------------------------------------------------
    def unplug(self) -> None:
        with self._lock:
            self._unplug_locked()
            self.stats.unplugs += 1

    def replug(self) -> None:
        with self._lock:
            if self._master is None:
                self._plug()

    def inject_garbage(self, data: bytes) -> None:
        with self._lock:
            if self._master is not None:
                self._send_to_client(data)
                self.stats.garbage_sent += len(data)

    def drop_replies(self, count: int) -> None:
        with self._lock:
            self._drop += count

    def truncate_replies(self, count: int) -> None:
        with self._lock:
            self._truncate += count

    # -- for subclasses ----------------------------------------------------------------------------------------------
    @abstractmethod
    def handle_bytes(self, data: bytes) -> None:
        """Parse request bytes (any chunking) and answer with `reply`."""

    def reply(self, data: bytes) -> None:
        """Send a reply, subject to the drop/truncate faults. Called from the service thread (lock held)."""
        if self._drop:
            self._drop -= 1
            self.stats.replies_dropped += 1
            return
        if self._truncate:
            self._truncate -= 1
            self.stats.replies_truncated += 1
            data = data[:1]
        self.stats.replies += 1
        self._send_to_client(data)

    # -- internals ---------------------------------------------------------------------------------------------------
    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._device_path = os.ttyname(slave)
        tmp_link = f"{self.path}.tmp{os.getpid()}"
        if os.path.lexists(tmp_link):
            os.unlink(tmp_link)
        os.symlink(self._device_path, tmp_link)
        os.replace(tmp_link, self.path)  # atomic: a client never sees a half-made link
        log.debug("%s emulator plugged: %s -> %s", self.name, self.path, self._device_path)

    def _unplug_locked(self) -> None:
        if os.path.lexists(self.path):
            os.unlink(self.path)
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None
        self._device_path = None
        # Until the service thread's select() lets go of the old master, clients could still write to the pty.
        if not self._select_done.wait_for(lambda: self._selecting is None, timeout=2.0):
            log.warning("%s emulator: the service thread did not let go of the unplugged pty", self.name)

    def _send_to_client(self, data: bytes) -> None:
        assert self._master is not None
        view = memoryview(data)
        deadline = time.monotonic() + 0.5
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    log.warning("%s emulator: client is not reading, %d bytes lost", self.name, len(view))
                    return
                time.sleep(0.001)
                continue
            except OSError:
                return
            self.stats.bytes_out += written
            view = view[written:]

    def _wait_readable(self) -> int | None:
        """The master, once it has bytes to read (None after a 20 ms timeout or while unplugged)."""
        with self._lock:
            master = self._selecting = self._master
        if master is None:
            time.sleep(0.01)
            return None
        try:
            ready, _, _ = select.select([master], [], [], 0.02)
        except (OSError, ValueError):
            ready = []  # closed under us by unplug()
        finally:
            with self._lock:
                self._selecting = None
                self._select_done.notify_all()
        return master if ready else None

    def _serve(self) -> None:
        while not self._stop.is_set():
            master = self._wait_readable()
            if master is None:
                continue
            with self._lock:
                if self._master != master:
                    continue
                try:
                    data = os.read(master, 4096)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    time.sleep(0.005)  # EIO: no client has the slave open right now
                    continue
                if data:
                    self.stats.bytes_in += len(data)
                    try:
                        self.handle_bytes(data)
                    except Exception:  # an emulator bug must not kill the device silently
                        log.exception("%s emulator failed on %r", self.name, data[:32])
