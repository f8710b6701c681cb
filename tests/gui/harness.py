"""The GUI tests' world: Xvfb, a window manager (openbox), a private session bus with the AT-SPI
bus it activates, an unlocked gnome-keyring of its own, the emulator, and the GUI GIMP reading
Script-Fu from its standard input. Everything lives under one temporary folder with its own HOME,
and every process started here is ended here, by its id (each tree in a process group of its
own, so the services the bus activated go with it)."""
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import e2e  # noqa: E402  (prepare_home, Emulator, Pnm, prompt_colour, the marker keys, key_leaks)

API_KEY, WRONG_KEY = e2e.API_KEY, e2e.WRONG_KEY


class Failure(Exception):
    pass


def wait_for(what, predicate, timeout=30.0, interval=0.05, pump=None):
    """Polls `predicate` until it returns something true, and returns that; after `timeout`
    seconds fails, saying what it waited for. `pump` runs before each try (AT-SPI events)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        if pump:
            pump()
        try:
            value = predicate()
            if value:
                return value
            last_error = None
        except Failure:
            raise
        except Exception as e:  # noqa: BLE001  (AT-SPI objects vanish while they are polled)
            last_error = e
        if time.monotonic() > deadline:
            extra = f" (last error: {last_error!r})" if last_error else ""
            raise Failure(f"timed out after {timeout:.0f} s waiting for {what}{extra}")
        time.sleep(interval)


def scheme_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Script-Fu run before anything else: e2e's helpers, with its report line printed on the console
# (GIMP's GUI would show gimp-message in a message box), and the markers of each call.
PRELUDE = e2e.PRELUDE + r"""
(define (e2e . parts) (display (apply string-append (cons "E2E " parts))) (newline))
(define (gui-mark what) (display what) (newline))
"""


class Gimp:
    """The GUI GIMP, Script-Fu's text console on its standard input (`-b -`)."""

    def __init__(self, env, root):
        self.out_path = os.path.join(root, "gimp.out")
        self.err_path = os.path.join(root, "gimp.err")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                ["gimp-2.10", "--new-instance", "--no-data", "--no-splash", "--batch", "-"],
                stdin=subprocess.PIPE, stdout=out, stderr=err, env=env, start_new_session=True)
        self.counter = 0

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def errors(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def write(self, text):
        self.proc.stdin.write(text.encode("utf-8"))
        self.proc.stdin.flush()

    def send(self, expr):
        """Sends one expression without waiting; returns the call's number for `result`."""
        self.counter += 1
        n = self.counter
        self.write(f'(gui-mark "GUI-BEGIN {n}")\n{expr}\n(gui-mark "GUI-DONE {n}")\n')
        return n

    def result(self, n):
        """None while call `n` runs; then the E2E lines it printed. A Script-Fu error fails."""
        text = self.output()
        begin = text.find(f"GUI-BEGIN {n}\n")
        if begin < 0:
            body = ""
        else:
            body = text[begin:]
            end = body.find(f"GUI-DONE {n}\n")
            body = body if end < 0 else body[:end]
            for line in body.splitlines():
                if line.startswith(("Error:", "ts> Error:")):
                    raise Failure(f"Script-Fu call {n} failed: {line}")
            if end >= 0:
                return e2e.e2e_lines(body)
        if self.proc.poll() is not None:
            raise Failure(f"GIMP exited (status {self.proc.returncode}) before Script-Fu call {n} ended")
        return None

    def wait(self, n, timeout=60.0, what=None):
        """The E2E lines call `n` printed, once it ended."""
        def ended():
            lines = self.result(n)
            return None if lines is None else [lines]  # a list, true even when no line was printed
        return wait_for(what or f"Script-Fu call {n} to end", ended, timeout)[0]

    def run(self, expr, timeout=60.0):
        return self.wait(self.send(expr), timeout, f"Script-Fu to end: {expr[:160]}")


def _popen_fd(args, env, root, name, **kw):
    """Starts a program that writes one line (a display number, a bus address) to a pipe it is
    given on its command line as {fd}; returns the process and that line."""
    r, w = os.pipe()
    args = [a.replace("{fd}", str(w)) for a in args]
    with open(os.path.join(root, name + ".err"), "wb") as err:
        proc = subprocess.Popen(args, pass_fds=(w,), env=env, stdout=err, stderr=err, **kw)
    os.close(w)
    deadline = time.monotonic() + 30
    data = b""
    os.set_blocking(r, False)
    while not data.endswith(b"\n"):
        try:
            chunk = os.read(r, 4096)
            if chunk == b"":
                break
            data += chunk
        except BlockingIOError:
            if proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    os.close(r)
    if not data.strip():
        raise Failure(f"{name} did not start (see {name}.err)")
    return proc, data.decode().strip()


class Session:
    """One world for one case. Use as a context manager; `env` is GIMP's environment."""

    def __init__(self, build, source, name, keep=False, env_extra=None, env_connection=True,
                 screen="1440x1000", plugin=None):
        self.build, self.source = build, source
        self.plugin = plugin  # another build's plug-in in place of this build's (the benchmark)
        self.screen = screen  # Xvfb's screen, width x height
        self.env_extra = env_extra or {}
        # False: GIMP starts without OPENAI_BASE_URL and OPENAI_API_KEY, as for a new user with
        # no connection at all.
        self.env_connection = env_connection
        self.root = tempfile.mkdtemp(prefix=f"imagegen-gui-{name}-")
        self.procs = []  # (what, process, own process group)
        self.gimp = None
        self.emulator = None
        self.keep = keep
        self.timings = {}

    # -- start

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        t0 = time.monotonic()
        root = self.root
        self.home = e2e.prepare_home(self.build, self.source, root)
        if self.plugin:
            # GIMP sees the plug-in changed and queries it again as it starts.
            shutil.copy(self.plugin, os.path.join(self.home, ".config", "GIMP", "2.10", "plug-ins",
                                                  "imagegen", "imagegen"))
        run = os.path.join(root, "run")
        tmp = os.path.join(root, "tmp")
        os.makedirs(run, mode=0o700)
        os.makedirs(tmp)
        drop = ("NO_AT_BRIDGE", "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "GTK_MODULES",
                "AT_SPI_BUS_ADDRESS", "SESSION_MANAGER", "XAUTHORITY", "GNOME_KEYRING_CONTROL",
                "SSH_AUTH_SOCK")
        env = {k: v for k, v in os.environ.items()
               if k not in drop + ("LANGUAGE", "LC_ALL")
               and not k.startswith(("OPENAI_", "AZURE_OPENAI_", "IMAGEGEN_"))}
        # English whatever the machine's locale (the cases find controls by name), unless the
        # case asks for a language; the plug-in's catalogues are the build tree's.
        env.update(LC_MESSAGES="C", IMAGEGEN_LOCALEDIR=os.path.join(self.build, "po"))
        env.update(self.env_extra)
        env.update(HOME=self.home, XDG_RUNTIME_DIR=run, TMPDIR=tmp,
                   XDG_DATA_HOME=os.path.join(self.home, ".local", "share"),
                   XDG_CACHE_HOME=os.path.join(self.home, ".cache"),
                   GSETTINGS_BACKEND="memory")
        xvfb, display = _popen_fd(["Xvfb", "-displayfd", "{fd}", "-screen", "0", f"{self.screen}x24",
                                   "-nolisten", "tcp", "-noreset"], env, root, "xvfb",
                                  start_new_session=True)
        self.procs.append(("Xvfb", xvfb))
        env["DISPLAY"] = ":" + display
        bus, address = _popen_fd(["dbus-daemon", "--session", "--nofork", "--print-address={fd}",
                                  f"--address=unix:path={run}/bus"], env, root, "dbus",
                                 start_new_session=True)
        self.procs.append(("the session bus", bus))
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        self.env = env
        self._start_keyring()
        with open(os.path.join(root, "openbox.err"), "wb") as err:
            wm = subprocess.Popen(["openbox", "--sm-disable"], env=env, stdout=err, stderr=err,
                                  start_new_session=True)
        self.procs.append(("openbox", wm))
        wait_for("openbox to manage the screen",
                 lambda: subprocess.run(["xdotool", "get_desktop"], env=env, capture_output=True).returncode == 0,
                 timeout=20)
        # This process drives AT-SPI and takes screenshots on the same display and bus.
        os.environ.update(DISPLAY=env["DISPLAY"], DBUS_SESSION_BUS_ADDRESS=address)
        os.environ.pop("AT_SPI_BUS_ADDRESS", None)
        self.emulator = e2e.Emulator(os.path.join(self.build, "tests", "emulator", "imagegen-emulator"),
                                     root)
        gimp_env = dict(env, GTK_MODULES="gail:atk-bridge",
                        IMAGEGEN_DATADIR=os.path.join(self.source, "data"))
        if self.env_connection:
            gimp_env.update(OPENAI_BASE_URL=self.emulator.base + "/v1", OPENAI_API_KEY=API_KEY)
        self.timings["services"] = time.monotonic() - t0
        t1 = time.monotonic()
        self.gimp = Gimp(gimp_env, root)
        self.gimp.write(PRELUDE + "\n")
        self.gimp.run("(gimp-message-set-handler CONSOLE)", timeout=120)
        self.timings["gimp"] = time.monotonic() - t1

    def _start_keyring(self):
        with open(os.path.join(self.root, "keyring.err"), "wb") as err:
            keyring = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock",
                                        "--components=secrets"],
                                       stdin=subprocess.PIPE, stdout=err, stderr=err, env=self.env,
                                       start_new_session=True)
        self.procs.append(("gnome-keyring-daemon", keyring))
        keyring.stdin.write(b"test")
        keyring.stdin.close()

        def owned():
            r = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                                "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                                "string:org.freedesktop.secrets"], env=self.env, capture_output=True, text=True)
            return "boolean true" in r.stdout
        wait_for("gnome-keyring to own org.freedesktop.secrets", owned, timeout=20)

    # -- helpers

    def keyring_pid(self):
        """The process that owns org.freedesktop.secrets on the session bus: the private keyring."""
        r = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                            "/org/freedesktop/DBus", "org.freedesktop.DBus.GetConnectionUnixProcessID",
                            "string:org.freedesktop.secrets"], env=self.env, capture_output=True, text=True)
        found = [w for w in r.stdout.split() if w.isdigit()]
        if not found:
            raise Failure(f"no owner of org.freedesktop.secrets: {r.stdout} {r.stderr}")
        return int(found[-1])

    @contextlib.contextmanager
    def keyring_paused(self, longest=60):
        """The keyring stopped (SIGSTOP) for the block: every question to it waits. A watchdog
        lets it go after `longest` seconds, so that a plug-in that waits on it fails its case
        instead of hanging it. Nothing in the block may ask the keyring itself (secret_tool)."""
        pid = self.keyring_pid()
        resumed = threading.Event()

        def watchdog():
            if not resumed.wait(longest):
                os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGSTOP)
        thread = threading.Thread(target=watchdog, daemon=True)
        thread.start()
        try:
            yield
        finally:
            resumed.set()
            os.kill(pid, signal.SIGCONT)
            thread.join()

    def secret_tool(self, *args):
        return subprocess.run(["secret-tool", *args], env=self.env, capture_output=True, text=True)

    def xdotool(self, *args):
        return subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True)

    # -- stop

    def stop(self, graceful=True):
        """GIMP quits through Script-Fu (discarding the images) or is ended; then the others, by
        process group. Says what would not end. Not `graceful` (a failed case, which may have left
        a dialog open, so that Script-Fu never reads the quit): GIMP gets 3 s, then SIGTERM."""
        problems = []
        if self.gimp and self.gimp.proc.poll() is None:
            try:
                self.gimp.write("(gimp-quit 1)\n")
                self.gimp.proc.stdin.close()
            except OSError:
                pass
            try:
                self.gimp.proc.wait(timeout=20 if graceful else 3)
            except subprocess.TimeoutExpired:
                if graceful:
                    problems.append("GIMP did not quit within 20 s of (gimp-quit 1)")
        if self.gimp:
            self._end_group("GIMP", self.gimp.proc, problems)
        if self.emulator:
            try:
                self.emulator.stop()
            except (OSError, subprocess.TimeoutExpired) as e:
                problems.append(f"the emulator did not stop: {e}")
        for what, proc in reversed(self.procs):
            self._end_group(what, proc, problems)
        self.procs = []
        self.stop_problems = problems
        return problems

    def kill_now(self):
        """For SIGTERM (meson's timeout, which sends SIGKILL half a second later): every process
        group started here gets SIGKILL at once, without waiting."""
        groups = [p for _, p in self.procs] + ([self.gimp.proc] if self.gimp else [])
        if self.emulator:
            groups.append(self.emulator.proc)
        for proc in groups:
            for kill in (os.killpg, os.kill):
                try:
                    kill(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    @staticmethod
    def _end_group(what, proc, problems):
        pgid = proc.pid  # each was started as the leader of a process group of its own
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                problems.append(f"{what} ignored SIGTERM")
                proc.kill()
                proc.wait(timeout=10)
        # What it started (plug-ins, bus-activated services) and left behind.
        def group_gone():
            try:
                os.killpg(pgid, 0)
                return False
            except ProcessLookupError:
                return True
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if group_gone():
                return
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline and not group_gone():
                time.sleep(0.05)
        if not group_gone():
            problems.append(f"processes of {what}'s group survived SIGKILL")

    def cleanup(self):
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
