#!/bin/sh
# Runs a command with a private session bus and an unlocked gnome-keyring of its own, so that
# libsecret works headless and no real keyring is touched.
set -eu
export HOME="$(mktemp -d)"
export XDG_DATA_HOME="$HOME/.local/share" XDG_RUNTIME_DIR="$HOME/run"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
exec dbus-run-session -- sh -c '
  printf test | gnome-keyring-daemon --unlock --components=secrets --daemonize >/dev/null
  "$@"
  status=$?
  rm -rf "$HOME"
  exit $status' sh "$@"
