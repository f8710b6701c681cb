#!/usr/bin/python3
"""GUI tests: the plug-in's GTK3 dialog, opened from an interactive call inside the real GUI GIMP
(under Xvfb, with openbox, a private session bus, the AT-SPI bus and a private keyring), driven
the way a screen reader does, through AT-SPI. Each case has a GIMP of its own, an image with a
display and a selection, and the emulator behind OPENAI_BASE_URL.

    gui.py --build BUILD_DIR --source SOURCE_DIR [--shots DIR] CASE
    gui.py --list

Prints TAP. A failed case prints what it saw: the AT-SPI tree of the plug-in's windows, GIMP's
stderr, the emulator's request log; its folder is kept. Run with /usr/bin/python3 (Debian's, which
has pyatspi)."""
import argparse
import json
import os
import re
import signal
import sys
import time
import traceback

from harness import API_KEY, WRONG_KEY, Failure, Session, e2e, scheme_string

a11y = None  # imported once the session has set DISPLAY and the bus (see harness.Session)
screenshot = None

MAIN_TITLES = {"edit": "Edit Selection — Imagegen", "generate": "Generate Layer — Imagegen",
               "new-image": "Generate Image — Imagegen", "expand": "Generative Expand — Imagegen"}
CONNECTIONS_TITLE = "Connections — Imagegen"

SETUP = """(begin
  (define img (new-image 400 300 RGB PRECISION-U8-GAMMA))
  (define layer (car (gimp-image-get-active-drawable img)))
  (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 100 80 120 90)
  (gimp-image-clean-all img)
  (define disp (car (gimp-display-new img)))
  (gimp-displays-flush)
  (export img "{before}") (export-selection img "{selection}"))"""

IMAGE_WINDOW = "[Untitled]"


def edit_call(full=True):
    args = ' "" "" -1 "" "" "" -1 -1 "" ""' if full else ""
    return f"(report-result (plug-in-imagegen-edit RUN-INTERACTIVE img layer{args}))"


def generate_call():
    return ('(report-result (plug-in-imagegen-generate RUN-INTERACTIVE img layer "" "" -1 "" "" "" "" "" ""))')


def expand_call():
    return ('(report-result (plug-in-imagegen-expand RUN-INTERACTIVE img layer "" 0 0 0 0 "" "" "" -1 "" ""))')


def check(cond, what):
    if not cond:
        raise Failure(what)


class Case:
    """What every case shares: the session, the image, the dialog's controls by name."""

    def __init__(self, session, shots, notes):
        self.s = session
        self.gimp = session.gimp
        self.emu = session.emulator
        self.shots = shots
        self.notes = notes  # lines for the TAP output (timings, figures)
        self.paths = {k: os.path.join(session.root, f"{k}.pnm") for k in ("before", "after", "selection")}
        self.dialog = None
        self.image_title = IMAGE_WINDOW

    # -- the image

    def setup_image(self):
        self.gimp.run(SETUP.format(**self.paths))
        a11y.wait_window(self.image_title, timeout=60)

    def image_window(self):
        return a11y.wait_window(self.image_title)

    def layers(self):
        lines = self.gimp.run("(report-layers img)")
        return e2e.parse_layers(lines), lines

    def export_after(self):
        self.gimp.run(f'(export img "{self.paths["after"]}")')
        return e2e.Pnm(self.paths["before"]), e2e.Pnm(self.paths["after"]), e2e.Pnm(self.paths["selection"])

    # -- the dialog

    def open(self, call, kind="edit"):
        """Sends the interactive call; returns its Script-Fu number once the dialog shows."""
        t0 = time.monotonic()
        n = self.gimp.send(call)
        self.dialog = self.wait_dialog(MAIN_TITLES[kind], n)
        took = time.monotonic() - t0
        self.notes.append(f"{kind} dialog on AT-SPI {took:.2f} s after the call was sent")
        return n

    def wait_dialog(self, title, call=None, timeout=60):
        def shown():
            if call is not None:
                self.gimp.result(call)  # fails early when the call ended in an error
            return a11y.find_window(title)
        return a11y.poll(f'the window "{title}"', shown, timeout)

    def c(self, role, name, root=None, timeout=10):
        return a11y.control(root or self.dialog, role, name, timeout=timeout)

    def button(self, name, root=None):
        return self.c("push button", name, root)

    def press(self, name, root=None):
        b = self.button(name, root)
        a11y.wait_sensitive(b, timeout=30)
        a11y.press(b)

    def set_prompt(self, text):
        prompt = self.c("text", "Prompt")
        a11y.set_text(prompt, text)
        a11y.poll("the prompt to hold the text", lambda: a11y.text_of(prompt) == text, 5)

    def set_spin(self, name, value):
        spin = self.c("spin button", name)
        spin.queryValue().currentValue = float(value)
        a11y.poll(f'"{name}" to be {value}', lambda: abs(spin.queryValue().currentValue - value) < 1e-6, 5)

    def status(self):
        return a11y.text_of(self.c("label", "Status"))

    def wait_status(self, pred, what, timeout=60):
        label = self.c("label", "Status")
        return a11y.poll(f"the Status label to {what}", lambda: pred(a11y.text_of(label)) and a11y.text_of(label),
                         timeout)

    def results_box(self):
        """The "Results" list. GTK 3's GtkFlowBox says it is a table (ATK_ROLE_TABLE) unless the
        dialog sets the role; either is accepted, and a table is noted."""
        box = a11y.poll('the "Results" list', lambda: a11y.find(self.dialog, "list box", "Results", True)
                        or a11y.find(self.dialog, "table", "Results", True), 10)
        if a11y.role(box) != "list box":
            note = f'contract: "Results" has the role {a11y.role(box)!r}, not "list box"'
            if note not in self.notes:
                self.notes.append(note)
        return box

    def results(self):
        return [c.name for c in self.results_box() if c is not None]

    def wait_results(self, count, timeout=60):
        return a11y.poll(f"{count} result(s) in the Results list",
                         lambda: len(self.results()) >= count and self.results(), timeout)

    def info_messages(self):
        bars = a11y.find_all(self.dialog, "info bar")
        out = []
        for bar in bars:
            if a11y.is_showing(bar):
                out += [l.name or a11y.text_of(l) for l in a11y.find_all(bar, "label") if a11y.is_showing(l)]
        return [m for m in out if m]

    def close(self, call):
        """The dialog's Close button; waits for the window to go and the call to return."""
        title = self.dialog.name
        self.press("Close")
        a11y.poll(f'"{title}" to close', lambda: a11y.find_window(title) is None, 30)
        return self.gimp.wait(call, timeout=30, what="the interactive call to return after the dialog closed")

    def open_advanced(self):
        """Opens the Advanced expander, where the API's further fields are."""
        advanced = a11y.control(self.dialog, "toggle button", "Advanced")
        if not a11y.states(advanced).contains(a11y.pyatspi.STATE_EXPANDED):
            a11y.press(advanced)
            a11y.poll("Advanced to open", lambda: a11y.states(advanced).contains(a11y.pyatspi.STATE_EXPANDED), 10)

    def activate(self, title):
        """Makes the X window titled `title` the one keys go to, as a click on it would."""
        for xid in self.s.xdotool("search", "--name", "Imagegen").stdout.split():
            if self.s.xdotool("getwindowname", xid).stdout.strip() == title:
                self.s.xdotool("windowactivate", "--sync", xid)
                a11y.poll(f'"{title}" to be active',
                          lambda: a11y.states(self.dialog).contains(a11y.pyatspi.STATE_ACTIVE), 10)
                return
        raise Failure(f'no X window titled "{title}"')

    def key(self, name):
        """A key pressed on the keyboard (xdotool's names: Tab, ctrl+Return…)."""
        self.s.xdotool("key", "--clearmodifiers", name)

    def screen_shot(self, name):
        if not self.shots:
            return
        os.makedirs(self.shots, exist_ok=True)
        path = os.path.join(self.shots, name)
        w, h = screenshot.screen_png(path)
        self.notes.append(f"screenshot {path} ({w}x{h})")

    def shot(self, title, name):
        if not self.shots:
            return
        os.makedirs(self.shots, exist_ok=True)
        ids = self.s.xdotool("search", "--name", "Imagegen").stdout.split()
        for xid in ids:
            if self.s.xdotool("getwindowname", xid).stdout.strip() == title:
                path = os.path.join(self.shots, name)
                w, h = screenshot.window_png(int(xid), path)
                self.notes.append(f"screenshot {path} ({w}x{h})")
                return
        raise Failure(f'no X window titled "{title}" for the screenshot')

    def window_shade(self, title):
        """The mean grey (0-255) of the window titled `title`, inside its frame."""
        path = os.path.join(self.s.root, "shade.png")
        for xid in self.s.xdotool("search", "--name", "Imagegen").stdout.split():
            if self.s.xdotool("getwindowname", xid).stdout.strip() == title:
                screenshot.window_png(int(xid), path)
                return screenshot.mean_grey(path)
        raise Failure(f'no X window titled "{title}"')

    # -- undo through GIMP's own Edit menu

    def edit_items(self):
        """The items of GIMP's Edit menu, their names read from GIMP now rather than from
        libatspi's cache (the labels change with the undo stack)."""
        edit = a11y.control(self.image_window(), "menu", "Edit", timeout=10)
        items = [c for c in edit if c is not None and a11y.role(c) == "menu item"]
        for c in items:
            c.clear_cache()
        return items

    def undo_item(self):
        items = self.edit_items()
        undo = [c for c in items if (c.name or "").startswith("Undo") and c.name != "Undo History"]
        check(undo, f"no Undo item in GIMP's Edit menu: {[c.name for c in items]}")
        return undo[0]

    def undo_once(self):
        """Undoes the last step through the Edit menu, and returns once GIMP has undone it. The
        menu item's action runs later, in GIMP's main loop, and Script-Fu's calls are served
        beside it: without this wait, listing the layers raced the undo (a layer went away
        between gimp-image-get-layers and gimp-drawable-width, "called with an invalid ID").
        GIMP relabels its Redo item after the step is undone: "Undo X" becomes "Redo X"."""
        item = self.undo_item()
        name = item.name
        a11y.wait_sensitive(item, timeout=10)
        redo = "Redo" + name[len("Undo"):]
        offered = [c.name for c in self.edit_items()]
        check(redo not in offered, f"GIMP's Edit menu offers {redo!r} before the undo: {offered}")
        a11y.press(item)
        a11y.poll(f'GIMP to have undone "{name}" (its Edit menu to offer "{redo}")',
                  lambda: redo in [c.name for c in self.edit_items()], 60)
        return name

    def requests(self):
        return self.emu.requests()


def track_description(acc, until, timeout=60):
    """Every distinct value the accessible description takes, with the time it was first seen,
    until `until(values)` holds."""
    seen = []

    def step():
        d = acc.description
        if not seen or seen[-1][0] != d:
            seen.append((d, time.monotonic()))
        return until([v for v, _ in seen])
    try:
        a11y.wait_for("the Preview's description to go through the partial images to a result", step,
                      timeout=timeout, interval=0.01, pump=a11y.pump)
    except Failure as e:
        raise Failure(f"{e}; descriptions seen: {[v for v, _ in seen]}") from None
    return seen


# ---------------------------------------------------------------- cases

def case_open(t):
    """The interactive edit call opens the dialog; so do GIMP's menus (run-mode, image, drawable
    only), for Edit Selection… and File ▸ Create ▸ Generate Image…; and the generate call."""
    t.setup_image()
    n = t.open(edit_call(), "edit")
    for role, name in (("push button", "Generate"), ("text", "Prompt"), ("combo box", "Model"),
                       ("push button", "Close"), ("label", "Status")):
        t.c(role, name)
    preview = t.c("image", "Preview")
    check(preview.description == "No result yet", f'the Preview says {preview.description!r}, not "No result yet"')
    for name in ("Cancel", "Insert", "Insert all"):
        check(not a11y.states(t.button(name)).contains(a11y.SENSITIVE), f'"{name}" is sensitive before any run')
    check(a11y.states(t.button("Generate")).contains(a11y.SENSITIVE), '"Generate" is not sensitive')
    bars = [b for b in a11y.find_all(t.dialog, "info bar") if a11y.is_showing(b)]
    check(not bars, "an info bar shows with no message")
    t.shot(MAIN_TITLES["edit"], "dialog-open.png")
    # GIMP's default theme is Dark: the dialog follows it (GTK's dark variant, asked for before
    # the first widget is made).
    shade = t.window_shade(MAIN_TITLES["edit"])
    t.notes.append(f"the dialog's mean grey {shade:.0f} of 255 under GIMP's Dark theme")
    check(shade < 110, f"the dialog is light (mean grey {shade:.0f}) under GIMP's Dark theme")
    t.close(n)

    # The menu call: Filters ▸ Generative ▸ Edit Selection… in the image window.
    menus = a11y.control(t.image_window(), "menu", "Filters")
    generative = a11y.control(menus, "menu", "Generative", showing=False)
    item = a11y.control(generative, "menu item", "Edit Selection…", showing=False)
    t0 = time.monotonic()
    a11y.press(item)
    t.dialog = t.wait_dialog(MAIN_TITLES["edit"])
    t.notes.append(f"edit dialog from the menu on AT-SPI {time.monotonic() - t0:.2f} s after the click")
    t.button("Generate")
    t.press("Close")
    a11y.poll("the menu's dialog to close", lambda: a11y.find_window(MAIN_TITLES["edit"]) is None, 30)

    n = t.open(generate_call(), "generate")
    t.close(n)

    create = a11y.control(a11y.control(t.image_window(), "menu", "File"), "menu", "Create", showing=False)
    a11y.press(a11y.control(create, "menu item", "Generate Image…", showing=False))
    t.dialog = t.wait_dialog(MAIN_TITLES["new-image"])
    t.press("Close")
    a11y.poll("the Generate Image dialog to close", lambda: a11y.find_window(MAIN_TITLES["new-image"]) is None, 30)
    layers, _ = t.layers()
    check(len(layers) == 1, f"opening and closing dialogs changed the layers: {layers}")


def case_stream(t):
    """Stream previews: the Preview's description follows each partial image, then the result;
    the Results list and the Status's token usage."""
    t.setup_image()
    t.emu.control("latency", {"ms": 0, "stream_delay_ms": 600})
    n = t.open(edit_call())
    t.set_prompt("a glass of water")
    a11y.set_checked(t.c("check box", "Stream previews"), True)
    preview = t.c("image", "Preview")
    t.press("Generate")
    seen = track_description(preview, lambda vs: "Result 1" in vs, timeout=60)
    values = [v for v, _ in seen]
    partials = [v for v in values if v.startswith("Partial image")]
    check(len(partials) >= 2 and partials[0].startswith("Partial image 1 of ")
          and partials[1].startswith("Partial image 2 of "),
          f"the Preview did not show the partial images in turn: {values}")
    check(values.index(partials[-1]) < values.index("Result 1"), f"the result came before a partial: {values}")
    t.wait_results(1)
    check(t.results() == ["Result 1"], f"Results holds {t.results()}")
    status = t.wait_status(lambda s: "token" in s, "show the token usage")
    t.notes.append(f"status after the run: {status!r}")
    reqs = t.requests()
    check(len(reqs) == 1, f"{len(reqs)} requests")
    fields = reqs[0]["fields"]
    check(fields.get("stream") == "true" and fields.get("partial_images") == "2",
          f"not a streamed request with partial_images 2: {fields}")
    # From a partial leaving the emulator to the description saying so (polled every 50 ms).
    chunks = reqs[0]["chunks_written_at_us"]
    delays = []
    for k, part in enumerate(partials[:2]):
        if k < len(chunks):
            seen_at = next(ts for v, ts in seen if v == part)
            delays.append(seen_at - chunks[k] / 1e6)
    if delays:
        t.notes.append("partial image written by the emulator → Preview description: "
                       + ", ".join(f"{d * 1000:.0f} ms" for d in delays))
    t.shot(MAIN_TITLES["edit"], "dialog.png")
    t.close(n)
    layers, _ = t.layers()
    check(len(layers) == 1, "closing without Insert added layers")


def case_insert(t):
    """Insert puts the selected result into the image as a masked layer over the selection, in
    one undo step; Insert all with two results puts both, in one step."""
    t.setup_image()
    prompt = "a red boat"
    n = t.open(edit_call())
    t.set_prompt(prompt)
    t.press("Generate")
    t.wait_results(1)
    a11y.select_child(t.results_box(), "Result 1")
    t.press("Insert")
    t.close(n)
    layers, lines = t.layers()
    added = [l for l in layers if l["name"] != "background"]
    check(len(added) == 1, f"Insert made {len(added)} layers: {lines}")
    check(added[0]["mask"] > 0, "the inserted layer has no layer mask")
    before, after, sel = t.export_after()
    e2e.compare_outside_and_inside(before, after, sel, e2e.prompt_colour(prompt), margin=6, gray=False)

    step = t.undo_once()
    t.notes.append(f"GIMP's Edit menu offered {step!r}")
    layers, lines = t.layers()
    check(len(layers) == 1, f"one undo left {lines}")
    check(t.gimp.run("(e2e \"sel \" (num (car (gimp-selection-is-empty img))))") == ["sel 0"],
          "one undo also undid the selection made before the dialog")
    _, after2, _ = t.export_after()
    check(after2.raw == before.raw, "after one undo the image differs from before the Insert")

    # Insert all, n = 2
    prompt2 = "two green apples"
    n = t.open(edit_call())
    t.set_prompt(prompt2)
    t.set_spin("Images", 2)
    t.press("Generate")
    t.wait_results(2)
    t.press("Insert all")
    t.close(n)
    layers, lines = t.layers()
    groups = [l for l in layers if l["group"] == 1]
    results = [l for l in layers if l["depth"] == 1]
    check(len(groups) == 1 and len(results) == 2, f"Insert all of two results made: {lines}")
    step = t.undo_once()
    layers, lines = t.layers()
    check(len(layers) == 1, f"one undo ({step!r}) after Insert all left {lines}")
    check(t.requests()[-1]["fields"].get("n") == "2", f"the second request asked n={t.requests()[-1]['fields'].get('n')}")


def case_cancel(t):
    """Cancel during a slow answer: the request is closed, no layer is added."""
    t.setup_image()
    t.emu.control("latency", {"ms": 20000})
    n = t.open(edit_call())
    t.set_prompt("a slow horse")
    t.press("Generate")
    cancel = t.button("Cancel")
    a11y.wait_sensitive(cancel, timeout=20)
    a11y.poll("the request to reach the emulator", lambda: len(t.requests()) == 1, 30)
    a11y.press(cancel)
    t.wait_status(lambda s: "Cancel" in s, 'say "Cancelled"', timeout=15)
    a11y.wait_sensitive(cancel, timeout=10, sensitive=False)
    ended = a11y.poll("the emulator to see the request closed",
                      lambda: t.requests()[0]["ended"] == "client_closed" and t.requests()[0]["ended"], 10)
    check(ended == "client_closed", f"request ended: {ended}")
    check(not t.results(), f"a cancelled run left results: {t.results()}")
    t.close(n)
    layers, lines = t.layers()
    check(len(layers) == 1, f"a cancelled run added layers: {lines}")
    check("dirty 0" in lines, "a cancelled run left the image dirty")


def case_content_filter(t):
    """The service refuses the prompt: its message shows in the info bar, once."""
    t.setup_image()
    t.emu.faults({"kind": "content_filter", "stage": "input"})
    n = t.open(edit_call())
    t.set_prompt("something the filter refuses")
    t.press("Generate")
    msgs = a11y.poll("a message in the info bar", t.info_messages, 30)
    refused = [m for m in msgs if re.search(r"refused the prompt", m, re.I)]
    check(refused, f"the info bar says {msgs}, not that the prompt was refused")
    check(len(refused) == 1 and refused[0].lower().count("refused the prompt") == 1,
          f"the refusal shows more than once: {msgs}")
    t.notes.append(f"info bar: {refused[0]!r}")
    check(not t.results(), "a refused run left results")
    t.close(n)
    layers, lines = t.layers()
    check(len(layers) == 1, f"a refused run added layers: {lines}")


def case_connection(t):
    """A connection saved from the Connections dialog: its key in the keyring only, and Test
    connection reports a wrong key as such."""
    t.setup_image()
    n = t.open(edit_call())
    main = t.dialog
    t.press("Connections…")
    conn = t.wait_dialog(CONNECTIONS_TITLE)
    t.dialog = conn
    name = "gui emulator"
    t.press("Add")
    a11y.set_text(t.c("text", "Name"), name)
    a11y.select_item(t.c("combo box", "Kind"), "OpenAI")
    a11y.set_text(t.c("text", "Endpoint"), t.emu.base + "/v1")
    key_field = t.c("password text", "API key")
    a11y.set_text(key_field, WRONG_KEY)
    t.press("Save")
    a11y.poll(f'"{name}" in the Saved connections list',
              lambda: name in [c.name for c in t.c("list box", "Saved connections") if c is not None], 15)
    found = a11y.poll("the key in the keyring",
                      lambda: (lambda r: r.returncode == 0 and WRONG_KEY in r.stdout and r.stdout)(
                          t.s.secret_tool("search", "--all", "connection", name)), 15)
    check(f"secret = {WRONG_KEY}" in found, f"secret-tool found: {found.replace(WRONG_KEY, '<KEY>')}")
    ini = os.path.join(t.s.home, ".config", "GIMP", "2.10", "imagegen", "connections.ini")
    check(os.path.exists(ini), f"no {ini} after Save")
    with open(ini, encoding="utf-8") as f:
        text = f.read()
    check(f"[connection {name}]" in text, f"connections.ini has no [connection {name}]:\n{text}")
    check(WRONG_KEY not in text, "the key is in connections.ini")
    storage = t.c("label", "Key storage")
    t.notes.append(f"Key storage: {a11y.text_of(storage)!r}")
    t.press("Test connection")
    result = t.c("label", "Test result")
    said = a11y.poll("the Test result label to report the refused key",
                     lambda: (lambda s: "401" in s and s)(a11y.text_of(result)), 30)
    t.notes.append(f"Test result: {said!r}")
    # Saving moved the typed key to the keyring: the test says it used that one, and calls it
    # a refused key.
    check("key was refused" in said and "saved in the keyring" in said,
          f"Test result does not name a refused key and where it came from: {said!r}")
    reqs = t.requests()
    check(reqs and all(r["status"] == 401 for r in reqs), f"the test sent {[(r['path'], r['status']) for r in reqs]}")
    t.shot(CONNECTIONS_TITLE, "connections.png")
    t.press("Close")
    a11y.poll("the Connections dialog to close", lambda: a11y.find_window(CONNECTIONS_TITLE) is None, 15)
    t.dialog = main
    # The main dialog offers the new connection.
    items = a11y.items_of(t.c("combo box", "Connection"))
    check(any(name in i for i in items), f'the Connection combo box offers {items}, not "{name}"')
    t.close(n)


def case_close_mid_run(t):
    """Closing the dialog while a request is in flight: by its Close button, then by the window
    manager's close (Alt+F4): the call returns, the request is closed, no layer, GIMP lives."""
    t.setup_image()
    t.emu.control("latency", {"ms": 20000})
    for way in ("Close button", "Alt+F4"):
        count = len(t.requests())
        n = t.open(edit_call())
        t.set_prompt(f"closed during the run ({way})")
        t.press("Generate")
        a11y.poll("the request to reach the emulator", lambda: len(t.requests()) == count + 1, 30)
        if way == "Close button":
            t.press("Close")
        else:
            ids = [x for x in t.s.xdotool("search", "--name", "Imagegen").stdout.split()
                   if t.s.xdotool("getwindowname", x).stdout.strip() == MAIN_TITLES["edit"]]
            check(ids, "no X window for the dialog")
            r = t.s.xdotool("windowactivate", "--sync", ids[0], "key", "--clearmodifiers", "alt+F4")
            check(r.returncode == 0, f"xdotool: {r.stderr}")
        a11y.poll("the dialog to close", lambda: a11y.find_window(MAIN_TITLES["edit"]) is None, 30)
        t.gimp.wait(n, timeout=30, what=f"the interactive call to return after the {way} mid-run")
        ended = a11y.poll("the emulator to see the request closed",
                          lambda: t.requests()[-1]["ended"] == "client_closed", 10)
        check(ended, "the request was not closed")
        check(t.s.gimp.proc.poll() is None, "GIMP died")
        layers, lines = t.layers()
        check(len(layers) == 1, f"closing mid-run ({way}) added layers: {lines}")
        check("dirty 0" in lines, f"closing mid-run ({way}) left the image dirty")
    crashes = [l for l in t.gimp.errors().splitlines() if re.search(r"crash|segmentation|terminated|abort", l, re.I)]
    check(not crashes, f"GIMP reported: {crashes}")


def case_expand(t):
    """Generative Expand from its dialog: the margins follow a chosen aspect ratio and where the
    picture stays; a cancel while a tile is drawn adds nothing; Insert grows the canvas with
    the original bit-identical, in one undo step."""
    t.setup_image()
    n = t.open(expand_call(), "expand")
    canvas = t.c("label", "New canvas")
    said = a11y.poll("the new canvas's size", lambda: (lambda s: "×" in s and s)(a11y.text_of(canvas)), 10)
    check("912 × 300" in said, f"with the default margins (256 left and right) the label says {said!r}")

    def margins():
        return tuple(int(t.c("spin button", f"{side} margin").queryValue().currentValue)
                     for side in ("Left", "Top", "Right", "Bottom"))

    a11y.select_item(t.c("combo box", "Aspect ratio"), "16:9")
    # 400x300 to 16:9: 534 pixels wide (300 × 16 / 9, rounded up), the picture in the middle.
    got = a11y.poll("the margins of 16:9", lambda: margins() == (67, 0, 67, 0) and margins(), 10)
    check(got == (67, 0, 67, 0), f"16:9 set the margins {margins()}")
    a11y.select_item(t.c("combo box", "Picture position"), "At the left or top")
    a11y.poll("the border on the right only", lambda: margins() == (0, 0, 134, 0), 10)
    a11y.poll("the label to say 534 × 300", lambda: "534 × 300" in a11y.text_of(canvas), 10)
    region = t.c("image", "Region sent")
    a11y.poll("the thumbnail to describe the new canvas", lambda: "534 × 300" in (region.description or ""), 10)
    t.set_prompt("a calm sea")

    # A cancel while the tile is in flight: nothing is added, the canvas keeps its size.
    t.emu.control("latency", {"ms": 20000})
    t.press("Generate")
    cancel = t.button("Cancel")
    a11y.wait_sensitive(cancel, timeout=20)
    a11y.poll("the tile's request to reach the emulator", lambda: len(t.requests()) == 1, 30)
    t.wait_status(lambda s: "tile 1 of 1" in s, 'say "tile 1 of 1"', timeout=10)
    a11y.press(cancel)
    t.wait_status(lambda s: "Cancel" in s, 'say "Cancelled"', timeout=15)
    check(not t.results(), f"a cancelled expand left results: {t.results()}")

    t.emu.control("latency", {"ms": 0})
    t.press("Generate")
    t.wait_results(1)
    status = t.wait_status(lambda s: s.startswith("Done"), "say Done", timeout=60)
    t.notes.append(f"status after the expand: {status!r}")
    req = t.requests()[-1]
    check(req["path"].endswith("/images/edits") and req["fields"].get("size") == "1024x1024",
          f"the tile went as {req['path']} {req['fields']}")
    t.shot(MAIN_TITLES["expand"], "expand-dialog.png")
    a11y.select_child(t.results_box(), "Result 1")
    t.press("Insert")
    t.close(n)

    layers, lines = t.layers()
    added = [l for l in layers if l["name"] != "background"]
    check(len(added) == 1 and (added[0]["x"], added[0]["y"], added[0]["w"], added[0]["h"]) == (0, 0, 534, 300)
          and added[0]["mask"] > 0, f"Insert made: {lines}")
    before, after, _ = t.export_after()
    check((after.width, after.height) == (534, 300), f"the canvas is {after.width}x{after.height}")
    step = before.channels * before.bytes_per_sample
    for y in range(before.height):
        check(after.row(y)[:before.width * step] == before.row(y), f"row {y} of the original changed")
    colour = e2e.prompt_colour("a calm sea")
    worst = max(max(abs(g - e) for g, e in zip(after.pixel(x, y), colour))
                for y in range(0, 300, 7) for x in range(400, 534, 3))
    check(worst <= 4.5, f"a border pixel is {worst} levels from the prompt's colour {colour}")

    undone = t.undo_once()
    t.notes.append(f"GIMP's Edit menu offered {undone!r}")
    layers, lines = t.layers()
    _, after2, _ = t.export_after()
    check(len(layers) == 1 and (after2.width, after2.height) == (400, 300) and after2.raw == before.raw,
          f"one undo did not restore the image: {lines}")


def extents(acc):
    """Where a control is on the screen: x, y, width, height."""
    box = acc.queryComponent().getExtents(a11y.pyatspi.DESKTOP_COORDS)
    return box.x, box.y, box.width, box.height


def mnemonics(window):
    """The Alt+key mnemonics of the controls showing in a window: {key: [control names]}. GTK
    gives a control's mnemonic as the first part of its action's key binding ("<Alt>g;;")."""
    keys = {}
    for acc, _ in a11y.walk(window):
        try:
            if not a11y.is_showing(acc):
                continue
            first = a11y.key_binding(acc)
        except (a11y.GLib.Error, NotImplementedError):
            continue
        if first.startswith("<alt>"):
            keys.setdefault(first[len("<alt>"):], []).append(f"{a11y.role(acc)} {acc.name!r}")
    return keys


def check_mnemonics(t, window, where):
    keys = mnemonics(window)
    twice = {k: v for k, v in keys.items() if len(v) > 1}
    t.notes.append(f"{where}: {len(keys)} mnemonics")
    check(not twice, f"{where}: one Alt key opens several controls: {twice}")


# The Filters submenu the entries go in, as each language names it (the catalogues' translation
# of the menu path's last part; in Japanese with the mnemonic after it, as GIMP writes its own).
GENERATIVE = {"en": "Generative", "de": "Generativ", "fr": "Génératif", "es": "Generativo", "ja": "生成AI(V)"}


def check_menu_mnemonic(t, language="en"):
    """The Generative submenu of the image window's Filters menu: one of it (the branch that gives
    the mnemonic and the entries' menu path agree), holding the entries, with an Alt key that no
    other entry of the Filters menu has."""
    name = GENERATIVE[language]
    window = t.image_window()
    bar = [m for m in a11y.find_all(window, "menu", None) if m.parent is not None
           and a11y.role(m.parent) == "menu bar"]
    holders = [m for m in bar if any(c.name == name for c in m)]
    check(len(holders) == 1, f"no single menu holds a {name!r} submenu: {[m.name for m in holders]}")
    filters = holders[0]
    keys = a11y.menu_entry_keys(filters)
    ours = [c for c in filters if a11y.role(c) in ("menu", "menu item") and c.name == name]
    check(len(ours) == 1, f"{filters.name}: {len(ours)} submenus named {name!r}")
    check(ours[0].childCount >= 3, f"{filters.name} ▸ {name} holds {ours[0].childCount} entries")
    mine = [k for k, names in keys.items() if name in names]
    t.notes.append(f"{filters.name} ▸ {name}: mnemonic {mine}")
    check(mine and keys[mine[0]] == [name],
          f"{filters.name} ▸ {name} has no Alt key of its own: {mine} {keys.get(mine[0]) if mine else ''}")


def case_keyboard(t):
    """The keyboard: GIMP's Filters ▸ Generative submenu has an Alt key of its own; in every
    dialog (Advanced open, and Expand's rows) each Alt+key opens one control; Tab stops only on
    controls; Ctrl+Enter generates from anywhere in the dialog; Enter on a chosen result inserts
    that result."""
    t.setup_image()
    check_menu_mnemonic(t)
    for kind, call in (("generate", generate_call()), ("expand", expand_call()), ("edit", edit_call())):
        n = t.open(call, kind)
        t.open_advanced()
        a11y.poll("the Advanced rows to show", lambda: a11y.find(t.dialog, "spin button", "Context", True)
                  or kind != "edit", 10)
        check_mnemonics(t, t.dialog, MAIN_TITLES[kind])
        if kind != "edit":
            t.close(n)
    # Tab from the prompt: every stop is a control, and the walk comes round to the prompt.
    t.set_prompt("a red boat")
    t.activate(MAIN_TITLES["edit"])
    a11y.grab_focus(t.c("text", "Prompt"))
    stops = []
    watch = a11y.FocusWatch()
    try:
        for _ in range(80):
            t.key("Tab")
            focused = watch.next()
            parent = focused.parent
            where = f"{a11y.role(focused)} {focused.name!r}"
            if not focused.name and parent is not None and parent.name:  # a combo box's button
                where += f" in {a11y.role(parent)} {parent.name!r}"
            stops.append(where)
            if a11y.role(focused) == "text" and focused.name == "Prompt":
                break
    finally:
        watch.close()
    t.notes.append("Tab order: " + ", ".join(stops))
    check(stops and stops[-1] == "text 'Prompt'", f"Tab did not come back to the prompt: {stops}")
    passive = [s for s in stops if s.split(" ")[0] in ("label", "image", "drawing area", "filler", "panel")]
    check(not passive, f"Tab stopped on what cannot be used: {passive}")
    # Ctrl+Enter from the number of images, not the prompt.
    a11y.grab_focus(t.c("spin button", "Images"))
    sent = len(t.requests())
    t.key("ctrl+Return")
    t.wait_results(1)
    check(len(t.requests()) == sent + 1, "Ctrl+Enter outside the prompt did not generate")
    n_results = len(t.results())
    t.set_spin("Images", 2)
    t.press("Generate")
    t.wait_results(n_results + 2)
    # Enter on the chosen result inserts that one: Result 2, not Result 1.
    a11y.select_child(t.results_box(), "Result 2")
    a11y.grab_focus(a11y.find(t.results_box(), None, "Result 2"))
    t.key("Return")
    t.wait_status(lambda s: s.startswith("Inserted"), "say Inserted", timeout=30)
    t.close(n)
    layers, lines = t.layers()
    added = [l for l in layers if l["name"] != "background"]
    check(len(added) == 1, f"Enter on Result 2 inserted: {lines}")


# The image window's title for an image with no name, as each language's GIMP writes it.
UNTITLED = {"de": "[Unbenannt]", "fr": "[Sans titre]", "es": "[Sin nombre]", "ja": "[名称未設定]"}


def mnemonics_case(language):
    def case(t):
        """The Generative submenu has an Alt key of its own in GIMP's Filters menu, and each Alt+key
        opens one control in every dialog, Advanced open, in one language: the rows
        the code makes as well as those of the .ui files, which tests/i18n/check-catalogues
        checks."""
        folder = os.path.join(t.s.home, ".config", "GIMP", "2.10", "imagegen")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(os.path.join(folder, "dialog-state.ini"), "w", encoding="utf-8") as f:
            f.write("[dialog]\nadvanced=true\n")
        t.image_title = UNTITLED[language]
        t.setup_image()
        check_menu_mnemonic(t, language)
        for kind, call in (("generate", generate_call()), ("expand", expand_call()), ("edit", edit_call())):
            n = t.gimp.send(call)
            t.dialog = t.wait_dialog("Imagegen", n)
            title = t.dialog.name
            check_mnemonics(t, t.dialog, f"{language}: {title}")
            t.activate(title)
            t.key("Escape")
            a11y.poll(f'"{title}" to close', lambda: a11y.find_window(title) is None, 30)
            t.gimp.wait(n, timeout=30, what="the call to return")
    return case


def case_laptop(t):
    """At 1366×768, a laptop's screen, with an Expand result in the strip and an info bar shown,
    the dialog and every one of its buttons are on the screen. (The dialog once opened at
    1080×740, grew with each info bar and result, and put its buttons below the screen's edge.)"""
    t.setup_image()
    n = t.open(expand_call(), "expand")
    t.set_prompt("a calm sea")
    t.press("Generate")
    t.wait_results(1)
    t.emu.faults({"kind": "content_filter", "stage": "input"})
    t.press("Generate")
    a11y.poll("a message in the info bar", t.info_messages, 30)
    t.shot(MAIN_TITLES["expand"], "dialog-1366x768.png")
    t.screen_shot("screen-1366x768.png")
    x, y, w, h = extents(t.dialog)
    t.notes.append(f"the dialog at 1366x768: {w}x{h} at {x},{y}")
    check(x >= 0 and y >= 0 and x + w <= 1366 and y + h <= 768, f"the dialog lies at {x},{y} {w}x{h}")
    for name in ("Close", "Insert all", "Insert", "Generate"):
        bx, by, bw, bh = extents(t.button(name))
        check(bw > 0 and bh > 0 and bx >= 0 and by >= 0 and bx + bw <= 1366 and by + bh <= 768,
              f'the button "{name}" lies at {bx},{by} {bw}x{bh}, off a 1366x768 screen')
    t.close(n)


def case_desktop(t):
    """At 1920×1080 the Edit dialog opens beside the picture, not over it: it covers at most a
    third of the screen, so most of the canvas stays visible while a retoucher keeps it open."""
    t.setup_image()
    n = t.open(edit_call())
    t.set_prompt("a red boat")
    t.press("Generate")
    t.wait_results(1)
    x, y, w, h = extents(t.dialog)
    t.notes.append(f"the dialog at 1920x1080: {w}x{h} at {x},{y}")
    check(w * h <= 1920 * 1080 / 3, f"the dialog covers {w}x{h} of a 1920x1080 screen")
    t.screen_shot("screen-1920x1080.png")
    t.close(n)


def label_saying(t, text, timeout=10):
    return a11y.poll(f'a label saying "{text}"',
                     lambda: a11y.find_all(t.dialog, "label", pred=lambda a: text in a11y.text_of(a)), timeout)


def case_feedback(t):
    """What the dialog says fits what it does: the first status follows the procedure and the
    prompt; Generate Layer and Generate Image do not say "What is sent"; an edit without a
    selection says the whole picture is repainted."""
    t.setup_image()
    n = t.open(expand_call(), "expand")
    check("a prompt is optional" in t.status(), f"Expand's first status: {t.status()!r}")
    t.close(n)
    n = t.open(generate_call(), "generate")
    check(a11y.find(t.dialog, "panel", "Where the result goes") is not None
          and a11y.find(t.dialog, "panel", "What is sent") is None, "Generate Layer says What is sent")
    t.close(n)
    t.gimp.run("(gimp-selection-none img)")
    n = t.open(edit_call())
    check(t.status().startswith("Write a prompt"), f"the first status: {t.status()!r}")
    label_saying(t, "No selection: the whole picture is repainted.")
    # A refused Generate says why until a parameter changes: then the message spoke of old values.
    t.press("Generate")
    a11y.poll("the refusal in the info bar", lambda: any("prompt" in m for m in t.info_messages()), 30)
    t.set_spin("Images", 2)
    a11y.poll("the refusal to go once a parameter changed", lambda: not t.info_messages(), 10)
    # New results are scrolled into view at the end of the strip, not added out of sight.
    t.set_prompt("a red boat")
    t.set_spin("Images", 4)
    t.press("Generate")
    t.wait_results(4)
    t.press("Generate")
    t.wait_results(8)
    strip = t.results_box()
    pane = strip.parent
    while pane is not None and a11y.role(pane) != "scroll pane":
        pane = pane.parent
    px, _, pw, _ = extents(pane)

    def newest_in_view():
        last = [c for c in strip if c is not None][-1]
        x, _, w, _ = extents(last)
        return x >= px - 1 and x + w <= px + pw + 1
    a11y.poll("the newest result to be in view", newest_in_view, 10)
    t.close(n)
    # The last values bring the prompt back: the dialog does not ask for one.
    n = t.open('(report-result (plug-in-imagegen-edit RUN-INTERACTIVE img layer "a red boat" "" -1 "" '
               '"" "" -1 -1 "" ""))')
    # (The status tells of the result kept from the run before, rather than of the prompt.)
    check("Write a prompt" not in t.status(), f"the first status with a prompt: {t.status()!r}")
    t.close(n)
    create = a11y.control(a11y.control(t.image_window(), "menu", "File"), "menu", "Create", showing=False)
    a11y.press(a11y.control(create, "menu item", "Generate Image…", showing=False))
    t.dialog = t.wait_dialog(MAIN_TITLES["new-image"])
    check(a11y.find(t.dialog, "panel", "The new image") is not None, "Generate Image's frame")
    t.press("Close")
    a11y.poll("Generate Image to close", lambda: a11y.find_window(MAIN_TITLES["new-image"]) is None, 30)


def case_presets(t):
    """A preset says what it changed, Ctrl+Z in the prompt brings back the prompt it replaced,
    and a preset the model cannot honour is greyed with the reason (a transparent background
    under dall-e-3 was once applied anyway)."""
    t.setup_image()
    n = t.open(generate_call(), "generate")
    t.set_prompt("my own words")
    presets = t.c("combo box", "Presets")
    # (Chosen, the combo box goes back to "Choose a preset…" at once: no wait for it to show.)
    presets.querySelection().selectChild(a11y.items_of(presets).index("Product on a plain background"))
    status = t.wait_status(lambda s: "changed" in s, "say what the preset changed", timeout=10)
    check("background" in status and "Ctrl+Z" in status, f"the status after a preset: {status!r}")
    prompt = t.c("text", "Prompt")
    check(a11y.text_of(prompt) != "my own words", "the preset did not set the prompt")
    t.activate(MAIN_TITLES["generate"])
    a11y.grab_focus(prompt)
    t.key("ctrl+z")
    a11y.poll("the prompt to come back", lambda: a11y.text_of(prompt) == "my own words", 10)
    # dall-e-3 has no background choice: the transparent product preset is greyed, with why.
    model = a11y.find(t.c("combo box", "Model"), "text", None)
    a11y.set_text(model, "dall-e-3")
    unfit = "Product on a transparent background — dall-e-3 has no background choice"
    a11y.poll("the preset to give its reason", lambda: unfit in a11y.items_of(presets), 10)
    item = [c for c, _ in a11y.walk(presets) if c.name == unfit][0]
    check(not a11y.states(item).contains(a11y.SENSITIVE), "the unfit preset can be chosen")
    t.close(n)


def case_picture_after_insert(t):
    """After an Insert GIMP makes the result layer active, and a menu call opens the next Edit on
    it. That layer is transparent outside its region: the dialog sends the picture as the user
    sees it (Sample merged, its default), an opaque image, not that layer."""
    t.setup_image()
    n = t.open(edit_call())
    t.set_prompt("a red boat")
    t.press("Generate")
    t.wait_results(1)
    a11y.select_child(t.results_box(), "Result 1")
    t.press("Insert")
    t.wait_status(lambda s: s.startswith("Inserted"), "say Inserted", timeout=30)
    # In the same dialog, the active layer alone (Sample merged off): the layer the dialog opened
    # on, not the result GIMP made active, which is transparent past the first run's region (a
    # context of 40 % reaches past it, within the canvas).
    t.open_advanced()
    t.set_spin("Context", 40)
    # (Below the visible part of the scrolled column: found, not "showing".)
    merged = a11y.control(t.dialog, "check box", "Sample merged", showing=False)
    a11y.press(merged)
    a11y.poll("Sample merged to be off", lambda: not a11y.states(merged).contains(a11y.pyatspi.STATE_CHECKED), 10)
    sent_before = len(t.requests())
    t.press("Generate")
    a11y.poll("the second request", lambda: len(t.requests()) > sent_before, 30)
    t.wait_status(lambda s: s.startswith("Done"), "say Done", timeout=60)
    sent = t.requests()[-1]["images"][0]
    check(not sent["has_alpha"] and sent["content_type"] == "image/jpeg",
          f"with Sample merged off the dialog sent {sent}, not the layer it opened on")
    # Back as they were: the next dialog opens with these values.
    a11y.press(merged)
    a11y.poll("Sample merged to be on", lambda: a11y.states(merged).contains(a11y.pyatspi.STATE_CHECKED), 10)
    t.set_spin("Context", 15)
    sent_before = len(t.requests())
    t.press("Generate")  # the last values are those of the last run
    a11y.poll("the third request", lambda: len(t.requests()) > sent_before, 30)
    t.wait_status(lambda s: s.startswith("Done"), "say Done", timeout=60)
    t.close(n)
    # As GIMP's menu calls it now: on the active layer, the result; a new selection beside it.
    t.gimp.run("(begin (set! layer (car (gimp-image-get-active-drawable img))) "
               "(gimp-image-select-rectangle img CHANNEL-OP-REPLACE 260 40 120 100))")
    layers, lines = t.layers()
    check(len(layers) == 2, f"after the insert: {lines}")
    n = t.open(edit_call())
    t.set_prompt("a blue kite")
    t.press("Generate")
    t.wait_results(1)
    sent = t.requests()[-1]["images"][0]
    t.notes.append(f"the second edit sent {sent}")
    check(not sent["has_alpha"] and sent["content_type"] == "image/jpeg",
          f"the second edit sent {sent}, not the opaque picture")
    check(a11y.states(a11y.control(t.dialog, "check box", "Sample merged", showing=False)).contains(
              a11y.pyatspi.STATE_CHECKED),
          "Sample merged is not on by default")
    t.close(n)


def plugin_windows():
    """The plug-in's top-level windows on AT-SPI (GIMP's own are left out: its tree is huge)."""
    return [w for app, w in a11y.windows() if "imagegen" in (app.name or "").lower()
            or "Imagegen" in (w.name or "")]


def criticals(t):
    return [l.strip() for l in t.gimp.errors().splitlines() if "CRITICAL" in l]


def case_a11y_walk(t):
    """A screen reader's review of every window of the plug-in, open and after it closed (its
    accessibles still held, as a screen reader holds them): the main dialog, the Connections
    window, the main dialog again while Connections is open, and after each closed; then the
    Expand and Generate Layer dialogs. Every object
    is read as Orca reads it; the plug-in must print no Atk/GObject CRITICAL meanwhile (the run
    fails on any in GIMP's stderr, see check_stderr)."""
    t.setup_image()
    n = t.open(edit_call())
    main = t.dialog
    steps = []

    def review(what, *roots):
        last = [len(criticals(t))]

        def after(acc, read):
            now = len(criticals(t))
            if now != last[0]:  # which object made the plug-in complain, for the log
                steps.append(f"  +{now - last[0]} reading [{a11y.role(acc)}] {acc.name!r} "
                             f"(showing: {a11y.is_showing(acc)}; a11y.py line {read.__code__.co_firstlineno})")
            last[0] = now
        count = sum(a11y.read_all(r, after=after) for r in roots)
        steps.append(f"{what}: {count} objects, {len(criticals(t))} CRITICAL lines so far")

    review("main dialog open", main)
    t.press("Connections…")
    conn = t.wait_dialog(CONNECTIONS_TITLE)
    review("Connections open", conn)
    review("main dialog with Connections open", main)
    for w in plugin_windows():
        review(f"window {w.name!r}", w)
    t.dialog = conn
    t.press("Close")
    a11y.poll("the Connections window to close", lambda: a11y.find_window(CONNECTIONS_TITLE) is None, 15)
    review("Connections closed", conn)
    t.dialog = main
    review("main dialog after Connections closed", main)
    t.close(n)
    review("main dialog closed", main)
    review("Connections after both closed", conn)
    # The other dialogs hide other rows.
    for call, kind in ((expand_call(), "expand"), (generate_call(), "generate")):
        n = t.open(call, kind)
        review(f"{kind} dialog open", t.dialog)
        t.close(n)
    t.notes += steps
    found = criticals(t)
    check(not found, f"{len(found)} CRITICAL lines in GIMP's stderr; first: {found[:3]}; " + "; ".join(steps))


def closed_port():
    """A loopback port nothing listens on (bound, then let go)."""
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def case_first_setup(t):
    """A new user with no connection at all: the dialog says so, with a "Set up a connection…"
    button, and keeps Generate greyed with a reason; the Connections window opens by itself on
    a new connection, showing only what the kind asks for, with an example endpoint for each
    kind. Test connection shows success and failure differently, naming host and port. Once
    saved, the key shows as stored (never its text), and the bar goes at once while Connections
    is still open; a key typed over it replaces it. Remove asks first; Cancel keeps the
    connection and its key, Remove takes both, and Generate greys again."""
    t.setup_image()
    n = t.open(edit_call())
    main = t.dialog
    conn = t.wait_dialog(CONNECTIONS_TITLE, timeout=20)
    generate = t.button("Generate")
    check(not a11y.states(generate).contains(a11y.SENSITIVE), "Generate is sensitive with no connection")
    check("connection" in (generate.description or "").lower(),
          f"Generate's tooltip does not say why it is greyed: {generate.description!r}")
    msgs = a11y.poll("the no-connection message", t.info_messages, 10)
    check(any("Connections…" in m for m in msgs) and not any("plug-in's dialog" in m for m in msgs),
          f"the info bar does not point to Connections…: {msgs}")
    t.button("Set up a connection…")

    t.dialog = conn
    a11y.poll("the Connections window to be the active one",
              lambda: a11y.states(conn).contains(a11y.ACTIVE), 10)
    kind = t.c("combo box", "Kind")
    hint = t.c("label", "Endpoint example")
    azure_only = [("text", "API version"), ("text", "Deployments"), ("check box", "Use Entra ID")]

    def azure_rows_showing():
        return [name for role, name in azure_only if a11y.find(conn, role, name, showing=True)]
    hints = {}
    for label, azure in (("OpenAI", False), ("Compatible server", False),
                         ("Azure OpenAI (deployments)", True), ("Azure OpenAI (v1)", True),
                         ("Compatible server", False)):
        a11y.select_item(kind, label)
        a11y.poll(f"the Azure rows to {'show' if azure else 'hide'} for {label}",
                  lambda: len(azure_rows_showing()) == (3 if azure else 0), 10)
        hints[label] = a11y.text_of(hint)
    check("https://api.openai.com/v1" in hints["OpenAI"], f"OpenAI's example: {hints['OpenAI']!r}")
    check("http://127.0.0.1:8080/v1" in hints["Compatible server"],
          f"the compatible server's example: {hints['Compatible server']!r}")
    check(".openai.azure.com" in hints["Azure OpenAI (deployments)"]
          and "/openai/v1" in hints["Azure OpenAI (v1)"], f"Azure's examples: {hints}")

    # A server that is not running: a failure, naming host and port, in a whole sentence.
    port = closed_port()
    a11y.set_text(t.c("text", "Endpoint"), f"http://127.0.0.1:{port}/v1")
    a11y.set_text(t.c("password text", "API key"), API_KEY)
    result = t.c("label", "Test result")
    t.press("Test connection")
    said = a11y.poll("the test to fail", lambda: (lambda s: "port" in s and s)(a11y.text_of(result)), 30)
    check(f"127.0.0.1, port {port}" in said and "refused" in said and ". Tested with" in said,
          f"the refused connection reads {said!r}")
    icon = a11y.poll("the outcome icon", lambda: a11y.find(conn, None, "Test outcome", showing=True), 10)
    check(icon.description == "Failure", f"the failed test's icon says {icon.description!r}")
    t.notes.append(f"refused: {said!r}")

    a11y.set_text(t.c("text", "Endpoint"), t.emu.base + "/v1")
    t.press("Test connection")
    said = a11y.poll("the test to succeed", lambda: (lambda s: "Connected" in s and s)(a11y.text_of(result)), 30)
    a11y.poll("the outcome icon to say Success", lambda: icon.description == "Success", 10)
    t.notes.append(f"works: {said!r}")

    t.press("Save")
    name = "127.0.0.1"  # no name typed: the endpoint's host
    a11y.poll(f'"{name}" in the Saved connections list',
              lambda: name in [c.name for c in t.c("list box", "Saved connections") if c is not None], 15)
    state = t.c("label", "Key status")
    check("stored in the keyring" in a11y.text_of(state), f"the key status says {a11y.text_of(state)!r}")
    key_text = a11y.text_of(t.c("password text", "API key"))
    check(key_text == "", f"the key field holds {len(key_text)} characters after Save")
    # The main dialog follows at once, with Connections still open.
    t.dialog = main
    a11y.poll("the no-connection bar to go", lambda: not t.info_messages(), 10)
    a11y.wait_sensitive(generate, timeout=10)

    # A key typed over the stored one replaces it.
    t.dialog = conn
    a11y.set_text(t.c("password text", "API key"), WRONG_KEY)
    t.press("Save")
    a11y.poll("the new key in the keyring",
              lambda: WRONG_KEY in t.s.secret_tool("search", "--all", "connection", name).stdout, 15)
    check(API_KEY not in t.s.secret_tool("search", "--all", "connection", name).stdout,
          "the old key stayed in the keyring")

    # Remove asks first: Cancel keeps the connection and its key.
    t.press("Remove")
    alert = a11y.poll("the question before Remove",
                      lambda: a11y.find_window("Remove Connection", roles=("alert", "dialog")), 10)
    check(any(f"“{name}”" in (l.name or "") for l in a11y.find_all(alert, "label")),
          "the question does not name the connection: " + a11y.dump(alert))
    t.press("Cancel", root=alert)
    a11y.poll("the question to go",
              lambda: a11y.find_window("Remove Connection", roles=("alert", "dialog")) is None, 10)
    check(name in [c.name for c in t.c("list box", "Saved connections") if c is not None],
          "Cancel removed the connection")
    check(WRONG_KEY in t.s.secret_tool("search", "--all", "connection", name).stdout, "Cancel removed the key")
    t.press("Remove")
    alert = a11y.poll("the question before Remove",
                      lambda: a11y.find_window("Remove Connection", roles=("alert", "dialog")), 10)
    t.press("Remove", root=alert)
    a11y.poll("the connection to go from the list",
              lambda: name not in [c.name for c in t.c("list box", "Saved connections") if c is not None], 10)
    a11y.poll("the key to go from the keyring",
              lambda: WRONG_KEY not in t.s.secret_tool("search", "--all", "connection", name).stdout, 10)
    t.dialog = main
    a11y.wait_sensitive(generate, timeout=10, sensitive=False)
    a11y.poll("the no-connection bar to come back", t.info_messages, 10)
    t.dialog = conn
    t.press("Close")
    a11y.poll("the Connections window to close", lambda: a11y.find_window(CONNECTIONS_TITLE) is None, 15)
    t.dialog = main
    t.close(n)


def in_list(t, name):
    return name in [c.name for c in t.c("list box", "Saved connections") if c is not None]


def answers(t, field, text):
    """The window is alive: a text typed into `field` reads back."""
    a11y.set_text(field, text)
    a11y.poll(f'"{field.name}" to read back {text!r}', lambda: a11y.text_of(field) == text, 10)


def case_keyring_paused(t):
    """The keyring stops answering (SIGSTOP on its daemon) while the Connections window needs it:
    the window still opens and says it is looking; while Save and Remove wait for the keyring,
    their buttons are greyed and a field can be typed into; once it answers, the key is stored
    (moved on a rename), then removed. Closing the window while a key is being saved leaves the
    dialog working, and the key saved whole; closing the dialog while the window waits ends the
    call cleanly."""
    t.setup_image()
    n = t.open(edit_call())
    main = t.dialog
    first, renamed, third = "keyring one", "keyring two", "keyring three"
    t.press("Connections…")
    t.dialog = t.wait_dialog(CONNECTIONS_TITLE)
    t.press("Add")
    a11y.set_text(t.c("text", "Name"), first)
    a11y.select_item(t.c("combo box", "Kind"), "OpenAI")
    a11y.set_text(t.c("text", "Endpoint"), t.emu.base + "/v1")
    a11y.set_text(t.c("password text", "API key"), API_KEY)
    t.press("Save")
    a11y.poll(f'"{first}" in the list', lambda: in_list(t, first), 15)
    t.press("Close")
    a11y.poll("the Connections window to close", lambda: a11y.find_window(CONNECTIONS_TITLE) is None, 15)
    t.dialog = main

    with t.s.keyring_paused():
        t.press("Connections…")
        t.dialog = t.wait_dialog(CONNECTIONS_TITLE, timeout=20)
        state, storage = t.c("label", "Key status"), t.c("label", "Key storage")
        check("Looking in the keyring" in a11y.text_of(state), f"the key status says {a11y.text_of(state)!r}")
        check("Looking for a keyring" in a11y.text_of(storage), f"the key storage says {a11y.text_of(storage)!r}")
        model = t.c("text", "Default model")
        answers(t, model, "gpt-image-1")
        # A rename with a new key: written while the keyring is stopped.
        a11y.set_text(t.c("text", "Name"), renamed)
        a11y.set_text(t.c("password text", "API key"), WRONG_KEY)
        t.press("Save")
        save, result = t.button("Save"), t.c("label", "Test result")
        a11y.wait_sensitive(save, timeout=10, sensitive=False)
        check(not a11y.states(t.button("Remove")).contains(a11y.SENSITIVE), "Remove is sensitive during Save")
        check("Saving the key" in a11y.text_of(result), f"during Save the window says {a11y.text_of(result)!r}")
        answers(t, model, "gpt-image-1.5")
    a11y.wait_sensitive(save, timeout=30)
    a11y.poll(f'"{renamed}" in the list', lambda: in_list(t, renamed) and not in_list(t, first), 15)
    a11y.poll("the key status to say stored", lambda: "stored in the keyring" in a11y.text_of(state), 15)
    a11y.poll("the key storage to say where keys go", lambda: "kept in your keyring" in a11y.text_of(storage), 15)
    check(f"secret = {WRONG_KEY}" in t.s.secret_tool("search", "--all", "connection", renamed).stdout,
          f'the new key is not saved for "{renamed}"')
    check(not t.s.secret_tool("search", "--all", "connection", first).stdout.strip(),
          f'"{first}" kept a key after the rename')

    with t.s.keyring_paused():
        t.press("Remove")
        alert = a11y.poll("the question before Remove",
                          lambda: a11y.find_window("Remove Connection", roles=("alert", "dialog")), 10)
        t.press("Remove", root=alert)
        a11y.wait_sensitive(save, timeout=10, sensitive=False)
        check("Removing the key" in a11y.text_of(result), f"during Remove the window says {a11y.text_of(result)!r}")
        answers(t, model, "dall-e-3")
    a11y.wait_sensitive(save, timeout=30)
    a11y.poll(f'"{renamed}" to leave the list', lambda: not in_list(t, renamed), 15)
    check("Removed the connection" in a11y.text_of(result), f"after Remove the window says {a11y.text_of(result)!r}")
    check(not t.s.secret_tool("search", "--all", "connection", renamed).stdout.strip(),
          f'"{renamed}" kept its key after Remove')

    # Closed while its key is being saved: the window goes, the dialog works on, the key is saved.
    with t.s.keyring_paused():
        t.press("Add")
        a11y.set_text(t.c("text", "Name"), third)
        a11y.set_text(t.c("password text", "API key"), API_KEY)
        t.press("Save")
        a11y.wait_sensitive(save, timeout=10, sensitive=False)
        t.press("Close")
        a11y.poll("the Connections window to close", lambda: a11y.find_window(CONNECTIONS_TITLE) is None, 15)
        t.dialog = main
        t.set_prompt("still alive")
    a11y.poll("the key saved after Close",
              lambda: f"secret = {API_KEY}" in t.s.secret_tool("search", "--all", "connection", third).stdout, 15)
    items = a11y.items_of(t.c("combo box", "Connection"))
    check(any(third in i for i in items), f'the Connection combo box offers {items}, not "{third}"')

    # The dialog itself closed while the Connections window waits for the keyring: the call
    # returns, and nothing crashes (GIMP's stderr is checked after the case).
    with t.s.keyring_paused():
        t.press("Connections…")
        t.dialog = t.wait_dialog(CONNECTIONS_TITLE, timeout=20)
        check("Looking in the keyring" in a11y.text_of(t.c("label", "Key status")), "no lookup under way")
        t.dialog = main
        t.close(n)


def case_german(t):
    """In German (LANGUAGE=de, C.UTF-8): GIMP shows the plug-in's menu entries in po/de.po's
    words, Filter ▸ Generativ ▸ Auswahl bearbeiten … and Ebene generieren …, Datei ▸ Erstellen ▸
    Bild generieren …, Bild ▸ Generativ erweitern …; the entry opens the dialog, in German."""
    t.image_title = "[Unbenannt]"
    t.setup_image()
    window = t.image_window()
    generative = a11y.control(a11y.control(window, "menu", "Filter"), "menu", "Generativ",
                              showing=False)
    for label in ("Auswahl bearbeiten …", "Ebene generieren …"):
        a11y.control(generative, "menu item", label, showing=False)
    create = a11y.control(a11y.control(window, "menu", "Datei"), "menu", "Erstellen", showing=False)
    a11y.control(create, "menu item", "Bild generieren …", showing=False)
    a11y.control(a11y.control(window, "menu", "Bild"), "menu item", "Generativ erweitern …",
                 showing=False)
    a11y.press(a11y.control(generative, "menu item", "Auswahl bearbeiten …", showing=False))
    title = "Auswahl bearbeiten — Imagegen"
    t.dialog = t.wait_dialog(title)
    for role, name in (("push button", "Generieren"), ("push button", "Einfügen"),
                       ("push button", "Schließen"), ("text", "Prompt"), ("combo box", "Modell")):
        t.c(role, name)
    preview = t.c("image", "Vorschau")
    check(preview.description == "Noch kein Ergebnis",
          f'the Preview says {preview.description!r}, not "Noch kein Ergebnis"')
    t.shot(title, "dialog-german.png")
    t.press("Schließen")
    a11y.poll("the dialog to close", lambda: a11y.find_window(title) is None, 30)


def new_image_call():
    return '(plug-in-imagegen-new-image RUN-INTERACTIVE "" "" -1 "" "" "" "" "" "")'


def case_keep_results(t):
    """Results not inserted survive Close: reopening the dialog on the same image shows them,
    with no new request, and one of them goes in as a fresh one would, masked over the
    selection, in one undo step."""
    t.setup_image()
    prompt = "a blue kite"
    n = t.open(edit_call())
    t.set_prompt(prompt)
    t.set_spin("Images", 2)
    t.press("Generate")
    t.wait_results(2)
    t.close(n)
    layers, lines = t.layers()
    check(len(layers) == 1, f"closing without Insert added layers: {lines}")

    n = t.open(edit_call())
    kept = a11y.poll("the results kept from before in the Results list",
                     lambda: t.results() == ["Result 1", "Result 2"] and t.results(), 20)
    t.notes.append(f"reopened: Results holds {kept}; status {t.status()!r}")
    # Result 2 alone (AT-SPI's selectChild adds to the choice, where a click replaces it).
    t.results_box().querySelection().clearSelection()
    a11y.select_child(t.results_box(), "Result 2")
    t.press("Insert")
    t.wait_status(lambda s: s.startswith("Inserted 1 layer"), 'say "Inserted 1 layer"', timeout=30)
    result2 = [c for c in t.results_box() if c is not None and c.name == "Result 2"][0]
    a11y.poll('"Result 2" to say it was inserted',
              lambda: (result2.description or "").startswith("Inserted"), 10)
    t.close(n)
    check(len(t.requests()) == 1, f"reopening sent {len(t.requests()) - 1} more requests")
    layers, lines = t.layers()
    added = [l for l in layers if l["name"] != "background"]
    check(len(added) == 1 and added[0]["mask"] > 0, f"the kept result went in as: {lines}")
    before, after, sel = t.export_after()
    e2e.compare_outside_and_inside(before, after, sel, e2e.prompt_colour(prompt), margin=6, gray=False)
    step = t.undo_once()
    layers, lines = t.layers()
    check(len(layers) == 1, f"one undo ({step!r}) after inserting a kept result left {lines}")


def case_insert_all_skips(t):
    """Insert all after one result went in inserts only the other; reopened, both say they
    were inserted and Insert all has nothing left to insert."""
    t.setup_image()
    n = t.open(edit_call())
    t.set_prompt("three red apples")
    t.set_spin("Images", 2)
    t.press("Generate")
    t.wait_results(2)
    a11y.select_child(t.results_box(), "Result 1")
    t.press("Insert")
    t.wait_status(lambda s: s.startswith("Inserted 1 layer"), 'say "Inserted 1 layer"', timeout=30)
    t.press("Insert all")
    t.close(n)
    layers, lines = t.layers()
    added = [l for l in layers if l["name"] != "background"]
    check(len(added) == 2 and not any(l["group"] == 1 for l in layers),
          f"Insert all after Result 1 went in made: {lines}")
    # Reopened, both are marked inserted, and Insert all has nothing left to insert.
    n = t.open(edit_call())
    a11y.poll("the results kept from before in the Results list",
              lambda: t.results() == ["Result 1", "Result 2"], 20)
    for child in [c for c in t.results_box() if c is not None]:
        check((child.description or "").startswith("Inserted"),
              f'"{child.name}" does not say it was inserted: {child.description!r}')
    check(not a11y.states(t.button("Insert all")).contains(a11y.SENSITIVE),
          '"Insert all" is sensitive with every result inserted')
    t.close(n)


def case_new_image_status(t):
    """Generate Image's Insert opens a new image, and the status says so, not "Inserted 1
    layer"."""
    t.setup_image()
    n = t.open(new_image_call(), "new-image")
    t.set_prompt("a lighthouse at dusk")
    t.press("Generate")
    t.wait_results(1)
    a11y.select_child(t.results_box(), "Result 1")
    t.press("Insert")
    said = t.wait_status(lambda s: "image" in s.lower() or "Inserted" in s, "report the insert", timeout=30)
    t.notes.append(f"status after Insert: {said!r}")
    check("new image" in said and not said.startswith("Inserted"),
          f"after Generate Image's Insert the status says {said!r}")
    t.press("Close")
    a11y.poll("the dialog to close", lambda: a11y.find_window(MAIN_TITLES["new-image"]) is None, 30)
    t.gimp.wait(n, timeout=30, what="the interactive call to return")


def preview_plain(t):
    """The share of the Preview's pixels, on screen, that have its commonest colour: near 1 when
    it shows no picture."""
    import collections
    ext = t.c("image", "Preview").queryComponent().getExtents(a11y.pyatspi.DESKTOP_COORDS)
    root = screenshot.Gdk.get_default_root_window()
    pb = screenshot.Gdk.pixbuf_get_from_window(root, ext.x, ext.y, ext.width, ext.height)
    data, n, stride = pb.get_pixels(), pb.get_n_channels(), pb.get_rowstride()
    counts = collections.Counter(bytes(data[y * stride + x * n:y * stride + x * n + 3])
                                 for y in range(0, pb.get_height(), 3) for x in range(0, pb.get_width(), 3))
    return counts.most_common(1)[0][1] / sum(counts.values())


def case_cancel_clears_partial(t):
    """A run cancelled after a streamed partial image: the partial image leaves the Preview (it
    was no result and must not look like one)."""
    t.setup_image()
    t.emu.control("latency", {"ms": 0, "stream_delay_ms": 4000})
    n = t.open(edit_call())
    t.set_prompt("a yellow umbrella")
    a11y.set_checked(t.c("check box", "Stream previews"), True)
    plain = preview_plain(t)
    check(plain > 0.97, f"the Preview is not plain before any run ({plain:.2f})")
    preview = t.c("image", "Preview")
    t.press("Generate")
    a11y.poll("a partial image in the Preview",
              lambda: (preview.description or "").startswith("Partial image 1"), 30)
    a11y.poll("the partial image drawn", lambda: preview_plain(t) < 0.9, 10)
    t.press("Cancel")
    t.wait_status(lambda s: "Cancel" in s, 'say "Cancelled"', timeout=15)
    a11y.poll("the Preview to be plain again after the cancel", lambda: preview_plain(t) > 0.97, 10)
    check(not t.results(), f"a cancelled run left results: {t.results()}")
    t.close(n)


CASE_ENV = {"german": {"LANGUAGE": "de", "LC_ALL": "C.UTF-8"},
            **{f"mnemonics-{lang}": {"LANGUAGE": lang, "LC_ALL": "C.UTF-8"} for lang in ("de", "fr", "es", "ja")}}
# Cases that start as a new user does: no connection saved and none in the environment.
NO_ENV_CONNECTION = {"first-setup"}

def case_price(t):
    """The estimate gives a price from the dated table of models.json for a model an OpenAI page
    prices (gpt-image-1), with its date and that prices change; the prompt typed widens it to a
    range (the prompt's text tokens); a model with no price (gpt-image-1.5) shows tokens only."""
    t.setup_image()
    n = t.open(generate_call(), "generate")
    a11y.select_item(t.c("combo box", "Model"), "gpt-image-1")
    a11y.select_item(t.c("combo box", "Size"), "1024 × 1024 (square)")
    t.open_advanced()
    a11y.select_item(t.c("combo box", "Quality"), "High")
    estimate = t.c("label", "Estimated usage")
    dated = "(OpenAI's list prices of 2026-12-06; prices change)"

    def saying(pred, what):
        return a11y.poll(f"the estimate to {what}", lambda: pred(a11y.text_of(estimate)) and a11y.text_of(estimate), 10)
    # 4,160 output tokens (4,360 with two streamed previews) at $40 per 1M: $0.17.
    text = saying(lambda s: "output tokens, $0.17 " in s, "give $0.17 for one high-quality square image")
    check(dated in text, f"the estimate does not date its prices: {text!r}")
    t.notes.append(f"gpt-image-1: {text}")
    # 4,000 bytes of prompt are at most 4,000 text tokens at $5 per 1M: up to $0.02 more.
    t.set_prompt("a lighthouse on a cliff at dusk, waves. " * 100)
    text = saying(lambda s: re.search(r"\$0\.17–\$0\.19 ", s), "widen to $0.17–$0.19 with a long prompt")
    t.notes.append(f"with a 4,000-byte prompt: {text}")
    a11y.select_item(t.c("combo box", "Model"), "gpt-image-1.5")
    text = saying(lambda s: "output tokens" in s and "$" not in s, "show tokens without a price for gpt-image-1.5")
    check("prices change" not in text, f"an unpriced model's estimate speaks of prices: {text!r}")
    t.notes.append(f"gpt-image-1.5: {text}")
    t.close(n)


CASES = {
    "open": case_open,
    "stream": case_stream,
    "insert": case_insert,
    "cancel": case_cancel,
    "content-filter": case_content_filter,
    "connection": case_connection,
    "close-mid-run": case_close_mid_run,
    "expand": case_expand,
    "german": case_german,
    "a11y-walk": case_a11y_walk,
    "first-setup": case_first_setup,
    "keyring-paused": case_keyring_paused,
    "laptop": case_laptop,
    "keyboard": case_keyboard,
    "desktop": case_desktop,
    "feedback": case_feedback,
    "presets": case_presets,
    **{f"mnemonics-{lang}": mnemonics_case(lang) for lang in ("de", "fr", "es", "ja")},
    "picture-after-insert": case_picture_after_insert,
    "keep-results": case_keep_results,
    "insert-all-skips": case_insert_all_skips,
    "new-image-status": case_new_image_status,
    "cancel-clears-partial": case_cancel_clears_partial,
    "price": case_price,
}
# Cases on another screen than the usual 1440x1000.
CASE_SCREEN = {"laptop": "1366x768", "desktop": "1920x1080"}

# ---------------------------------------------------------------- running a case


# GTK2's pixmap theme engine is missing from Debian's GIMP packages' dependencies: GIMP warns
# about it at start, every time, and it is no fault of the plug-in.
# GTK2's warning about GIMP's theme engine, in English and in the languages of the cases that
# run in one (german, mnemonics-*).
STDERR_NOISE = re.compile(r"Unable to locate theme engine|konnte keine Themen-Engine gefunden werden|"
                          r"moteur de thème|motor de temas|テーマ・エンジン")


def check_stderr(text):
    """No warning, critical or crash in GIMP's stderr (the plug-in's stderr goes there too)."""
    bad = [l.strip() for l in text.splitlines()
           if re.search(r"CRITICAL|WARNING \*\*|crashed|Segmentation|terminated unexpectedly", l)
           and not STDERR_NOISE.search(l)]
    check(not bad, "GIMP's stderr holds: " + " | ".join(bad[:10]))


def diagnostics(session):
    out = []
    if a11y is not None:
        try:
            out.append("AT-SPI tree of the open windows (GIMP's own only by title):")
            out.append(a11y.dump_all_windows())
        except Exception as e:  # noqa: BLE001
            out.append(f"(the AT-SPI tree could not be read: {e!r})")
    if session.gimp:
        err = session.gimp.errors()
        lines = [l for l in err.splitlines() if l.strip() and not STDERR_NOISE.search(l)]
        out.append("GIMP's stderr (last 60 lines, theme warnings left out):")
        out += lines[-60:]
        out.append("GIMP's Script-Fu console (last 30 lines):")
        out += session.gimp.output().splitlines()[-30:]
    if session.emulator:
        try:
            reqs = session.emulator.requests()
            out.append("emulator requests: " + json.dumps(
                [{k: r[k] for k in ("path", "status", "fault", "ended")} | {"fields": r["fields"]} for r in reqs]))
        except Exception as e:  # noqa: BLE001
            out.append(f"(the emulator's log could not be read: {e!r})")
    return out


def run_case(name, build, source, shots):
    global a11y, screenshot
    print("1..1", flush=True)
    notes, error, session = [], None, None
    t0 = time.monotonic()
    session = Session(build, source, name, keep=bool(os.environ.get("GUI_KEEP")),
                      env_extra=CASE_ENV.get(name), env_connection=name not in NO_ENV_CONNECTION,
                      screen=CASE_SCREEN.get(name, "1440x1000"))

    def on_sigterm(*_):
        session.kill_now()
        raise SystemExit("SIGTERM (meson's timeout?)")
    signal.signal(signal.SIGTERM, on_sigterm)
    seen = {}
    try:
        try:
            session.start()
            notes.append(f"GIMP answered Script-Fu {session.timings['gimp']:.1f} s after it started")
            import a11y as a11y_module
            import screenshot as screenshot_module
            a11y, screenshot = a11y_module, screenshot_module
            CASES[name](Case(session, shots, notes))
            check_stderr(session.gimp.errors())
        except (Failure, OSError, ValueError, KeyError, IndexError, AttributeError, NotImplementedError,
                SystemExit) as e:
            error = f"{type(e).__name__ if not isinstance(e, Failure) else ''} {e}".strip()
            tb = traceback.format_exc().splitlines()
            notes.append("where: " + " / ".join(l.strip() for l in tb if l.strip().startswith("File") and "gui" in l)[-600:])
        except Exception as e:  # noqa: BLE001  (GLib errors from AT-SPI, whatever else)
            error = f"{type(e).__name__}: {e}"
            notes += traceback.format_exc().splitlines()
        if error:
            notes += diagnostics(session)
        if session.emulator:
            try:
                seen["the emulator's request log"] = session.emulator.control_text("requests")
            except OSError:
                pass
    finally:
        problems = session.stop(graceful=error is None)
    if problems:
        error = (error + "; " if error else "") + "; ".join(problems)
    leaks = e2e.key_leaks(session.root, seen)
    if leaks:
        error = (error + "; " if error else "") + "the key leaked: " + "; ".join(leaks)
    took = time.monotonic() - t0
    for line in notes:
        for l in str(line).splitlines():
            print(f"# {l}")
    if error is None:
        print(f"ok 1 - {name} ({took:.1f} s)")
        session.cleanup()
        return 0
    print(f"not ok 1 - {name}: {error}")
    print(f"# logs kept in {session.root}")
    return 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build")
    parser.add_argument("--source")
    parser.add_argument("--shots", help="where the screenshots go")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("case", nargs="?")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    if args.case not in CASES:
        parser.error(f"no case {args.case}; cases: {', '.join(CASES)}")
    return run_case(args.case, os.path.abspath(args.build), os.path.abspath(args.source),
                    os.path.abspath(args.shots) if args.shots else None)


if __name__ == "__main__":
    sys.exit(main())
