#!/usr/bin/python3
"""How long the dialog takes to come on screen: from the interactive call's Script-Fu reaching
the GUI GIMP to the dialog's window in the window manager's client list, seen from outside the
plug-in, the same way for every build. For the benchmark (tools/benchmark), not a test: it
asserts nothing about time.

    dialog_timing.py --build BUILD --source SOURCE [--before PLUGIN] [--rounds R] [--opens N]

Each round starts one GUI GIMP (Xvfb, openbox, a private bus: tests/gui/harness.py) per build
and opens the Edit dialog N times in each, closing it with Escape; the first open of each GIMP
warms the caches and is left out. The window is seen through `xprop -spy` on the root window's
_NET_CLIENT_LIST, which openbox updates as it maps a window: an event, not a poll. With the
build's own plug-in, its IMAGEGEN_TIMINGS line "dialog-shown" (from the run's start to the
dialog's first frame drawn) comes too. Prints one "dialog <build> <from-call-ms> <in-plug-in-ms>"
line per open, then medians."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time

from harness import Session, wait_for

CALL = '(plug-in-imagegen-edit RUN-INTERACTIVE img layer "" "" -1 "" "" "" -1 -1 "" "")'
SETUP = """(begin
  (define img (car (gimp-image-new 1536 1024 RGB)))
  (define layer (car (gimp-layer-new img 1536 1024 RGB-IMAGE "photo" 100 LAYER-MODE-NORMAL)))
  (gimp-image-insert-layer img layer 0 0)
  (plug-in-plasma RUN-NONINTERACTIVE img layer 1 1.0)
  (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 300 200 1024 768)
  (gimp-image-clean-all img)
  (gimp-display-new img)
  (gimp-displays-flush))"""


class ClientList:
    """The root window's _NET_CLIENT_LIST as it changes, each change with its monotonic time."""

    def __init__(self, env):
        self.changes = []  # (time.monotonic(), set of window ids)
        self.proc = subprocess.Popen(["xprop", "-root", "-spy", "_NET_CLIENT_LIST"], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            stamp = time.monotonic()
            with self.lock:
                self.changes.append((stamp, set(re.findall(r"0x[0-9a-f]+", line))))

    def windows(self):
        with self.lock:
            return set(self.changes[-1][1]) if self.changes else set()

    def first_new_since(self, since, known):
        """The time of the first change after `since` that added a window not in `known`."""
        with self.lock:
            for stamp, ids in self.changes:
                if stamp >= since and ids - known:
                    return stamp, next(iter(ids - known))
        return None

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def open_and_close(session, clients):
    """Milliseconds from the call to the dialog's window; the dialog is then closed."""
    known = clients.windows()
    sent = time.monotonic()
    n = session.gimp.send(CALL)
    stamp, window = wait_for("the dialog's window", lambda: clients.first_new_since(sent, known),
                             timeout=60, interval=0.01)
    # Escape closes the dialog while nothing runs; it goes to the window once it has the focus.
    env = session.env

    def focused():
        out = subprocess.run(["xdotool", "getwindowfocus"], env=env, capture_output=True, text=True)
        return out.returncode == 0 and int(out.stdout.strip() or 0) == int(window, 16)

    def closed():
        if session.gimp.result(n) is not None:
            return True
        subprocess.run(["xdotool", "windowactivate", "--sync", str(int(window, 16))], env=env,
                       capture_output=True, timeout=10)
        if focused():
            subprocess.run(["xdotool", "key", "Escape"], env=env, capture_output=True, timeout=10)
        time.sleep(0.2)
        return session.gimp.result(n) is not None

    wait_for("the dialog to close on Escape", closed, timeout=60, interval=0.1)
    return (stamp - sent) * 1000


def measure(build, source, plugins, rounds, opens):
    """{name: [(from-call ms, in-plug-in ms or None), ...]} for each plug-in (None: the build's)."""
    results = {name: [] for name in plugins}
    for _ in range(rounds):
        for name, plugin in plugins.items():
            with Session(build, source, f"timing-{name}", env_extra={"IMAGEGEN_TIMINGS": "1"},
                         plugin=plugin) as session:
                clients = ClientList(session.env)
                try:
                    session.gimp.run(SETUP, timeout=120)
                    wait_for("the image window", lambda: len(clients.windows()) > 0, timeout=60)
                    times = [open_and_close(session, clients) for _ in range(opens + 1)][1:]
                finally:
                    clients.stop()
                shown = [float(v) for v in
                         re.findall(r"imagegen-timing: dialog-shown ([\d.]+)", session.gimp.errors())][1:]
            for i, t in enumerate(times):
                results[name].append((t, shown[i] if i < len(shown) else None))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--before", help="another build's plug-in, measured side by side")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--opens", type=int, default=5)
    args = ap.parse_args()
    plugins = {"now": None}
    if args.before:
        plugins["before"] = os.path.abspath(args.before)
    results = measure(args.build, args.source, plugins, args.rounds, args.opens)
    for name, rows in results.items():
        for call_ms, shown_ms in rows:
            print(f"dialog {name} {call_ms:.1f} {shown_ms if shown_ms is not None else '-'}")
    for name, rows in results.items():
        shown = [s for _, s in rows if s is not None]
        print(f"median {name} {statistics.median(c for c, _ in rows):.1f} "
              f"{statistics.median(shown) if shown else '-'}")


if __name__ == "__main__":
    sys.exit(main())
