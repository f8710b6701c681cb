#!/usr/bin/env python3
"""tools/try-it as a user runs it, after setup (--no-setup: the plug-in is in a private GIMP home
already): a prompt with double quotes, a backslash and a non-ASCII letter reaches the model
byte for byte (the emulator paints the colour of the prompt's bytes, checked in the saved
result), and the result is named; a run that fails (a closed port) says so, exits non-zero,
removes an older result and names no file. Prints TAP.

    try_it.py --source SRC --build BUILD
"""
import argparse
import os
import socket
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2e  # noqa: E402
from check import checks_in_scratch, clean_env, run  # noqa: E402

PROMPT = 'a "quoted" kite \\ with ü'
RESULT = "imagegen-result.png"


def read_png(path):
    """Width, height, channels and rows of an 8-bit RGB or RGBA PNG, not interlaced (what
    file-png-save2 writes for a flattened 8-bit image)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, "an unexpected PNG format"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    channels = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(line)
        prev = line
    return width, height, channels, rows


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_try_it(tap, root, source, build):
    home = e2e.prepare_home(build, source, root)  # GIMP set up, the plug-in installed
    try_it = [os.path.join(source, "tools", "try-it"), "--no-setup", "--build", build]

    work = os.path.join(root, "ok")
    os.makedirs(work)
    status, out = run(try_it + [PROMPT], env=clean_env(home), cwd=work, timeout=300)
    result = os.path.join(work, RESULT)
    tap.ok(status == 0, "a prompt with quotes, a backslash and ü: try-it succeeds", out)
    tap.ok(f"imagegen: the edited image is {result}" in out, "it names the result", out)
    if tap.ok(os.path.isfile(result), "the result is written"):
        width, height, channels, rows = read_png(result)
        # The middle of the selected ellipse is the emulator's colour for the prompt's bytes,
        # within the colour match's few levels; the prompt with its quoting lost would
        # have another colour.
        got = list(rows[350][510 * channels:510 * channels + 3])
        want = e2e.prompt_colour(PROMPT)
        close = lambda c: max(abs(x - y) for x, y in zip(got, c)) <= 6  # noqa: E731
        wrong = ['a "quoted" kite \\\\ with ü', "a quoted kite  with ü", 'a "quoted" kite \\ with u']
        tap.ok((width, height) == (1024, 768) and close(want) and not any(close(e2e.prompt_colour(w)) for w in wrong),
               f"the model got the prompt as typed: the selection is {want}", f"got {got} in {width}x{height}")

    work = os.path.join(root, "failed")
    os.makedirs(work)
    stale = os.path.join(work, RESULT)
    with open(stale, "wb") as f:
        f.write(b"an older result")
    env = clean_env(home)
    env.update(OPENAI_BASE_URL=f"http://127.0.0.1:{closed_port()}/v1", OPENAI_API_KEY="sk-closed-port")
    status, out = run(try_it + ["a red kite"], env=env, cwd=work, timeout=300)
    tap.ok(status != 0, "a run against a closed port exits non-zero", out)
    tap.ok("failed" in out and RESULT not in out, "it says it failed and names no file", out)
    tap.ok(not os.path.exists(stale), "the older result is removed, so none is taken for this run's")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    source, build = os.path.abspath(a.source), os.path.abspath(a.build)
    return checks_in_scratch("imagegen-try-it-",
                             lambda tap, root: check_try_it(tap, root, source, build))


if __name__ == "__main__":
    sys.exit(main())
