"""Driving windows the way a screen reader does, through AT-SPI (pyatspi): controls are found by
role and accessible name, text is set through EditableText, buttons are pressed through Action,
items are picked through Selection. Nothing here computes a screen coordinate.

Import after the session has set DISPLAY and DBUS_SESSION_BUS_ADDRESS: the AT-SPI bus is found
through them."""
import time

import gi

gi.require_version("Atspi", "2.0")
from gi.repository import Atspi, GLib  # noqa: E402
import pyatspi  # noqa: E402

from harness import Failure, wait_for  # noqa: E402

SHOWING = pyatspi.STATE_SHOWING
SENSITIVE = pyatspi.STATE_SENSITIVE
CHECKED = pyatspi.STATE_CHECKED
SELECTED = pyatspi.STATE_SELECTED
ACTIVE = pyatspi.STATE_ACTIVE


def pump():
    """Lets libatspi handle the events queued for it, which keep its cache of names, states and
    children current."""
    ctx = GLib.MainContext.default()
    for _ in range(200):
        if not ctx.iteration(False):
            break


def poll(what, predicate, timeout=30.0):
    return wait_for(what, predicate, timeout=timeout, interval=0.05, pump=pump)


def role(acc):
    return acc.getRoleName()


def states(acc):
    return acc.getState()


def is_showing(acc):
    return states(acc).contains(SHOWING)


def applications():
    desktop = pyatspi.Registry.getDesktop(0)
    return [a for a in desktop if a is not None]


def windows(app_filter=None):
    """(application, top-level window) pairs."""
    out = []
    for app in applications():
        try:
            if app_filter and not app_filter(app):
                continue
            for w in app:
                if w is not None:
                    out.append((app, w))
        except GLib.Error:
            continue  # an application that went away
    return out


def find_window(title_part, roles=("frame", "dialog", "window"), showing=True):
    for _app, w in windows():
        try:
            if title_part in (w.name or "") and role(w) in roles and (not showing or is_showing(w)):
                return w
        except GLib.Error:
            continue
    return None


def wait_window(title_part, timeout=60.0, roles=("frame", "dialog", "window")):
    return poll(f"a window titled …{title_part}… on AT-SPI", lambda: find_window(title_part, roles), timeout)


def wait_window_gone(title_part, timeout=30.0):
    poll(f"the window …{title_part}… to close", lambda: find_window(title_part) is None, timeout)


def walk(acc, depth=0, max_depth=60):
    yield acc, depth
    if depth >= max_depth:
        return
    try:
        children = list(acc)
    except (GLib.Error, ValueError):  # gone: libatspi reports a child count of -1
        return
    for c in children:
        if c is not None:
            yield from walk(c, depth + 1, max_depth)


def find_all(root, role_name=None, name=None, showing=None, pred=None):
    out = []
    for acc, _ in walk(root):
        try:
            if role_name is not None and role(acc) != role_name:
                continue
            if name is not None and acc.name != name:
                continue
            if showing is not None and is_showing(acc) != showing:
                continue
            if pred is not None and not pred(acc):
                continue
        except GLib.Error:
            continue
        out.append(acc)
    return out


def find(root, role_name, name, showing=None):
    found = find_all(root, role_name, name, showing)
    return found[0] if found else None


def control(root, role_name, name, timeout=10.0, showing=True):
    """The control of `role_name` named `name` under `root` (waits for it to exist and show)."""
    return poll(f'a {role_name} named "{name}"', lambda: find(root, role_name, name, showing or None), timeout)


def grab_focus(acc):
    """Moves the keyboard focus to a control, as a click into it would."""
    acc.queryComponent().grabFocus()
    poll(f"{acc.name!r} to take the focus", lambda: states(acc).contains(pyatspi.STATE_FOCUSED), 10)


class FocusWatch:
    """The controls that take the keyboard focus, as a screen reader hears of them: AT-SPI's
    focus events. (A combo box's focus is on a button inside it that its accessible does not
    show as a child, so no walk of the tree finds it; the event names the combo box's parts.)"""

    def __init__(self):
        self.seen = []
        self._listener = lambda event: self.seen.append(event.source) if event.detail1 else None
        pyatspi.Registry.registerEventListener(self._listener, "object:state-changed:focused")

    def close(self):
        pyatspi.Registry.deregisterEventListener(self._listener, "object:state-changed:focused")

    def next(self, timeout=10.0):
        """The next control to take the focus."""
        count = len(self.seen)
        poll("a control to take the focus", lambda: len(self.seen) > count, timeout)
        return self.seen[-1]


def key_binding(acc):
    """The first part of a control's key binding as AT-SPI gives it, lower-cased: "<alt>g" for a
    dialog's control with a mnemonic, "g" for a menu entry's ("_Generic"); "" when it has none."""
    action = acc.queryAction() if "Action" in acc.get_interfaces() else None
    binding = action.getKeyBinding(0) if action is not None and action.nActions > 0 else ""
    return (binding or "").split(";")[0].lower()


def menu_entry_keys(menu):
    """{mnemonic: [entry names]} of a menu's own entries (its submenus and items)."""
    keys = {}
    for entry in menu:
        if entry is not None and role(entry) in ("menu", "menu item") and key_binding(entry):
            keys.setdefault(key_binding(entry), []).append(entry.name)
    return keys


def set_text(acc, text):
    if not acc.queryEditableText().setTextContents(text):
        raise Failure(f'"{acc.name}" refused setTextContents')


def text_of(acc):
    t = acc.queryText()
    return t.getText(0, t.characterCount)


def press(acc, action_names=("click", "press", "activate")):
    """Does the control's click (or press, activate) action."""
    action = acc.queryAction()
    names = [action.getName(i) for i in range(action.nActions)]
    for wanted in action_names:
        if wanted in names:
            if not action.doAction(names.index(wanted)):
                raise Failure(f'"{acc.name}" refused the action {wanted}')
            return
    if action.nActions == 0:
        raise Failure(f'{role(acc)} "{acc.name}" has no action')
    action.doAction(0)


def wait_sensitive(acc, timeout=30.0, sensitive=True):
    return poll(f'"{acc.name}" to be {"sensitive" if sensitive else "insensitive"}',
                lambda: states(acc).contains(SENSITIVE) == sensitive, timeout)


def set_checked(acc, checked=True):
    if states(acc).contains(CHECKED) != checked:
        press(acc, ("click", "toggle"))
    poll(f'"{acc.name}" to be {"checked" if checked else "unchecked"}',
         lambda: states(acc).contains(CHECKED) == checked, 5)


def items_of(combo):
    """The item names of a combo box (the menu items its popup holds)."""
    names = []
    for acc, _ in walk(combo):
        if acc is combo:
            continue
        if role(acc) in ("menu item", "list item", "check menu item", "radio menu item"):
            names.append(acc.name)
    return names


def select_item(combo, item_name):
    """Picks the combo box item named `item_name` through the Selection interface."""
    names = items_of(combo)
    if item_name not in names:
        raise Failure(f'the combo box "{combo.name}" has no item "{item_name}" (it has {names})')
    sel = combo.querySelection()
    if not sel.selectChild(names.index(item_name)):
        raise Failure(f'"{combo.name}" refused to select "{item_name}"')
    poll(f'"{combo.name}" to show "{item_name}"', lambda: item_name in combo_value(combo), 5)


def combo_value(combo):
    """What the combo box shows: its name is its label; the selected item is among its
    children's selected states, or the text of an inner text field."""
    try:
        sel = combo.querySelection()
        # Selection of the combo's popup menu
        for i in range(sel.nSelectedChildren):
            c = sel.getSelectedChild(i)
            if c is not None:
                return c.name
    except NotImplementedError:
        pass
    for acc, _ in walk(combo):
        if acc is not combo and states(acc).contains(SELECTED):
            return acc.name
    return ""


def select_child(container, child_name):
    """Selects the child named `child_name` of a list (GtkFlowBox, GtkListBox) through
    Selection."""
    children = [c for c in container if c is not None]
    names = [c.name for c in children]
    if child_name not in names:
        raise Failure(f'"{container.name}" has no child "{child_name}" (it has {names})')
    if not container.querySelection().selectChild(names.index(child_name)):
        raise Failure(f'"{container.name}" refused to select "{child_name}"')


def read_all(root, max_depth=60, after=None):
    """Reads what a screen reader reads of every object under `root`, as Orca does when it
    reviews a window: name, description, role, states, attributes, relations, its place in its
    parent, and the text, value and actions of those that have them. Returns how many objects it
    read. Objects that go away meanwhile are skipped; what matters is what the application prints
    while it answers (see gui.check_stderr)."""
    count = 0
    for acc, _ in walk(root, max_depth=max_depth):
        count += 1
        for read in (lambda: acc.name, lambda: acc.description, lambda: role(acc),
                     lambda: states(acc).getStates(), lambda: acc.getAttributes(),
                     lambda: acc.getIndexInParent(), lambda: acc.parent,
                     lambda: [(r.getRelationType(), [r.getTarget(i) for i in range(r.getNTargets())])
                              for r in acc.getRelationSet()],
                     lambda: text_of(acc), lambda: acc.queryValue().currentValue,
                     lambda: (lambda a: [(a.getName(i), a.getDescription(i), a.getKeyBinding(i))
                                         for i in range(a.nActions)])(acc.queryAction()),
                     lambda: (lambda i: (i.imageDescription, i.imageLocale))(acc.queryImage()),
                     lambda: acc.querySelection().nSelectedChildren,
                     lambda: acc.getLocalizedRoleName(), lambda: acc.getApplication().name,
                     lambda: acc.getInterfaces(), lambda: acc.get_object_locale(),
                     lambda: _read_text(acc.queryText()),
                     lambda: (lambda c: (c.getExtents(pyatspi.DESKTOP_COORDS), c.getLayer(),
                                         c.getMDIZOrder(), c.getAlpha()))(acc.queryComponent()),
                     lambda: (lambda i: (i.getImageExtents(pyatspi.DESKTOP_COORDS), i.getImageSize()))(
                         acc.queryImage()),
                     lambda: acc.queryHypertext().getNLinks(),
                     lambda: (lambda tb: (tb.nRows, tb.nColumns, tb.caption, tb.summary))(acc.queryTable()),
                     lambda: acc.queryDocument().getAttributes(),
                     lambda: [acc.getChildAtIndex(i) for i in range(acc.childCount)]):
            try:
                read()
            except (NotImplementedError, GLib.Error, AttributeError, TypeError):
                pass
            if after:
                after(acc, read)
    return count


def _read_text(t):
    """What a screen reader asks of a text: the caret, selections, attributes, and the text by
    character, word and line."""
    t.caretOffset, t.getNSelections(), t.getDefaultAttributes(), t.getAttributeRun(0)
    for boundary in (pyatspi.TEXT_BOUNDARY_CHAR, pyatspi.TEXT_BOUNDARY_WORD_START,
                     pyatspi.TEXT_BOUNDARY_SENTENCE_START, pyatspi.TEXT_BOUNDARY_LINE_START):
        t.getTextAtOffset(0, boundary)
    if t.characterCount > 0:
        t.getCharacterExtents(0, pyatspi.DESKTOP_COORDS)


def dump(root, max_depth=40):
    """The tree under `root`, one line per object: role, name, description, states; for the log
    of a failed case."""
    lines = []
    for acc, depth in walk(root, max_depth=max_depth):
        try:
            st = [pyatspi.stateToString(s) for s in states(acc).getStates()]
            keep = [s for s in st if s in ("showing", "sensitive", "checked", "selected", "focused",
                                           "editable", "active")]
            desc = f" desc={acc.description!r}" if acc.description else ""
            extra = ""
            if role(acc) in ("text", "entry", "password text", "label", "spin button"):
                try:
                    extra = f" text={text_of(acc)[:120]!r}"
                except NotImplementedError:
                    pass
            lines.append("  " * depth + f"[{role(acc)}] {acc.name!r}{desc} {{{', '.join(keep)}}}{extra}")
        except GLib.Error as e:
            lines.append("  " * depth + f"(gone: {e.message})")
    return "\n".join(lines)


def dump_all_windows():
    out = []
    for app, w in windows():
        try:
            out.append(f"== {app.name}: [{role(w)}] {w.name!r}")
            if app.name != "gimp-2.10":  # GIMP's own tree is huge; its windows' titles suffice
                out.append(dump(w))
        except GLib.Error:
            continue
    return "\n".join(out)


def elapsed_since(t0):
    return time.monotonic() - t0


__all__ = ["Atspi", "pyatspi"]
