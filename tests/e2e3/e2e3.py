#!/usr/bin/env python3
"""End-to-end tests in GIMP 3: the real gimp-console-3 runs Python-Fu that calls the plug-in with
GIMP 3's named arguments (a procedure config), against the local emulator. Each case builds an
image, runs a procedure, and dumps the flattened image before and after (at the image's own
precision, as float, so that "unchanged" is bit for bit) with the selection; the checks are on
pixels, layers, the values returned and the emulator's request log. The emulator, the pixel
comparisons and the key search are the 2.10 suite's (tests/e2e/e2e.py), imported, not copied.

    e2e3.py --build BUILD_DIR --source SOURCE_DIR CASE
"""
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2e  # noqa: E402  (the 2.10 suite: its emulator, checks and key search)
from e2e import API_KEY, Emulator, Failure, check, prompt_colour  # noqa: E402

# ---------------------------------------------------------------- images


class Dump:
    """A flattened image as the Python-Fu below dumps it: `exact` holds the samples at the image's
    own precision as 32-bit floats (equal there means equal in GIMP, u8 and u16 converting to
    float one to one), `u8` the same pixels as 8-bit perceptual for the colour checks. It has the
    shape of e2e.Pnm, so that the 2.10 suite's comparisons take it."""

    def __init__(self, path):
        with open(path + ".json") as f:
            meta = json.load(f)
        self.width, self.height, self.channels = meta["width"], meta["height"], meta["channels"]
        with open(path + ".exact", "rb") as f:
            self.raw = f.read()
        with open(path + ".u8", "rb") as f:
            self.u8 = f.read()
        self.bytes_per_sample = 4
        self.stride = self.width * self.channels * 4
        # an empty dump would compare equal to anything
        check(len(self.raw) == self.stride * self.height and len(self.u8) == len(self.raw) // 4,
              f"the dump {path} holds {len(self.raw)} bytes, not {self.width}x{self.height}")
        self.maxval = 255

    def row(self, y):
        return self.raw[y * self.stride:(y + 1) * self.stride]

    def pixel(self, x, y):
        off = (y * self.width + x) * self.channels
        return [float(v) for v in self.u8[off:off + self.channels]]


class Coverage:
    """The selection as "Y' u8", shaped as e2e.Pnm's coverage."""

    def __init__(self, path):
        with open(path + ".json") as f:
            meta = json.load(f)
        self.width, self.height = meta["width"], meta["height"]
        with open(path + ".u8", "rb") as f:
            self.data = f.read()
        check(len(self.data) == self.width * self.height, f"the selection dump {path} is short")

    def coverage_rows(self):
        return [self.data[y * self.width:(y + 1) * self.width] for y in range(self.height)]

# ---------------------------------------------------------------- Python-Fu

PRELUDE = r'''
import json
from gi.repository import Gimp, Gegl, Gio

def e2e(what, **fields):
    print("E2E " + json.dumps(dict(fields, what=what)), flush=True)

def new_image(w, h, base=Gimp.ImageBaseType.RGB, precision=Gimp.Precision.U8_NON_LINEAR):
    image = Gimp.Image.new_with_precision(w, h, base, precision)
    kind = Gimp.ImageType.GRAY_IMAGE if base == Gimp.ImageBaseType.GRAY else Gimp.ImageType.RGB_IMAGE
    layer = Gimp.Layer.new(image, "background", w, h, kind, 100, Gimp.LayerMode.NORMAL)
    image.insert_layer(layer, None, 0)
    paint(layer, w, h)
    return image, layer

def paint(layer, w, h):
    # A gradient with bands of colour: an unchanged pixel is unlikely to match by chance.
    Gimp.context_set_foreground(Gegl.Color.new("#e6b428"))
    Gimp.context_set_background(Gegl.Color.new("#143c96"))
    Gimp.context_set_gradient_fg_bg_rgb()
    layer.edit_gradient_fill(Gimp.GradientType.LINEAR, 0, False, 1, 0, False, 0, 0, w, h)

def read(drawable, fmt):
    buf = drawable.get_buffer()
    rect = Gegl.Rectangle.new(0, 0, drawable.get_width(), drawable.get_height())
    return bytes(buf.get(rect, 1.0, fmt, Gegl.AbyssPolicy.NONE))

def dump(image, path):
    """The flattened image: exact (its own precision, as float) and as 8-bit."""
    dup = image.duplicate()
    layer = dup.flatten()
    gray = dup.get_base_type() == Gimp.ImageBaseType.GRAY
    linear = dup.get_precision() in (Gimp.Precision.U8_LINEAR, Gimp.Precision.U16_LINEAR,
        Gimp.Precision.U32_LINEAR, Gimp.Precision.HALF_LINEAR, Gimp.Precision.FLOAT_LINEAR,
        Gimp.Precision.DOUBLE_LINEAR)
    exact = ("Y" if gray else "RGB") if linear else ("Y'" if gray else "R'G'B'")
    with open(path + ".exact", "wb") as f:
        f.write(read(layer, exact + " float"))
    with open(path + ".u8", "wb") as f:
        f.write(read(layer, ("Y'" if gray else "R'G'B'") + " u8"))
    with open(path + ".json", "w") as f:
        json.dump({"width": layer.get_width(), "height": layer.get_height(),
                   "channels": 1 if gray else 3}, f)
    dup.delete()

def dump_selection(image, path):
    with open(path + ".u8", "wb") as f:
        f.write(read(image.get_selection(), "Y' u8"))
    with open(path + ".json", "w") as f:
        json.dump({"width": image.get_width(), "height": image.get_height()}, f)

def layer_info(layer, depth):
    ox, oy = layer.get_offsets()[1:]
    return {"id": layer.get_id(), "name": layer.get_name(), "x": ox, "y": oy,
            "w": layer.get_width(), "h": layer.get_height(), "visible": int(layer.get_visible()),
            "group": int(layer.is_group()), "mask": int(layer.get_mask() is not None),
            "parasite": len(layer.get_parasite_list()), "depth": depth}

def report_layers(image):
    def walk(layers, depth):
        for l in layers:
            yield layer_info(l, depth)
            if l.is_group():
                yield from walk(l.get_children(), depth + 1)
    e2e("layers", layers=list(walk(image.get_layers(), 0)), dirty=int(image.is_dirty()),
        width=image.get_width(), height=image.get_height())

def call(name, image=None, drawables=None, mode=Gimp.RunMode.NONINTERACTIVE, **arguments):
    """The procedure as a script calls it in GIMP 3: by name, its arguments named."""
    proc = Gimp.get_pdb().lookup_procedure(name)
    cfg = proc.create_config()
    cfg.set_property("run-mode", mode)
    if image is not None:
        cfg.set_property("image", image)
        cfg.set_core_object_array("drawables", drawables)
    for k, v in arguments.items():
        cfg.set_property(k.replace("_", "-"), v)
    res = proc.run(cfg)
    status = res.index(0)
    out = {"status": status.value_nick}
    if status == Gimp.PDBStatusType.SUCCESS:
        value = res.index(1)
        if isinstance(value, Gimp.Image):
            out["image"] = value.get_id()
        else:
            # Python cannot iterate a core object array held in a GValue: the array's getter.
            out["layers"] = [l.get_id() for l in res.get_core_object_array(1)]
    elif status != Gimp.PDBStatusType.CANCEL and res.length() > 1:
        out["error"] = res.index(1)  # an error's message
    e2e("returned", **out)
    return out
'''


def python_fu(case, paths):
    """The case's script: setup (image, selection), dump before, act, report, dump after."""
    return PRELUDE + f"""
{case['setup']}
image.clean_all()
dump(image, {paths['before']!r})
dump_selection(image, {paths['selection']!r})
{case['act']}
report_layers(image)
dump(image, {paths['after']!r})
"""

# ---------------------------------------------------------------- GIMP 3


def gimp_version():
    out = subprocess.run(["gimp-console-3", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"version (\d+)\.(\d+)", out)
    if not m:
        raise Failure(f"gimp-console-3 --version said {out!r}")
    return f"{m.group(1)}.{m.group(2)}"


def plugin_folder(home):
    return os.path.join(home, ".config", "GIMP", gimp_version(), "plug-ins", "imagegen")


def console(home, env, script=None, timeout=240, out=None, err=None):
    if script is None:  # only GIMP's start: the first one makes the user folder, reads plug-ins
        args = ["gimp-console-3", "-i", "--quit", "-b", ""]
    else:
        args = ["gimp-console-3", "-i", "--quit", "--batch-interpreter=python-fu-eval", "-b", "-"]
    return subprocess.run(args, env=dict(env, HOME=home), input=script, text=True, timeout=timeout,
                          stdout=out or subprocess.DEVNULL, stderr=err or subprocess.DEVNULL,
                          check=False)


def prepare_home(build, source, root):
    """A GIMP 3 home initialised once (first-run setup, plug-in registered), copied per case."""
    template = os.path.join(build, "e2e3-home-template")
    with open(os.path.join(build, "e2e3-home.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = os.path.join(template, ".ready")
        plugin = os.path.join(build, "plug-in", "imagegen")
        if not os.path.exists(stamp) or os.path.getmtime(stamp) < os.path.getmtime(plugin):
            shutil.rmtree(template, ignore_errors=True)
            os.makedirs(template)
            env = dict(os.environ, IMAGEGEN_LOCALEDIR=os.path.join(build, "po"))
            folder = plugin_folder(template)
            os.makedirs(folder)
            shutil.copy(plugin, os.path.join(folder, "imagegen"))
            shutil.copy(os.path.join(source, "data", "models.json"), folder)
            # The first start reads every plug-in (~30 s); the copies start from what it kept.
            console(template, env, timeout=180)
            open(stamp, "w").close()
    home = os.path.join(root, "home")
    shutil.copytree(template, home, symlinks=True)
    return home


def run_gimp(root, home, env_extra, script, timeout=240):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "AZURE_OPENAI_")) and k not in ("LANGUAGE", "LC_ALL")}
    env["LC_MESSAGES"] = "C"
    tmp = os.path.join(root, "tmp")
    os.makedirs(tmp, exist_ok=True)
    env.update(TMPDIR=tmp, IMAGEGEN_LOCALEDIR=e2e.LOCALEDIR, **env_extra)
    with open(os.path.join(root, "case.py"), "w") as f:
        f.write(script)
    out_path, err_path = os.path.join(root, "gimp.out"), os.path.join(root, "gimp.err")
    t0 = time.monotonic()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        done = console(home, env, script, timeout, out, err)
    with open(out_path, errors="replace") as out, open(err_path, errors="replace") as err:
        log = err.read() + out.read()
    return log, done.returncode, time.monotonic() - t0


def events(log, what):
    found = []
    for line in log.splitlines():
        i = line.find("E2E {")
        if i >= 0:
            ev = json.loads(line[i + 4:])
            if ev["what"] == what:
                found.append(ev)
    return found

# ---------------------------------------------------------------- cases

RECT = "image.select_rectangle(Gimp.ChannelOps.REPLACE, 100, 80, 120, 90)"
EDIT = "call('plug-in-imagegen-edit', image, [layer], prompt={prompt!r}, model='gpt-image-1'{extra})"
CASES = {}


def case(name, **spec):
    spec.setdefault("setup", f"image, layer = new_image(400, 300)\n{RECT}")
    spec.setdefault("prompt", "a blue ball")
    spec.setdefault("act", EDIT.format(prompt=spec["prompt"], extra=spec.pop("extra", "")))
    spec.setdefault("expect", "edit")
    spec["name"] = name
    CASES[name] = spec


# Edit: one masked layer per result, nothing outside the selection changed (bit for bit at the
# image's own precision), the prompt's colour inside; at 8 bits, 16 bits, float and grayscale.
case("edit-8-bit", compare_gegl=True)
case("edit-16-bit", setup=f"image, layer = new_image(400, 300, precision=Gimp.Precision.U16_NON_LINEAR)\n{RECT}")
case("edit-float", setup=f"image, layer = new_image(400, 300, precision=Gimp.Precision.FLOAT_LINEAR)\n{RECT}")
case("edit-grayscale", setup=f"image, layer = new_image(400, 300, base=Gimp.ImageBaseType.GRAY)\n{RECT}",
     gray=True)
case("edit-layer-offsets",
     setup="image, _ = new_image(500, 400)\n"
           "layer = Gimp.Layer.new(image, 'small', 200, 150, Gimp.ImageType.RGB_IMAGE, 100, Gimp.LayerMode.NORMAL)\n"
           "image.insert_layer(layer, None, 0)\nlayer.set_offsets(150, 120)\npaint(layer, 200, 150)\n"
           "image.select_rectangle(Gimp.ChannelOps.REPLACE, 180, 150, 80, 60)",
     base_layers=2, compare_gegl=True)
case("edit-three-results", extra=", n_images=3", n=3)
case("generate", expect="generate", prompt="a starry sky",
     act="call('plug-in-imagegen-generate', image, [layer], prompt='a starry sky', model='gpt-image-1')")
case("new-image", expect="new-image", prompt="a lighthouse", setup="image, layer = new_image(64, 64)",
     act="r = call('plug-in-imagegen-new-image', prompt='a lighthouse', model='gpt-image-1', n_images=2, "
         "size='1536x1024')\nif 'image' in r:\n    report_layers(Gimp.Image.get_by_id(r['image']))")
case("expand", expect="expand", prompt="a calm sea", setup="image, layer = new_image(400, 300)",
     margins=(0, 0, 250, 0),
     act="call('plug-in-imagegen-expand', image, [layer], prompt='a calm sea', left=0, top=0, right=250, "
         "bottom=0, model='gpt-image-1')")
# The active layer smaller than the canvas: what an expand reads past the layer's edge is
# transparent, whichever way the pixels are read.
case("expand-small-layer", expect="expand", prompt="a calm sea", margins=(0, 0, 250, 0),
     setup="image, _ = new_image(400, 300)\n"
           "layer = Gimp.Layer.new(image, 'small', 200, 150, Gimp.ImageType.RGB_IMAGE, 100, Gimp.LayerMode.NORMAL)\n"
           "image.insert_layer(layer, None, 0)\nlayer.set_offsets(150, 100)\npaint(layer, 200, 150)",
     act="call('plug-in-imagegen-expand', image, [layer], prompt='a calm sea', left=0, top=0, right=250, "
         "bottom=0, model='gpt-image-1')", compare_gegl=True)
# Last values are GIMP 3's own: it keeps an interactive run's arguments in its plug-in-settings
# folder (a batch run keeps none) and gives them to a WITH-LAST-VALS call in place of the
# arguments passed. Here they are written there as GIMP writes them, before GIMP starts.
case("last-values", prompt="saved prompt",
     settings={"plug-in-imagegen-edit": '(prompt "saved prompt")\n(model "gpt-image-1")\n(n-images 1)\n'},
     act="call('plug-in-imagegen-edit', image, [layer], mode=Gimp.RunMode.WITH_LAST_VALS, prompt='ignored', "
         "model='ignored')")
# A cancel (SIGINT, as the plug-in sends itself when the phase named ends) while the answer is
# decoded and while the layers are made: nothing added, the image as it was.
case("cancelled-while-decoding", expect="cancel", env={"IMAGEGEN_INTERRUPT_AFTER": "request"})
case("cancelled-while-inserting", expect="cancel", env={"IMAGEGEN_INTERRUPT_AFTER": "decode"},
     extra=", n_images=2")
# Refusals: the error says what refused, no layer is added and the image is as it was.
case("fail-content-filter", expect="error", faults=[{"kind": "content_filter", "stage": "input"}],
     azure=True, message="The service's safety system refused the prompt", sent=1)
case("fail-server-error", expect="error", faults=[{"kind": "server_error", "status": 500}] * 3,
     message="The service had an internal error (HTTP 500)", sent=3)
case("fail-empty-prompt", expect="error", prompt="", message="the prompt is empty", sent=0)
# In German: the refusal comes from the plug-in's catalogue, as in 2.10. In a German locale: Debian
# 13's C.UTF-8 ignores LANGUAGE (tools/gimp3-root makes de_DE.UTF-8).
case("fail-empty-prompt-german", expect="error", prompt="", env={"LC_ALL": "de_DE.UTF-8"},
     message="der Prompt ist leer: beschreiben Sie, was gezeichnet werden soll", sent=0)
# Several layers selected: the plug-in works on one (its menu entries are greyed out otherwise),
# and a script passing several is told so, with nothing sent.
case("fail-several-layers", expect="error", base_layers=2,
     setup="image, layer = new_image(400, 300)\n"
           "other = Gimp.Layer.new(image, 'other', 400, 300, Gimp.ImageType.RGB_IMAGE, 100, Gimp.LayerMode.NORMAL)\n"
           f"image.insert_layer(other, None, 0)\n{RECT}",
     act="call('plug-in-imagegen-edit', image, [layer, other], prompt='a blue ball', model='gpt-image-1')",
     message="works on one layer, and 2 are selected", sent=0)

# ---------------------------------------------------------------- checks


def verify_expand(margins, before, after, layers, ret, colour):
    """The canvas grown by the margins, the original identical at its new place, the border the
    prompt's colour, one masked layer over the new canvas."""
    left, top_m, right, bottom = margins
    width, height = before.width + left + right, before.height + top_m + bottom
    check((after.width, after.height) == (width, height), f"the canvas is {after.width}x{after.height}")
    step = before.channels * 4
    for y in range(before.height):
        check(after.row(y + top_m)[left * step:(left + before.width) * step] == before.row(y),
              f"row {y} of the original changed")
    worst = max(max(abs(g - e) for g, e in zip(after.pixel(x, y), colour))
                for y in range(height) for x in range(width)
                if not (left <= x < left + before.width and top_m <= y < top_m + before.height))
    check(worst <= 4.5, f"a border pixel is {worst:.1f} levels from the prompt's colour")
    result = [l for l in layers if l["id"] in ret["layers"]]
    check(len(result) == 1 and (result[0]["w"], result[0]["h"]) == (width, height) and result[0]["mask"],
          f"the result layer is {result}")
    return f"canvas {width}x{height}, original identical, border within {worst:.1f} levels"


def verify(spec, log, requests, paths):
    before, after, sel = Dump(paths["before"]), Dump(paths["after"]), Coverage(paths["selection"])
    returned = events(log, "returned")
    reports = events(log, "layers")
    check(returned, "the procedure returned nothing (did Python-Fu run?)")
    ret = returned[-1]
    layers = reports[-1]["layers"]
    expect = spec["expect"]
    colour = prompt_colour(spec["prompt"])
    top = [l for l in layers if l["depth"] == 0]
    if expect == "error":
        check(ret["status"] == "calling-error" or ret["status"] == "execution-error",
              f"the procedure did not fail: {ret}")
        check(spec["message"] in ret.get("error", ""), f"the error reads {ret.get('error')!r}, "
                                                       f"expected {spec['message']!r}")
        check(before.raw == after.raw, "the image's pixels changed")
        check(len(top) == spec.get("base_layers", 1), f"{len(top)} layers after a failure")
        check(reports[-1]["dirty"] == 0, "a failed run left undo steps (the image is dirty)")
        check(len(requests) == spec["sent"], f"{len(requests)} requests sent, expected {spec['sent']}")
        return f"refused: {ret['error'][:80]}"
    if expect == "cancel":
        check(ret["status"] == "cancel", f"a cancelled run returned {ret}")
        check(before.raw == after.raw, "the image's pixels changed")
        check(len(layers) == 1, f"{len(layers)} layers after a cancel")
        check(reports[-1]["dirty"] == 0, "a cancelled run left undo steps")
        check(len(requests) == 1, "the request never reached the emulator")
        return "cancelled, nothing added"
    check(ret["status"] == "success", f"the procedure returned {ret}")
    if expect == "new-image":
        check(before.raw == after.raw, "the image it was called from changed")
        new = reports[0]
        check((new["width"], new["height"]) == (1536, 1024), f"the new image is {new['width']}x{new['height']}")
        check(len([l for l in new["layers"] if l["depth"] == 1]) == 2, "the new image has not two layers in a group")
        check(len(requests) == 1 and requests[0]["fields"]["n"] == "2", "one request for n=2")
        return "a new image of 1536x1024 with two layers"
    if expect == "expand":
        return verify_expand(spec["margins"], before, after, layers, ret, colour)
    n = spec.get("n", 1)
    check(len(ret["layers"]) == n, f"returned {ret['layers']}, expected {n} layers")
    results = [l for l in layers if l["id"] in ret["layers"]]
    check(len(results) == n, "the returned layers are not in the image")
    for i, l in enumerate(results):
        check(l["mask"] == 1, f"result {i} has no layer mask")
        check(l["parasite"] == 1, f"result {i} carries no parasite")
        check(l["visible"] == (1 if i == 0 else 0), f"result {i} visible={l['visible']}")
    if n > 1:
        check(len([l for l in layers if l["group"]]) == 1 and all(l["depth"] == 1 for l in results),
              "the results are not in one group")
    check(len(requests) == 1, f"{len(requests)} requests")
    req = requests[0]
    if expect == "generate":
        r = results[0]
        check((r["x"], r["y"], r["w"], r["h"]) == (100, 80, 120, 90), f"the result is not over the selection: {r}")
        cov = sel.coverage_rows()
        for y in range(after.height):
            if not any(cov[y]):
                check(before.row(y) == after.row(y), f"row {y} outside the selection changed")
        return "one layer over the selection, masked"
    image = req["images"][0]
    check(f"{image['width']}x{image['height']}" == req["fields"]["size"], "the image is not at the API size")
    check(req["mask"] and req["mask"]["width"] == image["width"], "the mask does not match the image")
    check(req["fields"]["prompt"] == spec["prompt"], f"the prompt on the wire is {req['fields'].get('prompt')!r}")
    scale = max(1.0, results[0]["w"] / image["width"])
    margin = int(3 + 3 * scale)
    inside = e2e.compare_outside_and_inside(before, after, sel, colour, margin, spec.get("gray", False))
    return f"{inside} pixels inside checked, outside bit-identical"


def compare_with_gegl(root, home, env, spec, paths):
    """The same case again with every pixel through GEGL's conversion (IMAGEGEN_PIXELS=gegl): the
    image after the edit must be byte for byte that of the run that read the layer's own bytes."""
    again = {k: os.path.join(root, f"{k}-gegl") for k in ("before", "after", "selection")}
    log, status, _ = run_gimp(root, home, dict(env, IMAGEGEN_PIXELS="gegl"), python_fu(spec, again))
    check(status == 0, f"gimp-console-3 exited {status} with IMAGEGEN_PIXELS=gegl")
    for ext in (".exact", ".u8"):
        with open(paths["after"] + ext, "rb") as a, open(again["after"] + ext, "rb") as b:
            check(a.read() == b.read(), f"the image after the edit ({ext}) differs through GEGL")
    return "; bit-identical through GEGL's conversion"


def run_case(name, build, source):
    e2e.LOCALEDIR = os.path.join(build, "po")
    spec = CASES[name]
    print("1..1", flush=True)
    root = tempfile.mkdtemp(prefix=f"imagegen-e2e3-{name}-")
    emulator = None
    error = None
    summary = ""
    seen = {}
    try:
        home = prepare_home(build, source, root)
        for proc, text in spec.get("settings", {}).items():
            folder = os.path.join(os.path.dirname(os.path.dirname(plugin_folder(home))), "plug-in-settings")
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f"GimpProcedureConfigRun-{proc}.last"), "w") as f:
                f.write(f"# settings\n\n{text}\n# end of settings\n")
        emulator = Emulator(os.path.join(build, "tests", "emulator", "imagegen-emulator"), root,
                            ["gpt-image-1=gpt-image-1", "img-prod=gpt-image-1"])
        if spec.get("faults"):
            emulator.faults(*spec["faults"])
        if spec.get("azure"):
            env = {"AZURE_OPENAI_ENDPOINT": emulator.base, "AZURE_OPENAI_API_KEY": API_KEY,
                   "AZURE_OPENAI_DEPLOYMENT": "img-prod"}
        else:
            env = {"OPENAI_BASE_URL": emulator.base + "/v1", "OPENAI_API_KEY": API_KEY}
        env.update(spec.get("env", {}))
        paths = {k: os.path.join(root, k) for k in ("before", "after", "selection")}
        log, status, seconds = run_gimp(root, home, env, python_fu(spec, paths))
        check(status == 0, f"gimp-console-3 exited {status} (the script failed: see gimp.err)")
        requests = emulator.requests()
        e2e.check_auth(spec, requests)
        summary = f"({seconds:.1f} s in GIMP, {len(requests)} request(s)) " + verify(spec, log, requests, paths)
        if spec.get("compare_gegl"):
            summary += compare_with_gegl(root, home, env, spec, paths)
    except (Failure, OSError, ValueError, KeyError, IndexError, subprocess.TimeoutExpired) as e:
        error = f"{type(e).__name__ if not isinstance(e, Failure) else ''} {e}".strip()
    finally:
        error = e2e.stop_emulator(emulator, seen, error)
    return e2e.report(name, root, seen, error, summary)


if __name__ == "__main__":
    sys.exit(e2e.main(CASES, run_case))
