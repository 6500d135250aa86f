#!/usr/bin/env python3
"""Checks the two structural rules ARCHITECTURE.md states, so they cannot silently rot.

1. Crate dependencies point the way the "Crate dependencies" block in ARCHITECTURE.md says:
   every `tonearm-*` dependency (normal or dev) of every crate must be listed there; one
   marked "(dev)" is allowed only as a dev-dependency.
2. No circular imports between modules: within each crate, sibling modules (children of the
   same parent) must not reach each other in a circle through `crate::`/`super::` paths.
   A child using its own ancestors is allowed (that is how Rust nests modules).

Exit status 1 with one line per violation; 0 when the house is in order.
"""
import pathlib
import re
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
errors = []


def allowed_edges():
    """`crate -> dep, dep` lines of the fenced block after the "Crate dependencies" heading."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    m = re.search(r"## Crate dependencies.*?```text\n(.*?)```", text, re.S)
    if not m:
        sys.exit("ARCHITECTURE.md has no ```text block under '## Crate dependencies'")
    edges = {}
    for line in m.group(1).splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        name, _, deps = line.partition("->")
        edges[name.strip()] = {d.strip() for d in deps.split(",") if d.strip()}
    # "dep (dev)": only as a dev-dependency (tests' material), never in the library itself.
    return edges


def check_crates():
    allowed = allowed_edges()
    for manifest in sorted((ROOT / "crates").glob("*/Cargo.toml")):
        data = tomllib.loads(manifest.read_text())
        name = data["package"]["name"]
        if name not in allowed:
            errors.append(f"{name}: not in ARCHITECTURE.md's crate dependencies")
            continue
        for section in ("dependencies", "dev-dependencies", "build-dependencies"):
            for dep in data.get(section, {}):
                ok = dep in allowed[name] or (
                    section == "dev-dependencies" and f"{dep} (dev)" in allowed[name]
                )
                if dep.startswith("tonearm") and not ok:
                    errors.append(f"{name} depends on {dep} ({section}), which ARCHITECTURE.md does not allow")


IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def module_of(src, path):
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def references(text):
    """Every path that starts with crate::, super:: or self:: (use lists expanded)."""
    text = re.sub(r"//[^\n]*", "", text)
    out = []
    for m in re.finditer(r"\b(crate|super|self)((?:::(?:super|" + IDENT + r"))*)::\{([^}]*)\}", text):
        head = [m.group(1)] + [p for p in m.group(2).split("::") if p]
        for item in m.group(3).split(","):
            item = item.strip()
            if item:
                out.append(head + [p for p in re.split(r"::", item.split(" as ")[0]) if p and p != "{"])
    for m in re.finditer(r"\b(crate|super|self)((?:::(?:super|" + IDENT + r"))+)", text):
        out.append([m.group(1)] + [p for p in m.group(2).split("::") if p])
    return out


def resolve(current, path, modules):
    """The deepest module a path names, from the module `current` (a tuple of names)."""
    if path[0] == "crate":
        base, rest = (), path[1:]
    elif path[0] == "self":
        base, rest = current, path[1:]
    else:  # super, for a file module and a mod.rs alike: the parent
        base, rest = current[:-1], path[1:]
    while rest and rest[0] == "super":
        base, rest = base[:-1], rest[1:]
    target = base
    for part in rest:
        if target + (part,) in modules:
            target = target + (part,)
        else:
            break
    return target


def check_cycles(crate_dir):
    src = crate_dir / "src"
    files = sorted(src.rglob("*.rs"))
    modules = {module_of(src, f) for f in files}
    edges = {}
    for f in files:
        cur = module_of(src, f)
        for path in references(f.read_text()):
            tgt = resolve(cur, path, modules)
            # The edge between the two siblings under their deepest common ancestor.
            common = 0
            while common < min(len(cur), len(tgt)) and cur[common] == tgt[common]:
                common += 1
            if common == len(cur) or common == len(tgt):
                continue  # an ancestor or a descendant: not a sibling import
            a, b = cur[: common + 1], tgt[: common + 1]
            edges.setdefault(a, set()).add(b)
    # Cycles: Tarjan's strongly connected components.
    index, low, stack, on, comps, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(comp)

    for v in list(edges):
        if v not in index:
            visit(v)
    for comp in comps:
        names = sorted("::".join(c) for c in comp)
        errors.append(f"{crate_dir.name}: modules import each other in a circle: {' <-> '.join(names)}")


sys.setrecursionlimit(10000)
check_crates()
for crate in sorted((ROOT / "crates").glob("*/")):
    if (crate / "src").is_dir():
        check_cycles(crate)
for e in errors:
    print(e)
if errors:
    sys.exit(1)
print("architecture: crate dependencies as documented, no circular module imports")
