"""Checks that a program's output is JSON that validates against a schema of the `json:`
subset (docs/language.md §8.1), with python3's json module and a small validator.

usage: check_json_schema.py SOURCE INDEX OUTPUT
  SOURCE: the .agent file; its INDEX-th (0-based) `json: "…"` literal is the schema.
  OUTPUT: the file holding the program's output (one JSON value, then a newline).
Prints `ok: <value>` and exits 0, or prints why and exits 1.
"""

import json
import re
import sys


def schemas(source):
    """The `json:` text literals of an .agent file, unescaped (\\" and \\\\ as JSON does)."""
    return [json.loads('"' + lit + '"') for lit in re.findall(r'json: "((?:[^"\\]|\\.)*)"', source)]


def validate(value, schema, at="$"):
    """Raises ValueError naming where `value` does not match `schema`."""
    def fail(why):
        raise ValueError(f"{at}: {why}: {value!r}")

    if "enum" in schema:
        if value not in schema["enum"]:
            fail(f"not one of {schema['enum']}")
        return
    ty = schema["type"]
    if ty == "object":
        if not isinstance(value, dict):
            fail("not an object")
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                fail(f"required property {name!r} is missing")
        for name, item in value.items():
            if name not in props:
                if schema.get("additionalProperties", True) is False:
                    fail(f"property {name!r} is not allowed")
                continue
            validate(item, props[name], f"{at}.{name}")
    elif ty == "array":
        if not isinstance(value, list):
            fail("not a list")
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            fail("item count out of range")
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{at}[{i}]")
    elif ty == "string":
        if not isinstance(value, str):
            fail("not a string")
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 256):
            fail("length out of range")
    elif ty == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            fail("not an integer")
    elif ty == "number":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            fail("not a number")
    elif ty == "boolean":
        if not isinstance(value, bool):
            fail("not a boolean")
    elif ty == "null":
        if value is not None:
            fail("not null")
    else:
        fail(f"unknown type {ty!r}")


def main():
    source, index, output = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(source, encoding="utf-8") as f:
        schema = json.loads(schemas(f.read())[index])
    with open(output, encoding="utf-8") as f:
        text = f.read()
    if not text.endswith("\n"):
        print(f"the output does not end with a newline: {text!r}")
        return 1
    try:
        value = json.loads(text[:-1])
        validate(value, schema)
    except ValueError as e:
        print(f"invalid: {e}; the output: {text!r}")
        return 1
    print("ok:", json.dumps(value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
