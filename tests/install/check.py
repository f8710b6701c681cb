#!/usr/bin/env python3
"""Installs the plug-in as a user or a package would, checks that a fresh GIMP finds it, and
removes it again. Prints TAP.

    check.py user --source SRC --build BUILD
        `meson setup` (install_scope=user) and `meson install` of SRC with HOME and
        XDG_CONFIG_HOME pointing to a temporary home; then GIMP in that home; then
        `ninja uninstall`.
    check.py deb --source SRC --build BUILD
        `dpkg-buildpackage -b` on a copy of SRC (the package's build, system scope), lintian,
        `apt-get install ./the.deb`, GIMP in a fresh home, `apt-get purge`. Needs root.

In both, GIMP (gimp-console-2.10) must list the four procedures in its PDB, show the installed
icon for them (pluginrc), and make an image with plug-in-imagegen-new-image against the
emulator of BUILD with no IMAGEGEN_DATADIR: the plug-in finds its model table where it was
installed.
"""
import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2e  # noqa: E402  (the emulator's wrapper)

PROCEDURES = ["plug-in-imagegen-edit", "plug-in-imagegen-generate", "plug-in-imagegen-new-image",
              "plug-in-imagegen-expand"]
PACKAGE = "imagegen-gimp"


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, detail=""):
        self.n += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {what}", flush=True)
        if not cond:
            self.failed += 1
            for line in str(detail).splitlines()[-40:]:
                print(f"# {line}", flush=True)
        return cond

    def end(self):
        print(f"1..{self.n}", flush=True)
        return 1 if self.failed else 0


def run(args, env=None, cwd=None, timeout=1200):
    """A command's exit status and its output (stdout and stderr together)."""
    p = subprocess.run(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, errors="replace", timeout=timeout, check=False)
    return p.returncode, p.stdout


def clean_env(home):
    """The environment of a user whose home is `home`: no service configured, no data folder
    named, no GIMP folder of its own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "AZURE_OPENAI_", "IMAGEGEN_", "XDG_", "GIMP2_"))}
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_DATA_HOME=os.path.join(home, ".local", "share"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"))
    return env


SCHEME = r"""
(define (say . parts) (gimp-message (apply string-append (cons "INSTALL-CHECK " parts))))
(define (check)
  (for-each (lambda (name)
              (say name " " (if (= (car (gimp-procedural-db-proc-exists name)) TRUE) "exists" "missing")))
            '(%(procedures)s))
  (let ((image (car (plug-in-imagegen-new-image RUN-NONINTERACTIVE "a red kite" "gpt-image-1" 1
                                                "1024x1024" "" "" "" "" ""))))
    (say "new-image " (number->string (car (gimp-image-width image))) "x"
         (number->string (car (gimp-image-height image))) " layers "
         (number->string (car (gimp-image-get-layers image))))))
"""


def check_gimp(tap, root, build, icon):
    """GIMP in a fresh home of `root`: the procedures, the icon, a new image from the emulator."""
    home = os.path.join(root, "gimp-home")
    os.makedirs(home, exist_ok=True)
    return gimp_in_home(tap, root, home, build, icon)


def gimp_in_home(tap, root, home, build, icon):
    scheme = os.path.join(root, "check.scm")
    with open(scheme, "w") as f:
        f.write(SCHEME % {"procedures": " ".join(f'"{p}"' for p in PROCEDURES)})
    emulator = e2e.Emulator(os.path.join(build, "tests", "emulator", "imagegen-emulator"), root)
    try:
        env = clean_env(home)
        env.update(OPENAI_BASE_URL=emulator.base + "/v1", OPENAI_API_KEY=e2e.API_KEY)
        status, out = run(["gimp-console-2.10", "-i", "-d", "-f",
                           "-b", f'(begin (load "{scheme}") (check))', "-b", "(gimp-quit 0)"],
                          env=env, timeout=300)
    finally:
        emulator.stop()
    lines = [line.split("INSTALL-CHECK ", 1)[1] for line in out.splitlines() if "INSTALL-CHECK " in line]
    for p in PROCEDURES:
        tap.ok(f"{p} exists" in lines, f"GIMP's PDB has {p}", out)
    tap.ok("new-image 1024x1024 layers 1" in lines,
           "plug-in-imagegen-new-image made a 1024x1024 image from the emulator, its model table "
           "found where it was installed", out)
    pluginrc = os.path.join(home, ".config", "GIMP", "2.10", "pluginrc")
    text = open(pluginrc, encoding="utf-8", errors="replace").read() if os.path.exists(pluginrc) else ""
    icons = re.findall(r'\(icon image-file -?\d+ "([^"]*)"\)', text)
    tap.ok(len(icons) == len(PROCEDURES) and set(icons) == {icon} and os.path.isfile(icon),
           f"every procedure has the icon {icon} in pluginrc", f"icons in pluginrc: {icons}")
    return status


def installed_files(builddir):
    """The files of meson's install log (which also names the folders it had to make)."""
    with open(os.path.join(builddir, "meson-logs", "install-log.txt"), encoding="utf-8") as f:
        paths = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    return [p for p in paths if not os.path.isdir(p)]


def user_install(tap, source, build, root):
    home = os.path.join(root, "home")
    os.makedirs(home)
    env = clean_env(home)
    builddir = os.path.join(root, "build")
    # Only what is installed is built (-Dtests=false), without optimisation: this build exists
    # to be installed, and the main build's tests cover the code.
    status, out = run(["meson", "setup", builddir, source, "-Dinstall_scope=user", "-Dtests=false",
                       "-Dbuildtype=plain", "-Dplugin=enabled"], env=env)
    if not tap.ok(status == 0, "meson setup -Dinstall_scope=user in a fresh home", out):
        return
    status, out = run(["ninja", "-C", builddir, "-j", "2"], env=env)
    if not tap.ok(status == 0, "the plug-in builds", out):
        return
    status, out = run(["meson", "install", "-C", builddir], env=env)
    tap.ok(status == 0, "meson install (no root, no DESTDIR)", out)

    folder = os.path.join(home, ".config", "GIMP", "2.10", "plug-ins", "imagegen")
    files = installed_files(builddir)
    expected = {os.path.join(folder, f) for f in ("imagegen", "models.json", "presets.json", "imagegen.svg")}
    tap.ok(expected <= set(files) and all(os.path.isfile(f) for f in expected),
           "the plug-in, models.json, presets.json and the icon are in ~/.config/GIMP/2.10/plug-ins/imagegen",
           "\n".join(files))
    tap.ok(all(f.startswith(folder + os.sep) for f in files),
           "nothing is installed outside that folder", "\n".join(files))
    tap.ok(os.access(os.path.join(folder, "imagegen"), os.X_OK)
           and not any(os.access(f, os.X_OK) for f in files if not f.endswith("/imagegen")),
           "only the plug-in is executable (GIMP runs every executable of its plug-in folders)")

    gimp_in_home(tap, root, home, build, os.path.join(folder, "imagegen.svg"))

    gimp_files = {"pluginrc", "sessionrc"} & set(os.listdir(os.path.join(home, ".config", "GIMP", "2.10")))
    status, out = run(["ninja", "-C", builddir, "uninstall"], env=env)
    tap.ok(status == 0, "ninja uninstall", out)
    left = [f for f in files if os.path.lexists(f)]
    tap.ok(not left, "every installed file is gone", "\n".join(left))
    tap.ok(not os.path.exists(folder), "the plug-in's folder is gone (meson made it)",
           "\n".join(glob.glob(os.path.join(folder, "**"), recursive=True)))
    still = {"pluginrc", "sessionrc"} & set(os.listdir(os.path.join(home, ".config", "GIMP", "2.10")))
    tap.ok(gimp_files and still == gimp_files, "GIMP's own files are left alone", f"{gimp_files} -> {still}")


def deb_install(tap, source, build, root):
    if os.geteuid() != 0:
        tap.ok(False, "the package check installs a .deb: it needs root")
        return
    status, out = run(["dpkg-query", "-W", "-f", "${Status}", PACKAGE])
    if not tap.ok("install ok installed" not in out,
                  f"{PACKAGE} is not installed already (the check would replace and purge it)", out):
        return
    tree = os.path.join(root, "src", PACKAGE)
    # dpkg-buildpackage writes the .deb into the parent folder and builds inside the tree: a
    # copy of the tracked files (as they are, committed or not) keeps the source folder clean.
    listed = subprocess.run(["git", "-C", source, "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, check=False)
    if not tap.ok(listed.returncode == 0, "the source tree's files (git ls-files)", listed.stderr):
        return
    for name in filter(None, listed.stdout.decode().split("\0")):
        if os.path.lexists(os.path.join(source, name)):  # a deletion not yet committed
            os.makedirs(os.path.dirname(os.path.join(tree, name)), exist_ok=True)
            shutil.copy2(os.path.join(source, name), os.path.join(tree, name), follow_symlinks=False)
    # .ci/run checks the packaging (dependencies, contents, lintian, install) and asks for an
    # unoptimised build (noopt) to save minutes of compiling; the default is the package's own.
    env = dict(os.environ,
               DEB_BUILD_OPTIONS=os.environ.get("IMAGEGEN_DEB_BUILD_OPTIONS", "nocheck parallel=2"))
    env.pop("DESTDIR", None)
    status, out = run(["dpkg-buildpackage", "-us", "-uc", "-b"], env=env, cwd=tree, timeout=900)
    if not tap.ok(status == 0, "dpkg-buildpackage -us -uc -b", out):
        return
    debs = glob.glob(os.path.join(root, "src", f"{PACKAGE}_*.deb"))
    if not tap.ok(len(debs) == 1, "one .deb", "\n".join(os.listdir(os.path.join(root, "src")))):
        return
    deb = debs[0]
    changes = glob.glob(os.path.join(root, "src", f"{PACKAGE}_*.changes"))
    status, out = run(["lintian", "--fail-on", "error,warning", "--info", changes[0] if changes else deb],
                      timeout=600)
    tap.ok(status == 0, "lintian: no errors, no warnings", out)
    print("# lintian:\n" + "\n".join("#   " + line for line in out.splitlines() if line.strip()), flush=True)

    status, out = run(["dpkg-deb", "-f", deb, "Depends"])
    tap.ok(status == 0 and re.search(r"\bgimp\b", out) and "libsoup-3.0" in out and "libgimp2.0" in out,
           "Depends names gimp and the libraries the plug-in links", out)
    status, out = run(["dpkg-deb", "-c", deb])
    contents = out
    plugindir = subprocess.run(["gimptool-2.0", "--gimpplugindir"], capture_output=True,
                               text=True).stdout.strip()
    if not tap.ok(plugindir != "", "gimptool-2.0 --gimpplugindir names GIMP's plug-in folder"):
        return
    for path in (f"{plugindir}/plug-ins/imagegen/imagegen", "/usr/share/imagegen/models.json",
                 "/usr/share/imagegen/presets.json", "/usr/share/imagegen/imagegen.svg",
                 "/usr/share/metainfo/org.gimp.GIMP.Plugin.Imagegen.metainfo.xml"):
        tap.ok(re.search(r" \." + re.escape(path) + r"$", contents, re.M) is not None,
               f"the package holds {path}", contents)

    apt_env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # meson ends a test that runs too long with SIGTERM: it becomes an exception here, so the
    # package is purged whatever happens once its install has begun.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    try:
        status, out = run(["apt-get", "install", "-y", "-q", "--no-install-recommends", deb],
                          env=apt_env, timeout=300)
        if tap.ok(status == 0, "apt-get install ./the.deb", out):
            check_gimp(tap, root, build, "/usr/share/imagegen/imagegen.svg")
    finally:
        status, out = run(["apt-get", "purge", "-y", "-q", PACKAGE], env=apt_env, timeout=600)
        tap.ok(status == 0, "apt-get purge", out)
        status, out = run(["dpkg-query", "-W", "-f", "${Status}", PACKAGE])
        tap.ok("install ok installed" not in out and not os.path.exists(f"{plugindir}/plug-ins/imagegen"),
               "the package and its plug-in folder are gone", out)


def checks_in_scratch(prefix, body):
    """Runs body(tap, root) with a fresh folder `root`: a crash is a failed check with its reason,
    and the folder goes when every check passed (it is kept for a look otherwise). Returns the
    exit status."""
    tap = Tap()
    root = tempfile.mkdtemp(prefix=prefix)
    try:
        body(tap, root)
    except Exception as e:  # a crash is a failed check, with its reason
        tap.ok(False, f"the check ran to its end ({type(e).__name__})", repr(e))
    finally:
        if tap.failed == 0:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"# kept for a look: {root}", flush=True)
    return tap.end()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["user", "deb"])
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    install = user_install if a.mode == "user" else deb_install
    return checks_in_scratch(f"imagegen-install-{a.mode}-", lambda tap, root: install(
        tap, os.path.abspath(a.source), os.path.abspath(a.build), root))


if __name__ == "__main__":
    sys.exit(main())
