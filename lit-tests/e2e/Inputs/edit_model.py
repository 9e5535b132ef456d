"""Copies a model folder and edits the copy, to test that executables and the compiler
refuse model folders that do not match what they were compiled for.

    edit_model.py SRC DST [EDIT...]

DST is replaced. Edits, applied in order:
    set:KEY=JSON         config.json: KEY = the JSON value
    del:KEY              config.json: remove KEY
    rows:TENSOR=N        model.safetensors: TENSOR gets N rows (its first dimension),
                         a header-consistent file (data cut or padded with zeros)
    dtype:TENSOR=DTYPE   model.safetensors: TENSOR is stored as DTYPE (I8, F16, ...),
                         header-consistent, data zeroed
    index:TENSOR=FILE    model.safetensors.index.json: TENSOR is in shard FILE
    added:TEXT=ID        tokenizer.json: an added token TEXT with id ID
    fifo:FILE            FILE becomes a FIFO (mkfifo)
    rm:FILE              FILE is removed
    write:FILE=TEXT      FILE holds TEXT
"""

import json
import os
import shutil
import struct
import sys


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    return header, data[8 + n :]


def write_safetensors(path, header, tensors):
    """tensors: name -> bytes; header entries get fresh data_offsets in name order."""
    out = {}
    if "__metadata__" in header:
        out["__metadata__"] = header["__metadata__"]
    blob = b""
    for name in sorted(tensors):
        entry = dict(header[name])
        entry["data_offsets"] = [len(blob), len(blob) + len(tensors[name])]
        out[name] = entry
        blob += tensors[name]
    text = json.dumps(out).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob)


def set_rows(folder, tensor, rows):
    path = os.path.join(folder, "model.safetensors")
    header, blob = read_safetensors(path)
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        tensors[name] = blob[begin:end]
    entry = header[tensor]
    row_bytes = 4
    for d in entry["shape"][1:]:
        row_bytes *= d
    data = tensors[tensor][: rows * row_bytes]
    tensors[tensor] = data + b"\0" * (rows * row_bytes - len(data))
    entry["shape"] = [rows] + entry["shape"][1:]
    write_safetensors(path, header, tensors)


DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1}


def set_dtype(folder, tensor, dtype):
    path = os.path.join(folder, "model.safetensors")
    header, blob = read_safetensors(path)
    tensors = {}
    for name, entry in header.items():
        if name != "__metadata__":
            begin, end = entry["data_offsets"]
            tensors[name] = blob[begin:end]
    elements = 1
    for d in header[tensor]["shape"]:
        elements *= d
    header[tensor]["dtype"] = dtype
    tensors[tensor] = b"\0" * (elements * DTYPE_BYTES[dtype])
    write_safetensors(path, header, tensors)


def edit_json(path, change):
    with open(path) as f:
        value = json.load(f)
    change(value)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)


def main():
    src, dst, edits = sys.argv[1], sys.argv[2], sys.argv[3:]
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    config = os.path.join(dst, "config.json")
    for edit in edits:
        kind, _, arg = edit.partition(":")
        if kind == "set":
            key, _, value = arg.partition("=")
            edit_json(config, lambda c: c.__setitem__(key, json.loads(value)))
        elif kind == "del":
            edit_json(config, lambda c: c.pop(arg, None))
        elif kind == "rows":
            tensor, _, rows = arg.partition("=")
            set_rows(dst, tensor, int(rows))
        elif kind == "dtype":
            tensor, _, dtype = arg.partition("=")
            set_dtype(dst, tensor, dtype)
        elif kind == "index":
            tensor, _, shard = arg.partition("=")
            index = os.path.join(dst, "model.safetensors.index.json")
            edit_json(index, lambda i: i["weight_map"].__setitem__(tensor, shard))
        elif kind == "added":
            text, _, ident = arg.rpartition("=")
            token = {"id": int(ident), "content": text, "single_word": False, "lstrip": False,
                     "rstrip": False, "normalized": False, "special": False}
            edit_json(os.path.join(dst, "tokenizer.json"), lambda t: t["added_tokens"].append(token))
        elif kind == "fifo":
            os.remove(os.path.join(dst, arg))
            os.mkfifo(os.path.join(dst, arg))
        elif kind == "rm":
            os.remove(os.path.join(dst, arg))
        elif kind == "write":
            name, _, text = arg.partition("=")
            with open(os.path.join(dst, name), "w") as f:
                f.write(text)
        else:
            sys.exit(f"unknown edit {edit}")


if __name__ == "__main__":
    main()
