#!/usr/bin/env python3
"""The Debian package for GIMP 3 (imagegen-gimp3, built with the profile pkg.imagegen-gimp.gimp3)
as a user of the package gets it: built from a copy of the source (`dpkg-buildpackage -b`),
lintian-clean, installed with apt, found by a fresh gimp-console-3 with its four procedures and
their icon, and purged with nothing of it left. Needs root: run in tools/gimp3-root's Debian 13
root (`meson test --suite deb3`).

    deb3.py --build BUILD_DIR --source SOURCE_DIR
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e3  # noqa: E402
import install3  # noqa: E402
from e2e import Failure, check  # noqa: E402

PACKAGE = "imagegen-gimp3"
PROFILE = "pkg.imagegen-gimp.gimp3"


def run(args, **kw):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                       check=False, **kw)
    return p.returncode, p.stdout


def copy_source(source, dest):
    """The tracked sources, without build folders (the package builds in its own tree)."""
    def ignore(folder, names):
        if os.path.samefile(folder, source):
            return [n for n in names if n.startswith(("build", "obj-")) or n in (".git", "node_modules")]
        return [n for n in names if n == "node_modules"]
    shutil.copytree(source, dest, ignore=ignore, symlinks=True)


def check_package(_build, source):
    root = tempfile.mkdtemp(prefix="imagegen-deb3-")
    installed = False
    try:
        check(os.geteuid() == 0, "the package check needs root (apt-get install)")
        src = os.path.join(root, "imagegen-gimp")
        copy_source(source, src)
        env = dict(os.environ, DEB_BUILD_PROFILES=PROFILE,
                   DEB_BUILD_OPTIONS=os.environ.get("IMAGEGEN_DEB_BUILD_OPTIONS", "nocheck parallel=2"))
        status, out = run(["dpkg-buildpackage", "-us", "-uc", "-b", f"--build-profiles={PROFILE}"], cwd=src, env=env)
        check(status == 0, "dpkg-buildpackage failed:\n" + out[-3000:])
        debs = glob.glob(os.path.join(root, f"{PACKAGE}_*.deb"))
        check(len(debs) == 1, f"the build made {os.listdir(root)}, not one {PACKAGE} package")
        deb = debs[0]
        status, out = run(["lintian", "--fail-on", "warning,error", deb])
        check(status == 0, "lintian:\n" + out[-3000:])
        status, out = run(["apt-get", "install", "-y", "-q", "--no-install-recommends", deb],
                          env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        check(status == 0, "apt-get install failed:\n" + out[-2000:])
        installed = True
        status, files = run(["dpkg", "-L", PACKAGE])
        program = [f for f in files.splitlines() if f.endswith("/gimp/3.0/plug-ins/imagegen/imagegen")]
        check(program and os.access(program[0], os.X_OK), f"no plug-in program in the package: {files}")
        home = os.path.join(root, "home")
        os.makedirs(home)
        install3.check_procedures(home, "/usr/share/imagegen/imagegen.svg")
        status, out = run(["apt-get", "purge", "-y", "-q", PACKAGE], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        check(status == 0, "apt-get purge failed:\n" + out[-2000:])
        installed = False
        left = [f for f in files.splitlines() if f.startswith("/usr/") and os.path.isfile(f)]
        check(not left, f"purged, but these are left: {left[:10]}")
        size = os.path.getsize(deb) // 1024
        print(f"ok - {os.path.basename(deb)} ({size} KiB) built, lintian-clean, installed, found by GIMP "
              f"{e2e3.gimp_version()} with its icon, purged")
        shutil.rmtree(root, ignore_errors=True)
        return 0
    except (Failure, OSError, subprocess.TimeoutExpired) as e:
        if installed:
            run(["apt-get", "purge", "-y", "-q", PACKAGE])
        print(f"not ok - deb3: {e}")
        print(f"# kept in {root}")
        return 1


if __name__ == "__main__":
    sys.exit(install3.main(check_package))
