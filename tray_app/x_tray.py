"""pystray's X backend (Linux), made safe for an app whose window is Qt on another thread.

Two freezes were found under load (decisions.md, "Tray app and builds"):

- Docking grabbed the X server and then needed the GIL to let go; PyQt holds the GIL while
  Qt waits for an X reply (creating or showing the window), which a grabbed server never
  sends. The whole app froze. Docking now asks for the tray host without the grab.
- pystray shares one python-xlib connection between its event thread and the threads that
  change the icon (they send it a message, then flush). python-xlib's threaded mode can leave
  a thread waiting for a reply forever when another thread's flush returns early; the icon
  then never changed again. Other threads now send on a connection of their own, one at a
  time, and wait at most ``DISPATCH_SECONDS`` for the event thread to answer.
- Every image change sent the tray host a new dock request; the icon now docks once per
  tray host.

Windows (win32 backend) has neither problem and is left alone.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

__all__ = ["DISPATCH_SECONDS", "make_x_backend_safe"]

DISPATCH_SECONDS = 10.0
#: pystray's X methods that other threads ask its event thread to run.
DISPATCHED = ("_show", "_hide", "_update_icon", "_update_title", "_stop")


def make_x_backend_safe(icon: Any) -> None:
    """Patch a ``pystray.Icon`` in place if it is the X backend's; otherwise do nothing."""
    if type(icon).__module__ != "pystray._xorg":
        return
    icon._get_systray_manager = lambda: _systray_manager(icon)
    icon._assert_docked = lambda: _assert_docked(icon)
    sender = _Sender(icon)
    for name in DISPATCHED:
        setattr(icon, name, sender.dispatcher(name, getattr(icon, name)))


def _systray_manager(icon: Any) -> Any:
    """The tray host's window, or None; pystray's query without its server grab. A tray host
    replaced in that same instant costs one failed docking that the next update repairs."""
    import Xlib.X

    display = icon._display
    owner = display.get_selection_owner(icon._net_system_tray_sx)
    if owner == Xlib.X.NONE:
        return None
    return display.create_resource_object("window", owner.id)


def _assert_docked(icon: Any) -> None:
    """Dock unless already docked in the current tray host. pystray sent a new dock request
    with every image change; hundreds of them made trayer lay the icon out off its edge."""
    docked_in = icon._systray_manager
    owner = _systray_manager(icon)
    if owner is None or docked_in is None or docked_in.id != owner.id:
        icon._dock_window()
    if not icon._systray_manager:
        raise AssertionError("no system tray to dock in")  # what pystray's callers expect


class _Sender:
    """Asks the icon's event thread to run a method, over a private X connection."""

    def __init__(self, icon: Any) -> None:
        self._icon = icon
        self._display_name: str = icon._display.get_display_name()
        self._lock = threading.Lock()  # one request at a time: pystray has one answer queue
        self._connection: Any = None

    def dispatcher(self, name: str, pystrays: Any) -> Any:
        atom_name = f"_PYSTRAY_{name.upper()}"

        def dispatch() -> None:
            event_thread = getattr(self._icon, "_thread", None)
            if event_thread is threading.current_thread():
                pystrays()  # on the event thread pystray runs the method directly
                return
            self._request(atom_name)
            if name == "_stop":
                self._close()

        return dispatch

    def _request(self, atom_name: str) -> None:
        import Xlib.display
        import Xlib.protocol.event
        import Xlib.X

        with self._lock:
            if self._connection is None:
                self._connection = Xlib.display.Display(self._display_name)
            connection = self._connection
            window = connection.create_resource_object("window", self._icon._window.id)
            connection.send_event(
                window,
                Xlib.protocol.event.ClientMessage(
                    window=window,
                    client_type=connection.intern_atom(atom_name),
                    data=(32, (Xlib.X.CurrentTime, 0, 0, 0, 0)),
                ),
                event_mask=Xlib.X.NoEventMask,
            )
            connection.flush()
            try:
                answer = self._icon._queue.get(timeout=DISPATCH_SECONDS)
            except queue.Empty:
                raise TimeoutError(
                    f"the tray icon's X thread did not answer {atom_name} "
                    f"within {DISPATCH_SECONDS:.0f} s"
                ) from None
        if answer is not True:
            raise answer[1]

    def _close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
