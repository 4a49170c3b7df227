#!/usr/bin/env python3
"""Fail on an upward import in the Rust core (crates/sagepipe-core/src).

The core is layered: each top-level module belongs to one layer (LAYERS, lowest first) and may
use modules of its own layer or of lower layers only. Every `crate::x` path and every `super::`
path that climbs to the crate root and names a top-level module `x` is checked, in code and in
tests alike (comments and string literals are ignored). A module missing from the map is an
error too, so a new module gets a place before it gets imports.

Usage: python scripts/check_layers.py [SRC_DIR]   (default: crates/sagepipe-core/src)
Prints every violation as `file:line: ...` and exits 1 if there is any.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# Lowest first. What each layer owns is described in docs/architecture.md.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("floor", ("error", "util", "duration", "proc")),
    ("store", ("store", "sandbox")),
    ("definition", ("definition", "dag", "expr", "params", "validate", "function_args")),
    ("selection", ("selection", "signature")),
    ("executors", ("executors",)),
    ("engine", ("engine",)),
]

LAYER_OF: dict[str, int] = {module: rank for rank, (_, modules) in enumerate(LAYERS) for module in modules}

DEFAULT_SRC = Path(__file__).resolve().parent.parent / "crates" / "sagepipe-core" / "src"

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
# `crate::` (also `$crate::` in macros) or a run of `super::`, then a name, a `{...}` group (read
# separately) or a glob `*`; whitespace and line breaks may sit around each `::`.
PATH_START = re.compile(rf"(?<![A-Za-z0-9_:])(crate|(?:super\s*::\s*)*super)\s*::\s*(\{{|\*|{IDENT})")
# A name for the crate root (`use crate as root;`, `use crate::{self as root}`): paths through it
# could not be checked, so the alias itself is refused.
ROOT_ALIAS = re.compile(r"(?<![A-Za-z0-9_:])crate\s+as\s+[A-Za-z_]")
SELF_ALIAS = re.compile(r"\bself\s+as\b")
INLINE_MOD = re.compile(rf"\bmod\s+({IDENT})\s*\{{")
RAW_STRING = re.compile(r'b?r(#*)"')
# A char literal ('x', '\n', '\u{..}'), not a lifetime ('a).
CHAR_LITERAL = re.compile(r"'(\\(u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'])'")


def blank_comments_and_literals(text: str) -> str:
    """`text` with comments, string and char literals replaced by spaces (newlines kept), so
    that what is left is code and positions keep their line numbers."""
    out = list(text)
    i, n = 0, len(text)

    def blank(start: int, end: int) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            blank(i, end)
            i = end
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif (raw := RAW_STRING.match(text, i)) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            closing = '"' + raw.group(1)
            end = text.find(closing, raw.end())
            end = n if end == -1 else end + len(closing)
            blank(i, end)
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            blank(i, j + 1)
            i = j + 1
        elif c == "'":
            m = CHAR_LITERAL.match(text, i)
            if m:
                blank(i, m.end())
                i = m.end()
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def file_module(src: Path, path: Path) -> list[str]:
    """The module path of a source file: `store/records.rs` is ["store", "records"]."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts.pop()
    return parts


def module_at(code: str, base: list[str]) -> list[tuple[int, list[str]]]:
    """(position, module path) where each inline `mod x { ... }` starts and ends."""
    marks: list[tuple[int, list[str]]] = [(0, base)]
    stack: list[tuple[int, list[str]]] = []  # (brace depth at which the module closes, path)
    depth, current = 0, base
    starts = {m.end() - 1: m.group(1) for m in INLINE_MOD.finditer(code)}
    for i, c in enumerate(code):
        if c == "{":
            if i in starts:
                stack.append((depth, current))
                current = current + [starts[i]]
                marks.append((i, current))
            depth += 1
        elif c == "}":
            depth -= 1
            if stack and stack[-1][0] == depth:
                _, current = stack.pop()
                marks.append((i, current))
    return marks


def group_text(code: str, brace: int) -> str:
    """The text of the `{...}` group opening at `brace`, without its outer braces."""
    depth = 0
    for i in range(brace, len(code)):
        if code[i] == "{":
            depth += 1
        elif code[i] == "}":
            depth -= 1
            if depth == 0:
                return code[brace + 1 : i]
    return code[brace + 1 :]


def group_names(code: str, brace: int) -> list[str]:
    """The first name of each item of the `{...}` group opening at `brace`."""
    depth, items, item = 0, [], []
    for c in code[brace + 1 :]:
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                break
            depth -= 1
        if depth == 0 and c == ",":
            items.append("".join(item))
            item = []
        else:
            item.append(c)
    items.append("".join(item))
    return [m.group(1) for it in items if (m := re.match(rf"\s*({IDENT})", it))]


def violations(src: Path) -> list[str]:
    found = []
    for path in sorted(src.rglob("*.rs")):
        base = file_module(src, path)
        code = blank_comments_and_literals(path.read_text(encoding="utf-8"))
        if base and base[0] not in LAYER_OF:
            found.append(f"{path}:1: module '{base[0]}' is in no layer: add it to LAYERS in {Path(__file__).name}")
            continue
        marks = module_at(code, base)
        for alias in ROOT_ALIAS.finditer(code):
            line = code.count("\n", 0, alias.start()) + 1
            found.append(
                f"{path}:{line}: '{base[0] if base else 'lib'}' renames the crate root; use paths through `crate::`"
            )
        for m in PATH_START.finditer(code):
            head, first = m.group(1), m.group(2)
            module = next(mod for pos, mod in reversed(marks) if pos <= m.start())
            if head == "crate":
                at_root = True
            else:
                supers = head.count("super")
                at_root = supers >= len(module)
            if not at_root:
                continue  # a path inside the current top-level module
            line = code.count("\n", 0, m.start()) + 1
            if base and first == "*":
                # A glob of the crate root puts every top-level module in scope unchecked.
                found.append(f"{path}:{line}: '{base[0]}' imports the crate root with a glob; name what it uses")
                continue
            if base and first == "{" and SELF_ALIAS.search(group_text(code, m.end() - 1)):
                found.append(f"{path}:{line}: '{base[0]}' renames the crate root; use paths through `crate::`")
            names = group_names(code, m.end() - 1) if first == "{" else [first]
            for name in names:
                if name in ("self", "super", "crate") or not base:
                    continue
                rule = check(base[0], name)
                if rule:
                    found.append(f"{path}:{line}: {rule}")
    return found


def check(user: str, used: str) -> str | None:
    """Why `user` may not use `used`, or None if it may."""
    if used == user:
        return None
    if used not in LAYER_OF:
        return None  # not a top-level module (a macro or an item of lib.rs)
    if LAYER_OF[used] > LAYER_OF[user]:
        lu, ld = LAYERS[LAYER_OF[user]][0], LAYERS[LAYER_OF[used]][0]
        return (
            f"'{user}' (layer {LAYER_OF[user]}: {lu}) uses '{used}' (layer {LAYER_OF[used]}: {ld}): "
            "a layer may use only its own layer and those below it"
        )
    return None


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else DEFAULT_SRC
    if not src.is_dir():
        print(f"{src}: no such directory", file=sys.stderr)
        return 2
    found = violations(src)
    for v in found:
        print(v)
    if found:
        print(f"{len(found)} upward import(s) in {src}", file=sys.stderr)
        return 1
    print(f"layers ok: {sum(1 for _ in src.rglob('*.rs'))} files in {src}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
