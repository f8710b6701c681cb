#!/usr/bin/env python3
"""End-to-end tests: the real gimp-console-2.10 runs Script-Fu that calls the plug-in, against the
local emulator. Each case builds an image, runs a procedure, and exports the flattened image
before and after (PNM, 16-bit for high-bit images) with the selection; the checks here are on
pixels, layers and the emulator's request log.

    e2e.py --build BUILD_DIR --source SOURCE_DIR CASE
"""
import argparse
import fcntl
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

# Distinctive keys: each may appear on the wire only in the auth header. After every case the
# whole case (GIMP's output, its home, saved images, parasites, the emulator's output and request
# log) is searched for them, so a key that leaks anywhere fails the case.
API_KEY = "sk-imagegen-MARKER-7c1f2a9e"
WRONG_KEY = "sk-imagegen-WRONG-MARKER-3d5b8e10"  # what the 401 case sends instead
# Shaped like the keys of the services (an OpenAI project key, an Azure key, an Entra ID token),
# none of them the run's: what the echoing service of the echoed-key case plants besides the key
# the request carried. None may be kept or shown either.
ECHOED_MARKERS = ("sk-proj-E2Eecho7Qx2Lm9Pz4Rt8Vw1Yb6Nc3", "5e2e0ec0a1b2c3d4e5f60718293a4b5c",
                  "eyJlMmUiOiJlY2hvIn0.eyJzdWIiOiJlMmUtZWNobyJ9.c2lnLWUyZS1lY2hv")
MARKERS = (API_KEY, WRONG_KEY) + ECHOED_MARKERS

# ---------------------------------------------------------------- images

class Pnm:
    """A binary PPM/PGM: width, height, channels, maxval, and raw samples."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        tokens, pos = [], 0
        while len(tokens) < 4:
            while data[pos:pos + 1].isspace():
                pos += 1
            if data[pos:pos + 1] == b"#":
                pos = data.index(b"\n", pos) + 1
                continue
            end = pos
            while not data[end:end + 1].isspace():
                end += 1
            tokens.append(data[pos:end])
            pos = end
        pos += 1
        self.channels = {b"P6": 3, b"P5": 1}[tokens[0]]
        self.width, self.height, self.maxval = int(tokens[1]), int(tokens[2]), int(tokens[3])
        self.bytes_per_sample = 2 if self.maxval > 255 else 1
        self.raw = data[pos:]
        self.stride = self.width * self.channels * self.bytes_per_sample

    def row(self, y):
        return self.raw[y * self.stride:(y + 1) * self.stride]

    def coverage_rows(self):
        """The first channel, 8-bit, one bytes object per row (for the exported selection)."""
        step = self.channels * self.bytes_per_sample
        return [self.row(y)[0::step] for y in range(self.height)]

    def pixel(self, x, y):
        """Samples scaled to 0..255 floats."""
        bps, c = self.bytes_per_sample, self.channels
        off = y * self.stride + x * c * bps
        if bps == 1:
            return [self.raw[off + i] for i in range(c)]
        return [int.from_bytes(self.raw[off + 2 * i:off + 2 * i + 2], "big") * 255.0 / 65535.0 for i in range(c)]

    def coverage(self, x, y):
        return self.pixel(x, y)[0]


def prompt_colour(prompt):
    """The colour the emulator paints for a prompt (FNV-1a of the UTF-8 bytes)."""
    h = 2166136261
    for b in prompt.encode("utf-8"):
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return [64 + (h & 0x7F), 64 + ((h >> 8) & 0x7F), 64 + ((h >> 16) & 0x7F)]


def srgb_to_linear(v):
    v /= 255.0
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def linear_to_srgb(v):
    v = 12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
    return v * 255.0


def as_gray(rgb):
    """babl's RGB to Y: luminance in linear light, back to perceptual."""
    r, g, b = (srgb_to_linear(c) for c in rgb)
    return [linear_to_srgb(0.2126 * r + 0.7152 * g + 0.0722 * b)]

# ---------------------------------------------------------------- Script-Fu

PRELUDE = r"""
(define (e2e . parts) (gimp-message (apply string-append (cons "E2E " parts))))
(define (num n) (number->string n))
(define (the-image) ; the first image made: the one a case works on
  (let ((images (cadr (gimp-image-list)))) (vector-ref images (- (vector-length images) 1))))
(define (the-layer) (car (gimp-image-get-active-drawable (the-image))))
(define (layer-type image) (if (= (car (gimp-image-base-type image)) GRAY) GRAY-IMAGE RGB-IMAGE))
(define (new-image w h base precision)
  (let* ((image (car (gimp-image-new-with-precision w h base precision)))
         (layer (car (gimp-layer-new image w h (layer-type image) "background" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer image layer 0 0)
    (paint layer w h)
    image))
; A gradient with bands of colour: an unchanged pixel is unlikely to match by chance.
(define (paint layer w h)
  (gimp-context-set-foreground '(230 180 40))
  (gimp-context-set-background '(20 60 150))
  (gimp-context-set-gradient-fg-bg-rgb)
  (gimp-drawable-edit-gradient-fill layer GRADIENT-LINEAR 0 FALSE 1 0 FALSE 0 0 w h))
(define (export image path)
  (let* ((dup (car (gimp-image-duplicate image)))
         (flat (car (gimp-image-flatten dup))))
    (if (= (car (gimp-image-base-type dup)) GRAY)
        (file-pgm-save RUN-NONINTERACTIVE dup flat path path 1)
        (file-ppm-save RUN-NONINTERACTIVE dup flat path path 1))
    (gimp-image-delete dup)))
(define (export-selection image path)
  (let* ((dup (let ((d (car (gimp-image-duplicate image))))
                (if (= (car (gimp-image-base-type d)) INDEXED) (gimp-image-convert-rgb d))
                d))
         (w (car (gimp-image-width dup)))
         (h (car (gimp-image-height dup)))
         (layer (car (gimp-layer-new dup w h (layer-type dup) "selection" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer dup layer 0 -1)
    (gimp-context-set-foreground '(0 0 0))
    (gimp-drawable-fill layer FILL-FOREGROUND)
    (gimp-context-set-foreground '(255 255 255))
    (if (= (car (gimp-selection-is-empty dup)) FALSE) (gimp-drawable-edit-fill layer FILL-FOREGROUND))
    (let ((flat (car (gimp-image-flatten dup))))
      (file-pgm-save RUN-NONINTERACTIVE dup (car (gimp-image-get-active-drawable dup)) path path 1)
      (gimp-image-delete dup))))
(define (report-layers image)
  (let loop ((ids (vector->list (cadr (gimp-image-get-layers image)))) (prefix ""))
    (if (pair? ids)
        (let* ((id (car ids))
               (offsets (gimp-drawable-offsets id)))
          (e2e "layer " prefix (num id) " name=" (car (gimp-item-get-name id))
               " x=" (num (car offsets)) " y=" (num (cadr offsets))
               " w=" (num (car (gimp-drawable-width id))) " h=" (num (car (gimp-drawable-height id)))
               " visible=" (num (car (gimp-item-get-visible id)))
               " group=" (num (car (gimp-item-is-group id)))
               " mask=" (num (car (gimp-layer-get-mask id)))
               " parasite=" (num (length (cadr (gimp-item-get-parasite-list id)))))
          (if (= (car (gimp-item-is-group id)) TRUE)
              (loop (vector->list (cadr (gimp-item-get-children id))) (string-append prefix "  ")))
          (loop (cdr ids) prefix))))
  (e2e "dirty " (num (car (gimp-image-is-dirty image)))))
(define (export-result image path) ; the top layer alone, its layer mask dropped
  (let* ((dup (car (gimp-image-duplicate image)))
         (layers (vector->list (cadr (gimp-image-get-layers dup))))
         (top (car layers)))
    (if (> (car (gimp-layer-get-mask top)) 0) (gimp-layer-remove-mask top MASK-DISCARD))
    (for-each (lambda (l) (gimp-image-remove-layer dup l)) (cdr layers))
    (export dup path)
    (gimp-image-delete dup)))
(define (report-parasite layer)
  (e2e "parasite " (caddr (car (gimp-item-get-parasite layer "imagegen-result")))))
;; Every parasite GIMP holds (global, image, layer, mask, channel) printed, and every image saved
;; as XCF into `dir`: where a key written into a parasite or a saved file would show.
(define (print-parasites what names get)
  (for-each (lambda (name) (e2e "parasite-data " what " " name " " (caddr (car (get name))))) names))
(define (print-item-parasites ids)
  (for-each
    (lambda (id)
      (print-parasites (string-append "item " (num id)) (cadr (gimp-item-get-parasite-list id))
                       (lambda (name) (gimp-item-get-parasite id name)))
      (if (and (= (car (gimp-item-is-layer id)) TRUE) (> (car (gimp-layer-get-mask id)) 0))
          (print-item-parasites (list (car (gimp-layer-get-mask id)))))
      (if (= (car (gimp-item-is-group id)) TRUE)
          (print-item-parasites (vector->list (cadr (gimp-item-get-children id))))))
    ids))
(define (dump-secrets dir)
  (print-parasites "global" (cadr (gimp-get-parasite-list)) gimp-get-parasite)
  (for-each
    (lambda (image)
      (print-parasites (string-append "image " (num image)) (cadr (gimp-image-get-parasite-list image))
                       (lambda (name) (gimp-image-get-parasite image name)))
      (print-item-parasites (vector->list (cadr (gimp-image-get-layers image))))
      (print-item-parasites (vector->list (cadr (gimp-image-get-channels image))))
      (let ((path (string-append dir "/image-" (num image) ".xcf")))
        (gimp-xcf-save 0 image (car (gimp-image-get-active-drawable image)) path path)))
    (vector->list (cadr (gimp-image-list)))))
(define (set-last-values procedure text) ; as gimp_set_data stores them: the bytes, then a NUL
  (let ((bytes (list->vector (append (map char->integer (string->list text)) '(0)))))
    (gimp-procedural-db-set-data procedure (vector-length bytes) bytes)))
(define (report-result r)
  (if (not (number? (car r))) (e2e "returned nothing (cancelled)") ; Script-Fu gives (#f) on a cancel
  (e2e "returned " (num (car r)) " ids " (apply string-append (map (lambda (i) (string-append (num i) " ")) (vector->list (cadr r)))))))
"""

# ---------------------------------------------------------------- the emulator

class Emulator:
    """The emulator, its stdout and stderr in files of the case's folder (searched for the key)."""

    def __init__(self, binary, root, deployments=()):
        args = [binary, "--port", "0", "--api-key", API_KEY]
        for d in deployments:
            args += ["--deployment", d]
        self.out_path = os.path.join(root, "emulator.out")
        self.err_path = os.path.join(root, "emulator.err")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(args, stdout=out, stderr=err)
        self.base = None
        deadline = time.monotonic() + 30
        while self.base is None:
            with open(self.out_path) as f:
                line = f.readline()
            if line.endswith("\n"):
                self.base = line.strip().split(" ")[-1]
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                raise Failure("the emulator did not start")
            else:
                time.sleep(0.02)

    def control_text(self, what, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}/_emulator/{what}", data=data,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req) as res:
            return res.read().decode("utf-8", "replace")

    def control(self, what, body=None):
        return json.loads(self.control_text(what, body))

    def faults(self, *faults):
        self.control("faults", {"faults": list(faults)})

    def requests(self):
        return self.control("requests")["requests"]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)

# ---------------------------------------------------------------- GIMP

LOCALEDIR = ""  # the build tree's po/, where meson puts <lang>/LC_MESSAGES/imagegen-gimp.mo

def prepare_home(build, source, root):
    """A GIMP home initialised once (first-run setup, plug-in registered), copied per case."""
    template = os.path.join(build, "e2e-home-template")
    lock = open(os.path.join(build, "e2e-home.lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        stamp = os.path.join(template, ".ready")
        plugin = os.path.join(build, "plug-in", "imagegen")
        if not os.path.exists(stamp) or os.path.getmtime(stamp) < os.path.getmtime(plugin):
            shutil.rmtree(template, ignore_errors=True)
            os.makedirs(template)
            # GIMP keeps the folder of the plug-in's catalogues that the plug-in registers when
            # GIMP first queries it: the build tree's, so that GIMP translates the menu labels.
            env = dict(os.environ, HOME=template, IMAGEGEN_LOCALEDIR=os.path.join(build, "po"))
            subprocess.run(["gimp-console-2.10", "-i", "-d", "-f", "-b", "(gimp-quit 0)"], env=env,
                           capture_output=True, timeout=120, check=False)
            install_plugin(build, source, template)
            subprocess.run(["gimp-console-2.10", "-i", "-d", "-f", "-b", "(gimp-quit 0)"], env=env,
                           capture_output=True, timeout=120, check=False)
            open(stamp, "w").close()
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
    home = os.path.join(root, "home")
    shutil.copytree(template, home, symlinks=True)
    return home


def install_plugin(build, source, home):
    folder = os.path.join(home, ".config", "GIMP", "2.10", "plug-ins", "imagegen")
    os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(build, "plug-in", "imagegen"), os.path.join(folder, "imagegen"))
    shutil.copy(os.path.join(source, "data", "models.json"), folder)


# A private session bus and an unlocked keyring of the case's own, the saved connection's key
# stored in it (read from stdin, so no command line holds it) and dropped from the environment
# before GIMP starts: the plug-in can only find the key through libsecret.
KEYRING_WRAPPER = r"""
printf test | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null || exit 1
printf %s "$E2E_SECRET" | secret-tool store --label="Imagegen for GIMP: $E2E_CONNECTION" \
  xdg:schema org.gimp.imagegen.Connection connection "$E2E_CONNECTION" || exit 1
unset E2E_SECRET E2E_CONNECTION
exec "$@"
"""


def run_gimp(root, home, env_extra, scheme_path, steps, timeout=240, keyring=None):
    """GIMP's stdout and stderr go to files of the case's folder, so that they are searched for
    the key even when GIMP times out. `keyring`: (connection, secret) to save first."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "AZURE_OPENAI_")) and k not in ("LANGUAGE", "LC_ALL")}
    # Messages in English whatever the machine's locale (the cases read them), unless a case
    # asks for a language; the plug-in's catalogues are the build tree's.
    env["LC_MESSAGES"] = "C"
    # Temporary files the plug-in or GIMP might write land in the case's folder, to be searched.
    tmp = os.path.join(root, "tmp")
    os.makedirs(tmp, exist_ok=True)
    env.update(HOME=home, TMPDIR=tmp, IMAGEGEN_LOCALEDIR=LOCALEDIR, **env_extra)
    args = ["gimp-console-2.10", "-i", "-d", "-f"]
    for step in steps:
        args += ["-b", f'(begin (load "{scheme_path}") ({step}))']
    args += ["-b", "(gimp-quit 0)"]
    if keyring:
        runtime = os.path.join(root, "run")
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.update(XDG_RUNTIME_DIR=runtime, XDG_DATA_HOME=os.path.join(home, ".local", "share"),
                   E2E_CONNECTION=keyring[0], E2E_SECRET=keyring[1])
        args = ["dbus-run-session", "--", "sh", "-c", KEYRING_WRAPPER, "sh"] + args
    out_path, err_path = os.path.join(root, "gimp.out"), os.path.join(root, "gimp.err")
    t0 = time.monotonic()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        subprocess.run(args, env=env, stdout=out, stderr=err, timeout=timeout, check=False)
    with open(out_path, errors="replace") as out, open(err_path, errors="replace") as err:
        return err.read() + out.read(), time.monotonic() - t0

# ---------------------------------------------------------------- cases

class Raw(str):
    """A Scheme expression, passed as it is instead of as a string literal."""


def q(s):
    if isinstance(s, Raw):
        return s
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def edit_call(prompt="a blue ball", model="gpt-image-1", n=-1, size="", quality="", fidelity="",
              context=-1, feather=-1, connection="", options="", mode="RUN-NONINTERACTIVE"):
    return (f"(plug-in-imagegen-edit {mode} (the-image) (the-layer) {q(prompt)} {q(model)} {n} {q(size)} "
            f"{q(quality)} {q(fidelity)} {context} {feather} {q(connection)} {q(options)})")


def generate_call(prompt="a starry sky", model="gpt-image-1", n=-1, size="", quality="", style="",
                  background="", connection="", options=""):
    return (f"(plug-in-imagegen-generate RUN-NONINTERACTIVE (the-image) (the-layer) {q(prompt)} {q(model)} {n} "
            f"{q(size)} {q(quality)} {q(style)} {q(background)} {q(connection)} {q(options)})")


def expand_call(prompt="a calm sea", margins=(0, 0, 0, 0), model="gpt-image-1", size="", quality="",
                n=-1, connection="", options="", mode="RUN-NONINTERACTIVE"):
    left, top, right, bottom = margins
    return (f"(plug-in-imagegen-expand {mode} (the-image) (the-layer) {q(prompt)} {left} {top} {right} "
            f"{bottom} {q(model)} {q(size)} {q(quality)} {n} {q(connection)} {q(options)})")


RECT = "(gimp-image-select-rectangle image CHANNEL-OP-REPLACE 100 80 120 90)"

CASES = {}


def case(name, **spec):
    spec.setdefault("setup", f"(let ((image (new-image 400 300 RGB PRECISION-U8-GAMMA))) {RECT})")
    spec.setdefault("act", f"(report-result {edit_call()})")
    spec.setdefault("prompt", "a blue ball")
    spec.setdefault("expect", "edit")
    spec["name"] = name
    CASES[name] = spec


case("rectangle", upload="image/jpeg", compare_gegl=True)
case("ellipse", setup="(let ((image (new-image 400 300 RGB PRECISION-U8-GAMMA))) "
                      "(gimp-context-set-antialias TRUE) "
                      "(gimp-image-select-ellipse image CHANNEL-OP-REPLACE 80 60 200 150))",
     compare_gegl=True)  # an antialiased edge: selection values between 0 and 255
case("feathered", setup="(let ((image (new-image 400 300 RGB PRECISION-U8-GAMMA))) "
                        "(gimp-context-set-feather TRUE) (gimp-context-set-feather-radius 12 12) "
                        f"{RECT} (gimp-context-set-feather FALSE))",
     act=f"(report-result {edit_call(feather=6)})", feather=6, compare_gegl=True)
# The bytes on the wire: JPEG by default for an opaque picture (above), PNG when asked, and PNG
# where transparency is part of what the model must see (outpainting, selection-outside-layer).
case("upload-png-forced", act="(report-result " + edit_call(options='{"upload_format":"png"}') + ")",
     upload="image/png")
case("no-selection", setup="(new-image 400 300 RGB PRECISION-U8-GAMMA)", no_selection=True)
case("layer-offsets",
     setup="(let* ((image (new-image 500 400 RGB PRECISION-U8-GAMMA)) "
           "(small (car (gimp-layer-new image 200 150 RGB-IMAGE \"small\" 100 LAYER-MODE-NORMAL)))) "
           "(gimp-image-insert-layer image small 0 0) (gimp-layer-set-offsets small 150 120) "
           "(gimp-context-set-foreground '(90 200 90)) (gimp-drawable-fill small FILL-FOREGROUND) "
           "(gimp-image-set-active-layer image small) "
           "(gimp-image-select-rectangle image CHANNEL-OP-REPLACE 180 150 80 60))",
     compare_gegl=True)
case("selection-outside-layer",
     setup="(let* ((image (new-image 500 400 RGB PRECISION-U8-GAMMA)) "
           "(small (car (gimp-layer-new image 200 150 RGBA-IMAGE \"small\" 100 LAYER-MODE-NORMAL)))) "
           "(gimp-image-insert-layer image small 0 0) (gimp-layer-set-offsets small 150 120) "
           "(gimp-context-set-foreground '(90 200 90)) (gimp-drawable-fill small FILL-FOREGROUND) "
           "(gimp-image-set-active-layer image small) "
           "(gimp-image-select-rectangle image CHANNEL-OP-REPLACE 300 200 120 100))",
     upload="image/png", compare_gegl=True)
case("16-bit", setup=f"(let ((image (new-image 400 300 RGB PRECISION-U16-GAMMA))) {RECT})")
case("32-bit-float", setup=f"(let ((image (new-image 400 300 RGB PRECISION-FLOAT-LINEAR))) {RECT})")
case("grayscale", setup=f"(let ((image (new-image 400 300 GRAY PRECISION-U8-GAMMA))) {RECT})", gray=True)
case("large-image", setup="(let ((image (new-image 6000 4000 RGB PRECISION-U8-GAMMA))) "
                          "(gimp-image-select-rectangle image CHANNEL-OP-REPLACE 3000 2000 300 200))",
     large=True)
case("outpainting",
     setup="(let* ((image (new-image 300 300 RGB PRECISION-U8-GAMMA))) "
           "(gimp-image-resize image 400 300 0 0) "
           "(gimp-layer-add-alpha (the-layer)) "
           "(gimp-layer-resize-to-image-size (the-layer)) "
           "(gimp-image-select-rectangle image CHANNEL-OP-REPLACE 300 0 100 300))",
     outpainting=True, upload="image/png")
case("three-results", act=f"(report-result {edit_call(n=3)})", n=3)
case("streamed", act="(report-result " + edit_call(options='{"stream":true,"partial_images":2}') + ")",
     streamed=True)
case("references",
     setup="(let* ((image (new-image 400 300 RGB PRECISION-U8-GAMMA)) "
           "(ref (car (gimp-layer-new image 64 48 RGB-IMAGE \"ref\" 100 LAYER-MODE-NORMAL)))) "
           "(gimp-image-insert-layer image ref 0 -1) (gimp-drawable-fill ref FILL-FOREGROUND) "
           "(gimp-item-set-visible ref FALSE) "
           "(gimp-image-set-active-layer image (vector-ref (cadr (gimp-image-get-layers image)) 1)) "
           f"{RECT})",
     act="(let ((ref (vector-ref (cadr (gimp-image-get-layers (the-image))) 0))) "
         + "(report-result " + edit_call(options=Raw('(string-append "{\\"references\\":[" (num ref) "]}")')) + "))",
     references=True)
case("last-values",
     act=f"(begin (report-result {edit_call(prompt='first prompt')}) "
         f"(report-result {edit_call(prompt='ignored', model='ignored', mode='RUN-WITH-LAST-VALS')}))",
     prompt="first prompt", last_values=True)
case("generate-selection", act=f"(report-result {generate_call()})", expect="generate",
     prompt="a starry sky")
case("generate-whole", setup="(new-image 400 300 RGB PRECISION-U8-GAMMA)",
     act=f"(report-result {generate_call()})", expect="generate", prompt="a starry sky", no_selection=True)
case("dall-e-3-parallel", act=f"(report-result {generate_call(model='dall-e-3', n=3)})", expect="generate",
     prompt="a starry sky", n=3, dalle=True, latency=1500)
case("new-image", setup="(new-image 64 64 RGB PRECISION-U8-GAMMA)",
     act="(let ((r (plug-in-imagegen-new-image RUN-NONINTERACTIVE \"a lighthouse\" \"gpt-image-1\" 2 "
         "\"1536x1024\" \"\" \"\" \"\" \"\" \"\"))) "
         "(e2e \"new image \" (num (car r)) \" w=\" (num (car (gimp-image-width (car r)))) "
         "\" h=\" (num (car (gimp-image-height (car r))))) (report-layers (car r)))",
     expect="new-image", prompt="a lighthouse")

# Memory follows the target, not the answer: a thin answer (1x489, which the plug-in once scaled
# whole to 1024x500736 to cover the canvas: 2 GB) and a thin layer (20000x100, whose region
# widened to 3:2 was once read, sent and inserted at 20000x13333). The plug-in's peak resident
# memory (IMAGEGEN_TIMINGS' peak-rss-kb) stays under `max_peak_mb`, and the thin layer's result
# covers the canvas, not the region widened past it.
case("generate-thin-answer", setup="(new-image 1024 1024 RGB PRECISION-U8-GAMMA)",
     act=f"(report-result {generate_call()})", expect="generate", prompt="a starry sky", no_selection=True,
     faults=[{"kind": "image_size", "width": 1, "height": 489}], max_peak_mb=400)
case("edit-thin-layer", setup="(new-image 20000 100 RGB PRECISION-U8-GAMMA)", no_selection=True,
     result_size=(20000, 100), upload="image/png", max_peak_mb=400)
# Failures: the message reaches Script-Fu and the image is exactly as it was.
AZURE = {"azure": True}
case("fail-content-filter-prompt", expect="error", faults=[{"kind": "content_filter", "stage": "input"}],
     message="The service's safety system refused the prompt", **AZURE)
case("fail-content-filter-output", expect="error",
     faults=[{"kind": "content_filter", "stage": "output", "shape": "openai"}],
     message="The service's safety system refused the generated image")
case("fail-unauthorised", expect="error", key=WRONG_KEY, message="The service refused the credentials (HTTP 401)")
case("fail-unknown-deployment", expect="error", act=f"(report-result {edit_call(model='no-such-deployment')})",
     message="The service does not know this deployment or model (HTTP 404)", **AZURE)
case("rate-limited-then-success", faults=[{"kind": "rate_limit", "header": "retry-after-ms", "value": "50"}],
     retried=True)
case("fail-server-error", expect="error", faults=[{"kind": "server_error", "status": 500}] * 3,
     message="The service had an internal error (HTTP 500)", attempts=3)
case("fail-malformed", expect="error", faults=[{"kind": "broken_base64"}],
     message="broken base64")
case("fail-broken-png", expect="error", faults=[{"kind": "broken_png"}],
     message="the service sent an image that cannot be read")
case("fail-huge-png", expect="error", faults=[{"kind": "huge_png"}], message="larger than can be opened safely")
case("fail-truncated", expect="error", faults=[{"kind": "truncated"}] * 3,
     message="the connection closed before the whole answer arrived", attempts=3)
# An answer taller than GIMP's images (1x600000: within the pixel limit, past 524288 a side):
# refused before it is decoded, and no image is made (GIMP once failed to make it, printed 11
# calling errors, and the call returned success with image -1).
case("fail-new-image-too-tall", expect="error", setup="(new-image 64 64 RGB PRECISION-U8-GAMMA)",
     act="(plug-in-imagegen-new-image RUN-NONINTERACTIVE \"a lighthouse\" \"gpt-image-1\" 1 "
         "\"1024x1024\" \"\" \"\" \"\" \"\" \"\")",
     faults=[{"kind": "image_size", "width": 1, "height": 600000}],
     message="the service sent an image of 1x600000 pixels, larger than GIMP can hold", images=1)
case("fail-empty-prompt", expect="error", act=f"(report-result {edit_call(prompt='')})",
     message="the prompt is empty", sent=0)
# In German (LANGUAGE=de, with C.UTF-8 since no German locale need be installed): the plug-in's
# refusal reaches Script-Fu in the German of po/de.po.
case("fail-empty-prompt-german", expect="error", act=f"(report-result {edit_call(prompt='')})",
     env={"LANGUAGE": "de", "LC_ALL": "C.UTF-8"},
     message="der Prompt ist leer: beschreiben Sie, was gezeichnet werden soll", sent=0)
case("fail-size-for-model", expect="error", act=f"(report-result {edit_call(size='1792x1024')})",
     message="size 1792x1024 is not offered by gpt-image-1: use auto, 1024x1024, 1536x1024 or 1024x1536", sent=0)
case("fail-indexed", expect="error",
     setup=f"(let ((image (new-image 400 300 RGB PRECISION-U8-GAMMA))) "
           "(gimp-image-convert-indexed image CONVERT-DITHER-NONE CONVERT-PALETTE-GENERATE 16 FALSE FALSE \"\") "
           f"{RECT})",
     message="Image ▸ Mode ▸ RGB", sent=0)
case("fail-layer-mask", expect="error",
     setup=f"(let ((image (new-image 400 300 RGB PRECISION-U8-GAMMA))) "
           "(gimp-layer-add-mask (the-layer) (car (gimp-layer-create-mask (the-layer) ADD-MASK-WHITE))) "
           f"(gimp-layer-set-edit-mask (car (gimp-image-get-active-layer image)) TRUE) {RECT})",
     message="A layer mask is active", sent=0)
case("fail-channel", expect="error",
     setup=f"(let* ((image (new-image 400 300 RGB PRECISION-U8-GAMMA)) "
           "(channel (car (gimp-channel-new image 400 300 \"extra\" 50 '(0 0 0))))) "
           f"(gimp-image-insert-channel image channel 0 0) (gimp-image-set-active-channel image channel) {RECT})",
     message="A channel is active", sent=0)
case("fail-no-earlier-run", expect="error",
     act=f"(report-result {edit_call(mode='RUN-WITH-LAST-VALS')})", message="There is no earlier run", sent=0)
case("saved-connection", connection_file=True,
     act=f"(report-result {edit_call(connection='local emulator', model='')})")
case("fail-unknown-connection", expect="error", act=f"(report-result {edit_call(connection='nowhere')})",
     message="there is no saved connection named nowhere", sent=0)
case("cancelled", expect="cancel", latency=20000, cancel=True)
case("saved-default-connection", connection_file=True, default_connection=True,
     act=f"(report-result {edit_call(model='')})")
case("saved-connection-keyring", connection_file=True, keyring=True,
     act=f"(report-result {edit_call(connection='local emulator', model='')})")
case("32-bit-integer-linear", setup=f"(let ((image (new-image 400 300 RGB PRECISION-U32-LINEAR))) {RECT})")
case("half-float-perceptual", setup=f"(let ((image (new-image 400 300 RGB PRECISION-HALF-GAMMA))) {RECT})")
case("fail-layer-group", expect="error",
     setup=f"(let* ((image (new-image 400 300 RGB PRECISION-U8-GAMMA)) (group (car (gimp-layer-group-new image)))) "
           f"(gimp-image-insert-layer image group 0 0) (gimp-image-set-active-layer image group) {RECT})",
     message="A layer group is active", sent=0)

# Colour matching against a model that drifts in tone (the emulator's drift fault: the whole
# answer, the prompt's colour too, through a known gain and offset, or a wave no gain and offset
# can follow). With matching the result next to the selection's edge is the source again and the
# fill the prompt's colour; without it both show the drift; the wave is declined and changes
# nothing. At 8 bits, 16 bits and in grayscale.
DRIFT = {"kind": "drift", "gain": [1.1, 0.95, 1.05], "offset": [-8, 5, 3]}
# DRIFT's channels nearly cancel in luminance (0.99 v + 2): a grayscale image gets one that shows.
DRIFT_GRAY = {"kind": "drift", "gain": [1.1, 1.06, 1.04], "offset": [6, 8, 10]}
WAVE = {"kind": "drift", "curve": "wave"}
for depth, image_setup, gray, drift in (
        ("", "RGB PRECISION-U8-GAMMA", False, DRIFT),
        ("-16-bit", "RGB PRECISION-U16-GAMMA", False, DRIFT),
        ("-grayscale", "GRAY PRECISION-U8-GAMMA", True, DRIFT_GRAY)):
    for kind, fault, options, outcome in (
            ("matched", drift, "", "applied"),
            ("off", drift, '{"match_colors":false}', "off"),
            # PNG: the check holds the result's pixels to the source through the wave, whose
            # steep parts would magnify JPEG's own few levels of loss past its tolerance
            ("wave-declined", WAVE, '{"upload_format":"png"}', "declined")):
        case(f"drift-{kind}{depth}", setup=f"(let ((image (new-image 400 300 {image_setup}))) {RECT})",
             act=f"(report-result {edit_call(options=options)})", faults=[fault], gray=gray,
             drift={"fault": fault, "outcome": outcome})

# The bad-input matrix (docs/bad-input.md): refusals before anything is sent, each with the
# image exactly as it was.
case("fail-prompt-too-long", expect="error",
     act="(report-result " + generate_call(prompt=Raw("(make-string 4001 #\\a)"), model="dall-e-3") + ")",
     message="the prompt is 4001 characters long; dall-e-3 takes at most 4000", sent=0)
case("prompt-unicode", prompt='un "ballon" \\ rouge\n— 気球 🎈',
     act="(report-result " + edit_call(prompt='un "ballon" \\ rouge\n— 気球 🎈') + ")")
case("fail-quality-for-model", expect="error", act=f"(report-result {edit_call(quality='hd')})",
     message="quality hd is not offered by gpt-image-1", sent=0)
case("fail-too-many-images", expect="error", act=f"(report-result {edit_call(n=11)})",
     message="n 11 is not offered by gpt-image-1: use 1 to 10", sent=0)
case("fail-options-not-json", expect="error", act=f"(report-result {edit_call(options='[1,2')})",
     message="options must be a JSON object", sent=0)
case("fail-unknown-option", expect="error",
     act="(report-result " + edit_call(options='{"colour":"red"}') + ")",
     message="options: colour is not an option this plug-in knows", sent=0)
case("fail-reference-missing", expect="error",
     act="(report-result " + edit_call(options='{"references":[987654]}') + ")",
     message="references names 987654, which is not a layer of pixels", sent=0)
case("fail-reference-group", expect="error",
     setup="(let* ((image (new-image 400 300 RGB PRECISION-U8-GAMMA)) (layer (the-layer)) "
           "(group (car (gimp-layer-group-new image)))) "
           f"(gimp-image-insert-layer image group 0 0) (gimp-image-set-active-layer image layer) {RECT})",
     act="(let ((group (vector-ref (cadr (gimp-image-get-layers (the-image))) 0))) "
         + "(report-result " + edit_call(options=Raw('(string-append "{\\"references\\":[" (num group) "]}")')) + "))",
     message="which is not a layer of pixels", sent=0)
# Last values saved by hand through the PDB, as a broken or foreign version could leave them.
LAST_VALUES_OUT_OF_RANGE = ('{"version":2,"prompt":"saved prompt","model":"gpt-image-1","n-images":-1,'
                            '"size":"","quality":"","input-fidelity":"","context":1e999,"feather":-1,'
                            '"connection":"","options":""}')
case("last-values-out-of-range", prompt="saved prompt",
     act='(begin (set-last-values "plug-in-imagegen-edit" ' + q(LAST_VALUES_OUT_OF_RANGE) + ") "
         + "(report-result " + edit_call(prompt="ignored", mode="RUN-WITH-LAST-VALS") + "))")
case("fail-corrupt-last-values", expect="error",
     act='(begin (set-last-values "plug-in-imagegen-edit" "not json {") '
         + "(report-result " + edit_call(mode="RUN-WITH-LAST-VALS") + "))",
     message="There is no earlier run", also_says="could not be read", sent=0)
# A cancel while the answer is decoded, and while the layers are made: the plug-in sends itself
# SIGINT as the phase before ends (IMAGEGEN_INTERRUPT_AFTER), as a user's cancel would arrive.
case("cancelled-while-decoding", expect="cancel", env={"IMAGEGEN_INTERRUPT_AFTER": "request"})
case("cancelled-while-inserting", expect="cancel", env={"IMAGEGEN_INTERRUPT_AFTER": "decode"},
     act=f"(report-result {edit_call(n=2)})")

# Generative Expand: the canvas grows, the original's pixels are bit-identical at their new
# offset, and the border is the prompt's colour, painted in tiles (`tiles` requests, one after
# another). No selection: an expand ignores it.
EXPAND_SETUP = "(new-image 400 300 RGB PRECISION-U8-GAMMA)"
for name, margins, size, tiles in (
        ("expand-one-side", (0, 0, 250, 0), "", 1),
        ("expand-four-sides", (400, 100, 400, 100), "", 2),
        ("expand-wide-border", (0, 0, 1700, 0), "1536x1024", 2)):
    case(name, setup=EXPAND_SETUP, expect="expand", prompt="a calm sea", margins=margins, tiles=tiles,
         act=f"(report-result {expand_call(margins=margins, size=size)})")
# Filters ▸ Repeat (RUN-WITH-LAST-VALS) repeats the last values, so a second call grows the
# canvas by the same margins again. (The menu entry opens the dialog: tests/gui, case expand.)
case("expand-repeated-with-last-values", setup=EXPAND_SETUP, expect="expand", prompt="a calm sea",
     margins=(0, 0, 250, 0), tiles=2, times=2,
     act=f"(begin (report-result {expand_call(margins=(0, 0, 250, 0))}) "
         f"(report-result {expand_call(prompt='ignored', mode='RUN-WITH-LAST-VALS')}))")
case("fail-expand-no-margin", expect="error", setup=EXPAND_SETUP,
     act=f"(report-result {expand_call()})", message="every margin is 0", sent=0)
case("fail-expand-negative-margin", expect="error", setup=EXPAND_SETUP,
     act=f"(report-result {expand_call(margins=(0, -20, 100, 0))})", message="cannot be negative", sent=0)
# A 1-pixel border once cost two full 1024x1024 tiles.
case("fail-expand-one-pixel-border", expect="error", setup=EXPAND_SETUP,
     act=f"(report-result {expand_call(margins=(0, 0, 0, 1))})",
     message="the bottom margin is 1 pixel", sent=0)
case("fail-expand-too-large", expect="error", setup=EXPAND_SETUP,
     act=f"(report-result {expand_call(margins=(0, 0, 524288, 0))})",
     message="past GIMP's largest image", sent=0)

# A service that echoes the key it was sent (and other key-shaped text) into every text field of
# every answer shape: the revised prompt of a URL answer (dall-e-3) and of a base64 answer, the
# events of a stream, an error event in a stream, and an error's message and request ID. The
# results and their parasites are kept, the images saved as XCF (secrets), and no marker may be
# found anywhere: GIMP's output, the XCF files, the whole GIMP folder (key_leaks).
ECHO = {"kind": "echo_key", "value": f"Bearer {ECHOED_MARKERS[0]} azure {ECHOED_MARKERS[1]} "
                                     f"token {ECHOED_MARKERS[2]}"}
STREAMED = '{"stream":true,"partial_images":1}'
case("echoed-key-not-kept", expect="echo",
     faults=[ECHO, ECHO, ECHO, dict(ECHO, shape="error_event"), dict(ECHO, status=400)],
     act=f"(begin (report-result {generate_call(model='dall-e-3')}) "
         f"(report-result {edit_call()}) "
         f"(report-result {edit_call(options=STREAMED)}) "
         f"(if (not (catch #f {edit_call(options=STREAMED)})) (e2e \"stream error caught\")) "
         f"(report-result {edit_call()}))")


def interrupt_when_waiting(emulator, home):
    """Once the request has reached the emulator, SIGINT to this case's plug-in process (only its
    own: other cases run beside it): a cancel."""
    import threading

    class Canceller(threading.Thread):
        interrupted = False

        def run(self):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not emulator.requests():
                time.sleep(0.05)
            own = os.path.join(home, ".config", "GIMP", "2.10", "plug-ins", "imagegen", "imagegen")
            found = subprocess.run(["pgrep", "-f", f"^{own} .*-run"],
                                   capture_output=True, text=True).stdout.split()
            for pid in found:
                os.kill(int(pid), signal.SIGINT)
                self.interrupted = True

    c = Canceller()
    c.start()
    return c

# ---------------------------------------------------------------- checks

class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def e2e_lines(log):
    out = []
    for line in log.splitlines():
        i = line.find("E2E ")
        if i >= 0:
            out.append(line[i + 4:].strip())
    return out


def parse_layers(lines):
    layers = []
    for l in lines:
        if l.startswith("layer "):
            depth = (len(l) - len(l[6:].lstrip())) - 6
            fields = dict(kv.split("=", 1) for kv in l[6:].split()[1:] if "=" in kv)
            fields["id"] = int(l[6:].split()[0])
            fields["depth"] = depth // 2
            for k in ("x", "y", "w", "h", "visible", "group", "mask", "parasite"):
                fields[k] = int(fields[k])
            layers.append(fields)
    return layers


def compare_outside_and_inside(before, after, sel, colour, margin, gray, rows_bbox=None, tolerance=2.5):
    """Outside the selection (coverage 0): bit-identical. Deep inside (coverage full, `margin` away
    from any partial pixel): the emulator's colour."""
    check(before.width == after.width and before.height == after.height, "the image size changed")
    w, h = sel.width, sel.height
    full = 255
    cov = sel.coverage_rows()
    # rows of the selection that hold any coverage
    sel_rows = [y for y in range(h) if any(cov[y])]
    y0, y1 = (sel_rows[0], sel_rows[-1]) if sel_rows else (h, -1)
    changed_outside = 0
    for y in range(h):
        if y < y0 or y > y1:
            if before.row(y) != after.row(y):
                raise Failure(f"row {y}, outside the selection, changed")
            continue
        srow = cov[y]
        brow, arow = before.row(y), after.row(y)
        if brow == arow:
            continue
        step = before.channels * before.bytes_per_sample
        for x in range(w):
            if srow[x] == 0 and brow[x * step:(x + 1) * step] != arow[x * step:(x + 1) * step]:
                changed_outside += 1
    check(changed_outside == 0, f"{changed_outside} pixels outside the selection changed")
    expected = as_gray(colour) if gray else colour
    inside_checked = 0
    worst_inside = 0.0
    for y in range(y0 + margin, y1 - margin + 1):
        srow = cov[y]
        for x in range(0, w):
            if srow[x] != full:
                continue
            ok = all(cov[yy][xx] == full
                     for yy in (y - margin, y + margin) for xx in (x - margin, x + margin)
                     if 0 <= yy < h and 0 <= xx < w) and \
                 all(cov[y][xx] == full for xx in (x - margin, x + margin) if 0 <= xx < w) and \
                 all(cov[yy][x] == full for yy in (y - margin, y + margin) if 0 <= yy < h)
            if not ok or x - margin < 0 or x + margin >= w:
                continue
            got = after.pixel(x, y)
            diff = max(abs(g - e) for g, e in zip(got, expected))
            worst_inside = max(worst_inside, diff)
            if diff > tolerance:
                raise Failure(f"pixel ({x},{y}) inside the selection is {got}, expected the emulator's {expected}")
            inside_checked += 1
    check(inside_checked > 0, "no pixel deep inside the selection was checked")
    compare_outside_and_inside.worst_inside = worst_inside
    return inside_checked


def run_case(name, build, source):
    global LOCALEDIR
    LOCALEDIR = os.path.join(build, "po")
    spec = CASES[name]
    print("1..1", flush=True)
    root = tempfile.mkdtemp(prefix=f"imagegen-e2e-{name}-")
    seen = {}  # texts the key is searched in besides the case's files, by where they come from
    emulator = None
    error = None
    summary = ""
    try:
        home = prepare_home(build, source, root)
        deployments = ["gpt-image-1=gpt-image-1", "dall-e-3=dall-e-3", "img-prod=gpt-image-1"]
        emulator = Emulator(os.path.join(build, "tests", "emulator", "imagegen-emulator"), root,
                            deployments)
        summary = exercise(name, spec, root, home, emulator)
    except (Failure, OSError, ValueError, KeyError, IndexError, subprocess.TimeoutExpired) as e:
        error = f"{type(e).__name__ if not isinstance(e, Failure) else ''} {e}".strip()
    finally:
        error = stop_emulator(emulator, seen, error)
    return report(name, root, seen, error, summary)


def stop_emulator(emulator, seen, error):
    """Stops the emulator, its request log kept in `seen` to be searched for the key."""
    if emulator:
        try:
            seen["the emulator's request log (/_emulator/requests)"] = emulator.control_text("requests")
        except OSError as e:
            error = error or f"the emulator's request log could not be read: {e}"
        emulator.stop()
    return error


def report(name, root, seen, error, summary):
    """The case's TAP line. Whatever the outcome, a key that leaked fails the case, and says
    where; the case's folder is kept when it failed."""
    leaks = key_leaks(root, seen)
    if leaks:
        error = (error + "; " if error else "") + "the key leaked: " + "; ".join(leaks)
    if error is None:
        print(f"ok - {name} {summary}")
        shutil.rmtree(root, ignore_errors=True)
        return 0
    print(f"not ok - {name}: {error}")
    print(f"# logs kept in {root}")
    return 1


def exercise(name, spec, root, home, emulator):
    """The case itself: GIMP runs its Script-Fu against the emulator, then the checks."""
    if spec.get("faults"):
        emulator.faults(*spec["faults"])
    if spec.get("latency"):
        emulator.control("latency", {"ms": spec["latency"]})
    key = spec.get("key", API_KEY)
    if spec.get("azure"):
        env = {"AZURE_OPENAI_ENDPOINT": emulator.base, "AZURE_OPENAI_API_KEY": key,
               "AZURE_OPENAI_DEPLOYMENT": "img-prod"}
    else:
        env = {"OPENAI_BASE_URL": emulator.base + "/v1", "OPENAI_API_KEY": key}
    keyring = None
    if spec.get("connection_file"):
        # A saved connection to the emulator; the environment points elsewhere, so only the
        # saved connection can reach it. Its key comes from the environment, or from a private
        # keyring when the case has one (and then from nowhere else).
        folder = os.path.join(home, ".config", "GIMP", "2.10", "imagegen")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "connections.ini"), "w") as f:
            if spec.get("default_connection"):
                f.write("[general]\ndefault=local emulator\n[connection other]\nkind=openai\nauth=bearer\n")
            f.write(f"[connection local emulator]\nkind=compatible\nendpoint={emulator.base}/v1\n"
                    "auth=bearer\ndefault-model=gpt-image-1\n")
        env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"
        if spec.get("keyring"):
            del env["OPENAI_API_KEY"]
            keyring = ("local emulator", key)
    env["IMAGEGEN_TIMINGS"] = "1"
    env.update(spec.get("env", {}))
    paths = {k: os.path.join(root, f"{k}.pnm") for k in ("before", "after", "selection", "result")}
    verify_extra = ""
    if spec.get("compare_gegl"):
        verify_extra = f'(export-result (the-image) "{paths["result"]}")'
    if spec.get("drift"):
        verify_extra = ('(report-parasite (vector-ref (cadr (gimp-image-get-layers (the-image))) 0)) '
                        f'(export-result (the-image) "{paths["result"]}")')
    saved = os.path.join(root, "saved")
    os.makedirs(saved)
    paths["saved"] = saved
    scheme = PRELUDE + f"""
(define (setup) {spec['setup']} (gimp-image-clean-all (the-image))
  (export (the-image) "{paths['before']}") (export-selection (the-image) "{paths['selection']}"))
(define (act) {spec['act']})
(define (verify) (report-layers (the-image)) (export (the-image) "{paths['after']}") {verify_extra})
(define (secrets) (dump-secrets "{saved}"))
"""
    scheme_path = os.path.join(root, "case.scm")
    with open(scheme_path, "w") as f:
        f.write(scheme)
    canceller = None
    if spec.get("cancel"):
        canceller = interrupt_when_waiting(emulator, home)
    log, seconds = run_gimp(root, home, env, scheme_path, ["setup", "act", "verify", "secrets"],
                            keyring=keyring)
    if canceller:
        canceller.join()
        check(canceller.interrupted, "the plug-in was never seen waiting")
    lines = e2e_lines(log)
    check("API_KEY" not in log, "an API key variable appears in GIMP's output")
    check(os.listdir(saved), "GIMP saved no image as XCF (the parasites and files were not searched)")
    requests = emulator.requests()
    check_auth(spec, requests)
    measured = verify(name, spec, log, lines, requests, paths)
    if spec.get("compare_gegl"):
        measured = (measured or "") + compare_with_gegl(root, home, env, spec, paths)
    timings = (f"\n# {measured}" if measured else "") + "".join(f"\n# {l}" for l in log.splitlines() if l.startswith("imagegen-timing:"))
    return f"({seconds:.1f} s in GIMP, {len(requests)} request(s), no key outside the auth header){timings}"


def compare_with_gegl(root, home, env, spec, paths):
    """The same case again with every pixel through GEGL (IMAGEGEN_PIXELS=gegl): the image after
    the edit and the result layer must be byte for byte those of the run that moved 8-bit pixels
    through libgimp's tile API without GEGL."""
    again = {k: os.path.join(root, f"{k}-gegl.pnm") for k in ("after", "result")}
    scheme = PRELUDE + f"""
(define (setup) {spec['setup']})
(define (act) {spec['act']})
(define (verify) (export (the-image) "{again['after']}") (export-result (the-image) "{again['result']}"))
"""
    scheme_path = os.path.join(root, "case-gegl.scm")
    with open(scheme_path, "w") as f:
        f.write(scheme)
    run_gimp(root, home, dict(env, IMAGEGEN_PIXELS="gegl"), scheme_path, ["setup", "act", "verify"])
    for k in ("after", "result"):
        with open(paths[k], "rb") as a, open(again[k], "rb") as b:
            check(a.read() == b.read(), f"the {k} image differs between the tile API and GEGL")
    return " bit-identical through GEGL"


def check_auth(spec, requests):
    """The key reached the emulator, in its auth header: every request carried one, and (the
    emulator refusing any other key with 401) the right key was accepted. Without this a case
    could pass the search for the key by sending none."""
    for i, r in enumerate(requests):
        check(r["auth_present"], f"request {i + 1} reached the emulator without an auth header")
    if "key" not in spec:
        refused = [i + 1 for i, r in enumerate(requests) if r["status"] == 401]
        check(not refused, f"the emulator refused the key of request(s) {refused} (HTTP 401): "
                           "the key did not arrive in the auth header")
    else:
        check(requests and all(r["status"] == 401 for r in requests),
              "the wrong key was not sent, or not refused")


KNOWN_FILES = {"gimp.out": "GIMP's stdout", "gimp.err": "GIMP's stderr (Script-Fu messages and errors)",
               "emulator.out": "the emulator's stdout", "emulator.err": "the emulator's stderr"}


def key_leaks(root, seen):
    """Where any of the keys appears: the texts in `seen`, and every regular file under the
    case's folder (GIMP's and the emulator's output, the whole GIMP home with connections.ini,
    pluginrc, sessionrc and parasiterc, temporary files, the images saved as XCF, the exports)."""
    markers = [m.encode() for m in MARKERS]
    found = []

    def where(data, place):
        for m in markers:
            at = data.find(m)
            if at >= 0:
                line_start = data.rfind(b"\n", 0, at) + 1
                line_end = data.find(b"\n", at)
                line = data[line_start:line_end if line_end >= 0 else len(data)][:300]
                for mm in markers:
                    line = line.replace(mm, b"<KEY>")
                if b"E2E parasite-data " in line:
                    place = f"a parasite (as Script-Fu printed it to {place})"
                if b"\0" in line:  # a binary file: where, not what
                    found.append(f"{place}, at byte {at}")
                else:
                    found.append(f"{place}: {line.decode('utf-8', 'replace').strip()!r}")
                return

    for place, text in seen.items():
        where(text.encode("utf-8", "replace"), place)
    for folder, _dirs, files in os.walk(root):
        for f in files:
            path = os.path.join(folder, f)
            if not os.path.isfile(path) or os.path.islink(path):
                continue  # sockets of the private bus and keyring
            rel = os.path.relpath(path, root)
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError as e:
                found.append(f"{rel} could not be read: {e}")
                continue
            if rel.startswith("saved" + os.sep):
                place = f"the saved image {rel} (with its parasites)"
            else:
                place = KNOWN_FILES.get(rel, rel)
            where(data, place)
    return found


def verify(name, spec, log, lines, requests, paths):
    before, after, sel = Pnm(paths["before"]), Pnm(paths["after"]), Pnm(paths["selection"])
    layers = parse_layers(lines)
    gray = spec.get("gray", False)
    expect = spec["expect"]
    if expect == "error":
        marker = "Procedure execution of plug-in-imagegen-"
        failed = [l for l in log.splitlines() if marker in l]
        check(failed, "the procedure did not fail")
        check(spec["message"] in failed[0], f"the error reads {failed[0]!r}, expected {spec['message']!r}")
        check(before.raw == after.raw, "the image's pixels changed")
        check(not any(l.startswith("returned") for l in lines), "the procedure returned layers")
        top = [l for l in layers if l["depth"] == 0]
        base_layers = 2 if name in ("fail-layer-group", "fail-reference-group") else 1
        check(len(top) == base_layers, f"{len(top)} layers after a failure")
        check("dirty 0" in lines, "a failed run left undo steps (the image is dirty)")
        if "sent" in spec:
            check(len(requests) == spec["sent"], f"{len(requests)} requests sent, expected {spec['sent']}")
        if "attempts" in spec:
            check(len(requests) == spec["attempts"], f"{len(requests)} attempts, expected {spec['attempts']}")
        if "also_says" in spec:
            check(spec["also_says"] in log, f"GIMP was not told {spec['also_says']!r}")
        if "images" in spec:
            # every image GIMP holds is saved as XCF by the secrets step
            saved = os.listdir(paths["saved"])
            check(len(saved) == spec["images"], f"{len(saved)} images after the failure: {saved}")
        # the plug-in's own refusal is reported as a calling error of its procedure; one of
        # GIMP's procedures (gimp-layer-new on image -1, say) would mean it called GIMP wrongly
        check("Calling error for procedure 'gimp-" not in log, "the plug-in called GIMP wrongly")
        return

    if spec.get("max_peak_mb"):
        peaks = [int(l.split()[-1]) for l in log.splitlines() if l.startswith("imagegen-timing: peak-rss-kb")]
        check(peaks, "the plug-in printed no peak memory")
        check(max(peaks) < spec["max_peak_mb"] * 1024,
              f"the plug-in's peak memory was {max(peaks) // 1024} MB, over {spec['max_peak_mb']} MB")
    returned = [l for l in lines if l.startswith("returned")]
    if expect == "echo":
        return verify_echo(log, lines, returned, requests)
    colour = prompt_colour(spec["prompt"])
    if expect == "cancel":
        check(returned == ["returned nothing (cancelled)"], f"a cancelled run returned {returned}")
        check(before.raw == after.raw, "the image's pixels changed")
        check(len(layers) == 1, f"{len(layers)} layers after a cancel")
        check("dirty 0" in lines, "a cancelled run left undo steps")
        check(len(requests) == 1, "the request never reached the emulator")
        return
    if expect == "new-image":
        info = [l for l in lines if l.startswith("new image")]
        check(info and "w=1536 h=1024" in info[0], f"new image: {info}")
        first_report = parse_layers(lines[:lines.index(next(l for l in lines if l.startswith("dirty")))])
        check(len([l for l in first_report if l["depth"] == 1]) == 2, "the new image has not two layers in a group")
        check(before.raw == after.raw, "the image it was called from changed")
        check(len(requests) == 1 and requests[0]["fields"]["n"] == "2", "one request for n=2")
        return
    if expect == "expand":
        return verify_expand(spec, lines, layers, returned, requests, before, after, colour)
    check(returned, "the procedure returned nothing")
    n = spec.get("n", 1)
    ids = [int(i) for i in returned[-1].split(" ids ")[1].split()]
    check(len(ids) == n and int(returned[-1].split()[1]) == n, f"returned {returned[-1]}, expected {n} layers")
    results = [l for l in layers if l["id"] in ids]
    check(len(results) == n, "the returned layers are not in the image")
    for i, l in enumerate(results):
        check(l["visible"] == (1 if i == 0 else 0), f"result {i} visible={l['visible']}")
        check(l["parasite"] == 1, "a result layer carries no parasite")
    if n > 1:
        groups = [l for l in layers if l["group"] == 1]
        check(len(groups) == 1 and all(l["depth"] == 1 for l in results), "the results are not in one group")
    if spec.get("dalle"):
        check(len(requests) == 3, f"dall-e-3 n=3 sent {len(requests)} requests")
        check(all("n" not in r["fields"] for r in requests), "a dall-e-3 request carried n")
        # In parallel: every request had reached the emulator before it wrote any answer (each
        # is held 1.5 s), so none waited for another's answer.
        check(all(r["answered_at_us"] > 0 for r in requests), "a dall-e-3 request was not answered")
        first_answer = min(r["answered_at_us"] for r in requests)
        check(all(r["received_at_us"] < first_answer for r in requests),
              "a dall-e-3 request was sent only after another's answer came")
    elif spec.get("retried"):
        check([r["status"] for r in requests] == [429, 200], f"statuses {[r['status'] for r in requests]}")
    elif spec.get("last_values"):
        check(len(requests) == 2 and requests[1]["fields"]["prompt"] == "first prompt", "last values not repeated")
        check(len([l for l in layers if l["mask"] > 0]) == 2, "two runs did not make two layers")
    else:
        check(len(requests) == 1, f"{len(requests)} requests")
    req = requests[-1]
    if expect == "edit":
        image = req["images"][0]
        result = results[0]
        check(result["mask"] > 0, "the result layer has no layer mask")
        check(f"{image['width']}x{image['height']}" == req["fields"]["size"], "the image is not at the API size")
        if spec.get("upload"):
            # what went on the wire: the emulator checked the bytes are of the type the part says
            check(image["content_type"] == spec["upload"],
                  f"the image went up as {image['content_type']}, expected {spec['upload']}")
            check(req["mask"] is None or req["mask"]["content_type"] == "image/png", "the mask is not PNG")
        if spec.get("no_selection"):
            check(req["mask"] is None, "a mask was sent without a selection")
        else:
            check(req["mask"] and req["mask"]["width"] == image["width"], "the mask does not match the image")
        if spec.get("result_size"):
            check((result["w"], result["h"]) == spec["result_size"],
                  f"the result layer is {result['w']}x{result['h']}, expected {spec['result_size']}")
        if spec.get("large"):
            check(result["w"] * result["h"] < 800 * 600, f"the region sent is {result['w']}x{result['h']}")
            check(image["bytes"] < 4_000_000, "the upload is larger than the region needs")
        if spec.get("streamed"):
            check(req["fields"].get("stream") == "true" and req["fields"].get("partial_images") == "2",
                  f"not a streamed request: {req['fields']}")
        if spec.get("references"):
            check([i["part"] for i in req["images"]] == ["image[]", "image[]"], "the reference is not an image[]")
            check(req["images"][1]["width"] == 64, "the reference is not the reference layer")
        if spec.get("outpainting"):
            # the transparent border joins the edit area: alpha 0 in the mask over it, and filled
            check(req["mask"]["has_alpha"], "mask without alpha")
        scale = max(1.0, result["w"] / image["width"])
        margin = int(spec.get("feather", 0) + 3 + 3 * scale)
        if spec.get("drift"):
            return verify_drift(spec, lines, result, before, after, sel, colour, margin, paths)
        if spec.get("no_selection"):
            # the whole layer is repainted
            px = after.pixel(after.width // 2, after.height // 2)
            check(max(abs(a - b) for a, b in zip(px, colour)) <= 2.5, f"centre pixel {px}, expected {colour}")
        else:
            compare_outside_and_inside(before, after, sel, colour, margin, gray)
    elif expect == "generate":
        if spec.get("no_selection"):
            check(results[0]["x"] == 0 and results[0]["w"] == before.width, "the result does not cover the canvas")
        else:
            check((results[0]["x"], results[0]["y"], results[0]["w"], results[0]["h"]) == (100, 80, 120, 90),
                  f"the result is not over the selection: {results[0]}")
            check(results[0]["mask"] > 0, "a generated layer over a selection has no mask")
            # outside the selection nothing changes
            cov = sel.coverage_rows()
            for y in range(after.height):
                if not any(cov[y]):
                    check(before.row(y) == after.row(y), f"row {y} outside the selection changed")


def verify_echo(log, lines, returned, requests):
    """The echoing answers arrived and were kept, redacted: three results with their parasites
    (the echo in their revised prompts, redacted), the stream's error event and the last call's
    error reported with the echo redacted. key_leaks then finds no marker anywhere."""
    check(len(requests) == 5, f"{len(requests)} requests, expected 5")
    check(len(returned) == 3, f"{len(returned)} calls returned layers, expected 3: {returned}")
    kept = [l for l in lines if l.startswith("parasite-data ") and "imagegen-result" in l]
    check(len(kept) == 3, f"{len(kept)} result parasites, expected 3")
    for l in kept:
        check("revised_prompt" in l and "You sent Bearer [redacted]; also Bearer [redacted]" in l
              and "azure [redacted] token [redacted]" in l,
              f"a result's parasite does not hold the echo, redacted: {l[:300]!r}")
    check("stream error caught" in lines, "the stream's error event did not fail its call")
    failed = [l for l in log.splitlines() if "Procedure execution of plug-in-imagegen-edit" in l]
    check(failed and "Incorrect API key provided. You sent Bearer [redacted]" in failed[-1],
          f"the last call's error does not say the echo, redacted: {failed[-1:]!r}")
    check("\x1b" not in log, "an escape character reached GIMP's output")


def verify_expand(spec, lines, layers, returned, requests, before, after, colour, tolerance=4.5):
    """The canvas grown by the margins; the original bit-identical at (left, top); every border
    pixel the prompt's colour; one layer over the new canvas, masked; one request per tile. The
    tolerance: a later tile cross-fades into an earlier one with its redraw of it, which the
    emulator moves by up to 4 levels."""
    times = spec.get("times", 1)
    left, top, right, bottom = (m * times for m in spec["margins"])
    width, height = before.width + left + right, before.height + top + bottom
    check((after.width, after.height) == (width, height),
          f"the canvas is {after.width}x{after.height}, expected {width}x{height}")
    step = before.channels * before.bytes_per_sample
    for y in range(before.height):
        row = after.row(y + top)[left * step:(left + before.width) * step]
        check(row == before.row(y), f"row {y} of the original changed")
    worst = 0.0
    for y in range(height):
        inside_rows = top <= y < top + before.height
        for x in range(width):
            if inside_rows and left <= x < left + before.width:
                continue
            worst = max(worst, max(abs(g - e) for g, e in zip(after.pixel(x, y), colour)))
    check(worst <= tolerance, f"a border pixel is {worst:.1f} levels from the prompt's colour {colour}")
    check(returned and returned[-1].startswith("returned 1 "), f"returned {returned}")
    ids = [int(i) for i in returned[-1].split(" ids ")[1].split()]
    result = [l for l in layers if l["id"] in ids]
    check(len(result) == 1 and (result[0]["x"], result[0]["y"], result[0]["w"], result[0]["h"]) ==
          (0, 0, width, height), f"the result layer is {result}")
    check(result[0]["mask"] > 0 and result[0]["parasite"] == 1, "the result has no mask or no parasite")
    check(len(layers) == 1 + times, f"{len(layers)} layers, expected the original and {times} result(s)")
    check(len(returned) == times, f"{len(returned)} calls returned, expected {times}")
    check(len(requests) == spec["tiles"], f"{len(requests)} requests, expected {spec['tiles']} tiles")
    for r in requests:
        image = r["images"][0]
        check(f"{image['width']}x{image['height']}" == r["fields"]["size"], "a tile is not at the API size")
        check(r["mask"] and r["mask"]["has_alpha"], "a tile was sent without its mask")
    screenshots = os.environ.get("IMAGEGEN_E2E_SCREENSHOTS")
    if screenshots:
        write_png(before, os.path.join(screenshots, f"{spec['name']}-before.png"))
        write_png(after, os.path.join(screenshots, f"{spec['name']}-after.png"))
    return f"{len(requests)} tile(s), border within {worst:.1f} levels of the prompt's colour"


def write_png(pnm, path):
    """An 8-bit PNM as PNG, for the README's screenshots."""
    import struct
    import zlib
    colour_type = 2 if pnm.channels == 3 else 0
    raw = b"".join(b"\0" + pnm.row(y) for y in range(pnm.height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", pnm.width, pnm.height, 8, colour_type, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def drifted(fault, channel, v):
    """What the emulator's drift fault makes of an 8-bit level (as faults.cpp computes it)."""
    out = v * fault.get("gain", [1, 1, 1])[channel] + fault.get("offset", [0, 0, 0])[channel]
    if fault.get("curve") == "wave":
        out += 24.0 * math.sin(2.0 * math.pi * v / 64.0)
    return float(min(255, max(0, math.floor(out + 0.5))))


def drifted_pixel(fault, px, gray):
    """A pixel of the image (0..255 floats) as the drifting model draws it; a grayscale image is
    sent as R'G'B' and the colour answer comes back through babl's RGB to Y."""
    levels = [round(px[0])] * 3 if gray else [round(v) for v in px]
    out = [drifted(fault, c, v) for c, v in enumerate(levels)]
    return as_gray(out) if gray else out


def edge_ring(sel, result, inner=3, outer=8):
    """Pixels of the result layer's bounds outside the selection, `inner` to `outer` pixels from
    its bounding box (the drift cases select a rectangle): the context next to the edge."""
    cov = sel.coverage_rows()
    rows = [y for y in range(sel.height) if any(cov[y])]
    cols = [x for x in range(sel.width) if any(cov[y][x] for y in rows)]
    x0, x1, y0, y1 = cols[0], cols[-1], rows[0], rows[-1]
    ring = []
    for y in range(max(result["y"], 0), min(result["y"] + result["h"], sel.height)):
        for x in range(max(result["x"], 0), min(result["x"] + result["w"], sel.width)):
            d = max(x0 - x, x - x1, y0 - y, y - y1)
            if inner <= d <= outer and cov[y][x] == 0:
                ring.append((x, y))
    check(len(ring) > 100, f"only {len(ring)} pixels next to the selection's edge")
    return ring


def verify_drift(spec, lines, result, before, after, sel, colour, margin, paths):
    """A drifting model: the parasite's colour match, the result layer's own pixels next to the
    selection's edge against the source, and the fill against the prompt's colour."""
    fault, outcome = spec["drift"]["fault"], spec["drift"]["outcome"]
    gray = spec.get("gray", False)
    parasites = [l[len("parasite "):] for l in lines if l.startswith("parasite {")]
    check(parasites, "the result's parasite was not reported")
    parasite = json.loads(parasites[-1])
    match = parasite.get("color_match", {})
    check(match.get("outcome") == outcome, f"colour match {match}, expected {outcome}")
    check(parasite.get("upscale_factor", 0) > 0, f"no upscale factor in {parasite}")
    if outcome == "applied":
        for c in range(3):
            check(abs(match["gain"][c] - fault["gain"][c]) < 0.01 and abs(match["offset"][c] - fault["offset"][c]) < 1.5,
                  f"the fit {match} is not the emulator's drift {fault}")
    if outcome == "declined":
        check("poor fit" in match.get("reason", ""), f"the parasite does not say why: {match}")
    layer = Pnm(paths["result"])
    ring = edge_ring(sel, result)
    to_source = max(abs(a - b) for x, y in ring for a, b in zip(layer.pixel(x, y), before.pixel(x, y)))
    to_drift = max(abs(a - b) for x, y in ring
                   for a, b in zip(layer.pixel(x, y), drifted_pixel(fault, before.pixel(x, y), gray)))
    if outcome == "applied":
        check(to_source <= 2, f"next to the edge the result is {to_source:.1f} levels from the source")
        fill = colour
    else:
        check(to_source >= 5, f"next to the edge the result is only {to_source:.1f} levels from the source")
        check(to_drift <= 3, f"next to the edge the result is {to_drift:.1f} levels from the drifted source")
        fill = [drifted(fault, c, v) for c, v in enumerate(colour)]
    compare_outside_and_inside(before, after, sel, fill, margin, gray, tolerance=2.0)
    inside = compare_outside_and_inside.worst_inside
    return (f"colour match {outcome}: next to the edge {to_source:.2f} levels from the source at most, "
            f"{to_drift:.2f} from the drifted source; the fill {inside:.2f} from {'the prompt colour' if outcome == 'applied' else 'its drifted colour'}")


def main(cases=None, run=None):
    """--list, or one case: this suite's, or another's (tests/e2e3) with its cases and runner."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--build")
    parser.add_argument("--source")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("case", nargs="?")
    args = parser.parse_args()
    if args.list:
        print("\n".join(cases if cases is not None else CASES))
        return 0
    return (run or run_case)(args.case, os.path.abspath(args.build), os.path.abspath(args.source))


if __name__ == "__main__":
    sys.exit(main())
