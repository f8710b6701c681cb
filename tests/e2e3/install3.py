#!/usr/bin/env python3
"""A user install for GIMP 3, checked with a fresh GIMP: `meson install` of this build into a
temporary DESTDIR puts the plug-in, its data and its translations into one folder of the GIMP 3
user folder the build was configured for (…/.config/GIMP/3.0 or 3.2/plug-ins/imagegen/), and
gimp-console-3, started with that folder's home, finds the four procedures with their menu entries,
arguments and icon.

    install3.py --build BUILD_DIR --source SOURCE_DIR
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e3  # noqa: E402
from e2e import Failure, check  # noqa: E402

QUERY = r'''
import json
from gi.repository import Gimp
out = {}
for name in ("plug-in-imagegen-edit", "plug-in-imagegen-generate", "plug-in-imagegen-new-image",
             "plug-in-imagegen-expand"):
    p = Gimp.get_pdb().lookup_procedure(name)
    if p is not None:
        out[name] = {"label": p.get_menu_label(), "paths": p.get_menu_paths(),
                     "arguments": [a.name for a in p.get_arguments()]}
print("E2E " + json.dumps(dict(procedures=out, what="procedures")), flush=True)
'''

EXPECTED = {
    # The Generative submenu's mnemonic is in the path: GIMP 3 takes it from there.
    "plug-in-imagegen-edit": ("_Edit Selection…", "<Image>/Filters/G_enerative",
                              ["run-mode", "image", "drawables", "prompt", "model", "n-images", "size",
                               "quality", "input-fidelity", "context", "feather", "connection", "options"]),
    "plug-in-imagegen-generate": ("_Generate Layer…", "<Image>/Filters/G_enerative",
                                  ["run-mode", "image", "drawables", "prompt", "model", "n-images", "size",
                                   "quality", "style", "background", "connection", "options"]),
    "plug-in-imagegen-new-image": ("_Generate Image…", "<Image>/File/Create",
                                   ["run-mode", "prompt", "model", "n-images", "size", "quality", "style",
                                    "background", "connection", "options"]),
    "plug-in-imagegen-expand": ("Generative E_xpand…", "<Image>/Image",
                                ["run-mode", "image", "drawables", "prompt", "left", "top", "right", "bottom",
                                 "model", "size", "quality", "n-images", "connection", "options"]),
}


def check_procedures(home, icon):
    """A fresh gimp-console-3 in `home` knows the four procedures with their menu entries and
    arguments, and registered `icon` (the installed SVG) for each."""
    done = subprocess.run(["gimp-console-3", "-i", "--quit", "--batch-interpreter=python-fu-eval", "-b", "-"],
                          input=QUERY, env=dict(os.environ, HOME=home, LC_ALL="C.UTF-8"),
                          capture_output=True, text=True, timeout=240)
    events = e2e3.events(done.stdout + done.stderr, "procedures")
    check(events, f"GIMP did not answer (exit {done.returncode})")
    procs = events[0]["procedures"]
    for name, (label, path, arguments) in EXPECTED.items():
        check(name in procs, f"GIMP does not know {name}")
        got = procs[name]
        check(got["label"] == label and got["paths"] == [path], f"{name}'s menu entry is {got}")
        check(got["arguments"] == arguments, f"{name}'s arguments are {got['arguments']}")
    with open(os.path.join(home, ".config", "GIMP", e2e3.gimp_version(), "pluginrc"), errors="replace") as f:
        icons = f.read().count(f'(icon image-file -1 "file://{icon}")')
    check(icons == 4, f"{icons} of the four procedures have the icon {icon}")


def run(build):
    root = tempfile.mkdtemp(prefix="imagegen-install3-")
    try:
        destdir = os.path.join(root, "dest")
        done = subprocess.run(["meson", "install", "-C", build, "--no-rebuild", "--quiet", "--destdir", destdir],
                              capture_output=True, text=True)
        check(done.returncode == 0, f"meson install failed: {done.stderr[-500:]}")
        found = [os.path.join(d, "imagegen") for d, _, files in os.walk(destdir)
                 if "imagegen" in files and d.endswith(os.path.join("plug-ins", "imagegen"))]
        check(len(found) == 1, f"the plug-in was installed at {found}")
        folder = os.path.dirname(found[0])
        gimpdir = os.path.dirname(os.path.dirname(folder))
        version = e2e3.gimp_version()
        check(os.path.basename(gimpdir) == version and gimpdir.endswith(os.path.join(".config", "GIMP", version)),
              f"the plug-in went to {folder}, not into GIMP {version}'s user folder")
        check(os.access(found[0], os.X_OK), "the plug-in is not executable")
        for f in ("models.json", "presets.json", "imagegen.svg",
                  os.path.join("locale", "de", "LC_MESSAGES", "imagegen-gimp.mo")):
            check(os.path.isfile(os.path.join(folder, f)), f"{f} is not beside the plug-in")
        home = os.path.dirname(os.path.dirname(os.path.dirname(gimpdir)))  # HOME/.config/GIMP/3.x
        check_procedures(home, os.path.join(folder, "imagegen.svg"))
        print(f"ok - install3-user into {folder[len(destdir):]}, GIMP {version} finds the four procedures")
        shutil.rmtree(root, ignore_errors=True)
        return 0
    except (Failure, OSError, subprocess.TimeoutExpired) as e:
        print(f"not ok - install3-user: {e}")
        print(f"# kept in {root}")
        return 1


def main(check_one=None):
    """One TAP test: this install's check, or another's (deb3.py) given (build, source)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--build")
    parser.add_argument("--source")
    args = parser.parse_args()
    print("1..1", flush=True)
    if check_one is not None:
        return check_one(os.path.abspath(args.build), os.path.abspath(args.source))
    return run(os.path.abspath(args.build))


if __name__ == "__main__":
    sys.exit(main())
