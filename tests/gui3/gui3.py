#!/usr/bin/env python3
"""The dialog in the GUI GIMP 3 (gimp-3), under Xvfb, driven over AT-SPI the way tests/gui drives
it in 2.10 (its a11y module: controls by role and accessible name, never by coordinates). GIMP
runs a Python-Fu script that opens an image in a window and calls the procedure INTERACTIVE; this
side works the dialog, then the script reports what the call returned, the layers and the pixels
(tests/e2e3's Python-Fu), and the checks are on those and on the emulator's log.

Run inside a private session bus (meson runs it under dbus-run-session): the AT-SPI bus is found
through it.

    gui3.py --build BUILD_DIR --source SOURCE_DIR CASE
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e3"))
sys.path.insert(0, os.path.join(HERE, "..", "gui"))
import e2e  # noqa: E402
import e2e3  # noqa: E402
from e2e import API_KEY, Emulator, Failure, check, prompt_colour  # noqa: E402

PROMPT = "a red kite"
NOTES = []  # what a case saw, for its TAP line


def script(paths, then, procedure="plug-in-imagegen-edit"):
    """Python-Fu for GIMP: an image in a window, the interactive call, then `then`."""
    return e2e3.PRELUDE + f"""
image, layer = new_image(400, 300)
{e2e3.RECT}
display = Gimp.Display.new(image)
Gimp.displays_flush()
image.clean_all()
dump(image, {paths['before']!r})
dump_selection(image, {paths['selection']!r})
call({procedure!r}, image, [layer], mode=Gimp.RunMode.INTERACTIVE)
{then}
report_layers(image)
dump(image, {paths['after']!r})
image.clean_all()
display.delete()
"""


def button(dialog, name):
    """A button by name: AT-SPI 2.58 (Debian testing) says "button" where 2.46 said "push button"."""
    return a11y.poll(f'a button named "{name}"', lambda: next(iter(a11y.find_all(
        dialog, None, name, True, lambda acc: a11y.role(acc) in ("push button", "button"))), None), 10)


def menu_bar_menus():
    """The menus of GIMP's image window's menu bar (its Filters menu among them)."""
    for _app, window in a11y.windows(lambda app: "gimp" in (app.name or "").lower()):
        for bar in a11y.find_all(window, "menu bar"):
            menus = [m for m in bar if m is not None and a11y.role(m) == "menu"]
            if menus:
                return menus
    return []


def check_menu_mnemonic(notes):
    """Filters ▸ Generative in GIMP 3's image window: one submenu (the branch that gives the
    mnemonic and the entries' menu path agree), holding the entries, with an Alt key that no other
    entry of the Filters menu has (GIMP 3's Filters entries are not 2.10's)."""
    holders = a11y.poll("a menu of the menu bar holding Generative", lambda: [
        m for m in menu_bar_menus() if any(c is not None and c.name == "Generative" for c in m)], 30)
    check(len(holders) == 1, f"{len(holders)} menus of the menu bar hold a Generative submenu")
    filters = holders[0]
    entries = [c for c in filters if c is not None and a11y.role(c) in ("menu", "menu item")]
    keys = a11y.menu_entry_keys(filters)
    notes.append(f"{filters.name}: " + ", ".join(f"{c.name} [{a11y.key_binding(c) or '-'}]" for c in entries))
    ours = [c for c in entries if c.name == "Generative"]
    check(len(ours) == 1, f"{filters.name}: {len(ours)} submenus named Generative")
    # Edit Selection and Generate Layer (New Image is under File ▸ Create, Expand under Image).
    inside = [c.name for c in ours[0] if c is not None]
    check(len(inside) >= 2, f"{filters.name} ▸ Generative holds {inside}")
    mine = a11y.key_binding(ours[0])
    check(mine and keys[mine] == ["Generative"],
          f"{filters.name} ▸ Generative has no Alt key of its own: {mine!r} {keys.get(mine, '')} ({notes[-1]})")
    notes.append(f"{filters.name} ▸ Generative: Alt+{mine.upper()}")


def open_case(dialog, emulator):
    """GIMP's Filters ▸ Generative has an Alt key of its own; the dialog is dark, as GIMP 3's
    default theme; closed without inserting: a cancel, nothing sent."""
    check_menu_mnemonic(NOTES)
    check_dark(dialog.name)
    a11y.press(button(dialog, "Close"))


def check_dark(title):
    """GIMP 3's default theme is dark ("prefer-dark-theme"): so is the dialog."""
    import screenshot  # noqa: E402  (tests/gui's; after DISPLAY is set)
    found = subprocess.run(["xdotool", "search", "--name", title], capture_output=True, text=True).stdout.split()
    check(found, f'no X window titled "{title}"')
    path = os.path.join(tempfile.gettempdir(), f"imagegen-gui3-shade-{os.getpid()}.png")
    try:
        screenshot.window_png(int(found[0]), path)
        shade = screenshot.mean_grey(path)
    finally:
        if os.path.exists(path):
            os.remove(path)
    NOTES.append(f"the dialog's mean grey {shade:.0f} of 255 under GIMP 3's dark theme")
    check(shade < 110, f"the dialog is light (mean grey {shade:.0f}) under GIMP 3's dark theme")


def generate_insert_close(dialog):
    """A prompt, Generate, Insert once the result is there, Close."""
    prompt = a11y.control(dialog, "text", "Prompt")
    a11y.set_text(prompt, PROMPT)
    a11y.poll("the prompt to hold the text", lambda: a11y.text_of(prompt) == PROMPT, 5)
    generate = button(dialog, "Generate")
    a11y.wait_sensitive(generate, timeout=30)
    a11y.press(generate)
    insert = button(dialog, "Insert")
    a11y.wait_sensitive(insert, timeout=60)
    a11y.press(insert)
    # As in tests/gui: GTK handles the two presses in order, so Close comes after the insert.
    a11y.press(button(dialog, "Close"))


def insert_case(dialog, emulator):
    generate_insert_close(dialog)


def expand_case(dialog, emulator):
    """Generative Expand's dialog: the border on the right only, generated and inserted."""
    for side, value in (("Left", 0), ("Top", 0), ("Right", 250), ("Bottom", 0)):
        spin = a11y.control(dialog, "spin button", f"{side} margin")
        spin.queryValue().currentValue = float(value)
        a11y.poll(f"the {side} margin to be {value}", lambda: int(spin.queryValue().currentValue) == value, 5)
    generate_insert_close(dialog)


CASES = {
    # The dialog opens over the image from an interactive call, and closing it is a cancel.
    "open": {"drive": open_case, "then": "", "expect": "cancel"},
    # One result inserted: one masked layer, nothing outside the selection changed; then GIMP 3's
    # last values (kept from the interactive run) repeat the prompt with WITH-LAST-VALS.
    "insert": {"drive": insert_case, "expect": "insert",
               "then": "call('plug-in-imagegen-edit', image, [layer], mode=Gimp.RunMode.WITH_LAST_VALS)"},
    # Generative Expand from its dialog: the canvas grown by the margins set there, the original
    # bit-identical.
    "expand": {"drive": expand_case, "expect": "expand", "then": "", "procedure": "plug-in-imagegen-expand",
               "title": "Generative Expand — Imagegen"},
}


def a11y_failure():
    """tests/gui's own Failure, raised by its a11y module once that is imported."""
    harness = sys.modules.get("harness")
    return harness.Failure if harness is not None else Failure


def start_xvfb(root):
    r, w = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x900x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(root, "xvfb.log"), "w"))
    os.close(w)
    with os.fdopen(r) as f:
        display = f.readline().strip()
    if not display:
        raise Failure("Xvfb did not start")
    return xvfb, ":" + display


def verify(name, spec, log, requests, paths):
    before, after = e2e3.Dump(paths["before"]), e2e3.Dump(paths["after"])
    sel = e2e3.Coverage(paths["selection"])
    returned = e2e3.events(log, "returned")
    check(returned, "the interactive call returned nothing")
    layers = e2e3.events(log, "layers")[-1]["layers"]
    if spec["expect"] == "cancel":
        check(returned[0]["status"] == "cancel", f"closing the dialog returned {returned[0]}")
        check(before.raw == after.raw and len(layers) == 1, "closing the dialog changed the image")
        check(not requests, f"{len(requests)} requests sent")
        # The dialog said whether it was made transient for the image window (X11 under Xvfb).
        check("transient for the image window: x11" in log,
              "the dialog was not made transient for the image window")
        return "; ".join(NOTES + ["transient for the image window (X11)", "closed: a cancel, nothing sent"])
    if spec["expect"] == "expand":
        check(returned[0]["status"] == "success", f"the interactive expand returned {returned[0]}")
        check(len(requests) == 1, f"{len(requests)} requests, expected one tile")
        return e2e3.verify_expand((0, 0, 250, 0), before, after, layers, returned[0], prompt_colour(PROMPT))
    check(returned[0]["status"] == "success" and len(returned[0]["layers"]) == 1,
          f"the interactive call returned {returned[0]}")
    check(len(returned) == 2 and returned[1]["status"] == "success", f"WITH-LAST-VALS returned {returned[1:]}")
    check(len(requests) == 2, f"{len(requests)} requests, expected the dialog's and the repeat's")
    check(all(r["fields"]["prompt"] == PROMPT for r in requests),
          f"the prompts sent were {[r['fields'].get('prompt') for r in requests]}")
    results = [l for l in layers if l["id"] in returned[0]["layers"] + returned[1]["layers"]]
    check(len(results) == 2 and all(l["mask"] for l in results), f"the result layers: {results}")
    inside = e2e.compare_outside_and_inside(before, after, sel, prompt_colour(PROMPT), 6, False)
    return f"inserted and repeated: {inside} pixels inside, outside bit-identical"


def run_case(name, build, source):
    e2e.LOCALEDIR = os.path.join(build, "po")
    spec = CASES[name]
    print("1..1", flush=True)
    root = tempfile.mkdtemp(prefix=f"imagegen-gui3-{name}-")
    emulator = xvfb = gimp = None
    error, summary, seen = None, "", {}
    try:
        home = e2e3.prepare_home(build, source, root)
        emulator = Emulator(os.path.join(build, "tests", "emulator", "imagegen-emulator"), root)
        xvfb, display = start_xvfb(root)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPENAI_", "AZURE_OPENAI_")) and k not in ("LANGUAGE", "LC_ALL", "NO_AT_BRIDGE")}
        env.update(HOME=home, DISPLAY=display, LC_MESSAGES="C", IMAGEGEN_LOCALEDIR=e2e.LOCALEDIR,
                   OPENAI_BASE_URL=emulator.base + "/v1", OPENAI_API_KEY=API_KEY, GTK_A11Y="atspi",
                   IMAGEGEN_DEBUG_TRANSIENT="1")
        os.environ["DISPLAY"] = display
        global a11y
        import a11y  # noqa: E402  (after DISPLAY is set: it finds the AT-SPI bus through it)
        paths = {k: os.path.join(root, k) for k in ("before", "after", "selection")}
        with open(os.path.join(root, "gimp.out"), "w") as out, open(os.path.join(root, "gimp.err"), "w") as err:
            gimp = subprocess.Popen(["gimp-3", "--no-splash", "--quit", "--batch-interpreter=python-fu-eval",
                                     "-b", "-"], env=env, stdin=subprocess.PIPE, stdout=out, stderr=err, text=True)
            gimp.stdin.write(script(paths, spec["then"], spec.get("procedure", "plug-in-imagegen-edit")))
            gimp.stdin.close()
            dialog = a11y.wait_window(spec.get("title", "Edit Selection — Imagegen"), timeout=180)
            spec["drive"](dialog, emulator)
            gimp.wait(timeout=120)
        with open(os.path.join(root, "gimp.out"), errors="replace") as o, \
                open(os.path.join(root, "gimp.err"), errors="replace") as e_:
            log = e_.read() + o.read()
        requests = emulator.requests()
        e2e.check_auth({}, requests)
        summary = verify(name, spec, log, requests, paths)
    except (Failure, a11y_failure(), OSError, ValueError, KeyError, IndexError, subprocess.TimeoutExpired) as e:
        error = f"{type(e).__name__} {e}".strip()
    finally:
        if gimp is not None and gimp.poll() is None:
            gimp.kill()
            gimp.wait()
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()
        error = e2e.stop_emulator(emulator, seen, error)
    return e2e.report(name, root, seen, error, summary)


if __name__ == "__main__":
    sys.exit(e2e.main(CASES, run_case))
