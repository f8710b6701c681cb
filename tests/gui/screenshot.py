"""Screenshots of one window, by its X id, through GDK (no extra package): the window with its
frame when the window manager gave it one."""
import gi

gi.require_version("Gdk", "3.0")
gi.require_version("GdkX11", "3.0")
from gi.repository import Gdk, GdkX11  # noqa: E402


def window_png(xid, path):
    """Saves the window `xid` (and its window manager's frame) as PNG; returns (width, height)."""
    display = GdkX11.X11Display.get_default() or Gdk.Display.get_default()
    window = GdkX11.X11Window.foreign_new_for_display(display, xid)
    if window is None:
        raise RuntimeError(f"no X window {xid:#x}")
    frame = window.get_frame_extents()  # root coordinates, decorations included
    root = Gdk.get_default_root_window()
    x, y = max(frame.x, 0), max(frame.y, 0)
    w = min(frame.width, root.get_width() - x)
    h = min(frame.height, root.get_height() - y)
    pixbuf = Gdk.pixbuf_get_from_window(root, x, y, w, h)
    if pixbuf is None:
        raise RuntimeError(f"could not read the pixels of window {xid:#x}")
    pixbuf.savev(path, "png", [], [])
    return w, h


def screen_png(path):
    """Saves the whole screen as PNG; returns (width, height)."""
    root = Gdk.get_default_root_window()
    w, h = root.get_width(), root.get_height()
    pixbuf = Gdk.pixbuf_get_from_window(root, 0, 0, w, h)
    if pixbuf is None:
        raise RuntimeError("could not read the screen's pixels")
    pixbuf.savev(path, "png", [], [])
    return w, h


def mean_grey(path):
    """The mean of R, G and B over a PNG's pixels, 0-255."""
    from gi.repository import GdkPixbuf
    pixbuf = GdkPixbuf.Pixbuf.new_from_file(path)
    data = pixbuf.get_pixels()
    n, stride = pixbuf.get_n_channels(), pixbuf.get_rowstride()
    total = count = 0
    for y in range(0, pixbuf.get_height(), 4):
        row = y * stride
        for x in range(0, pixbuf.get_width(), 4):
            i = row + x * n
            total += data[i] + data[i + 1] + data[i + 2]
            count += 3
    return total / max(count, 1)
