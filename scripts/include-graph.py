#!/usr/bin/python3
"""The include graph between kioku's source folders, from their #include lines.

Usage: scripts/include-graph.py [--level layers|mm] [--dot] [--check] [--quiet]

  --level layers  nodes are the layers under src/ (base, abi, isa, hw, mm, kernel, front, cli)
  --level mm      nodes are the sub-folders of src/mm (vm, cache, swap, thp, ...; files directly
                  in src/mm are "mm") -- the default
  --quiet         print nothing but what --check finds wrong
  --dot           print the graph in Graphviz's dot language instead of text
  --check         exit 1 when the graph has a cycle, or an include that goes up the declared
                  order of the level (ORDER below), or a folder the order does not name; the
                  build runs this for both levels, so an upward include fails the build

Text output: one line per edge, "FROM -> TO  (N includes: file, file...)", then the cycles found
(each strongly connected component of more than one node, with the edges that close it).
"""
import argparse
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(TOP, "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')

# The layers, bottom first. A folder may include only folders of a lower rank (and itself).
# docs/architecture.md ("The layers of mm") says what each layer holds and why it sits where it does.
ORDER = {
    "layers": [["base"], ["abi", "isa"], ["hw"], ["mm"], ["kernel"], ["front"], ["cli"]],
    "mm": [
        ["phys", "pgtable"],
        ["swap"],  # the swap devices
        ["core"],  # MmCore: shared state and services; the LRU lists; the swap cache
        ["slab"],
        ["cache"],
        ["vm"],  # address spaces, faults, the reverse map; ports ThpOps and HugetlbOps
        ["compaction"],
        ["thp", "hugetlb"],
        ["reclaim"],
        ["mm"],  # the composition root: MemoryManager, the invariant checker, swapoff
    ],
}


def node_of(path, level):
    """The node a path under src/ belongs to, or None when outside the level's scope."""
    parts = path.split("/")
    if level == "layers":
        return parts[0] if len(parts) > 1 else None
    if parts[0] != "mm":
        return None
    return parts[1] if len(parts) > 2 else "mm"


def edges(level):
    found = {}
    for root, _, files in os.walk(SRC):
        for name in sorted(files):
            if not name.endswith((".h", ".cpp")):
                continue
            full = os.path.join(root, name)
            rel = os.path.relpath(full, SRC)
            source = node_of(rel, level)
            if source is None:
                continue
            with open(full, encoding="utf-8") as f:
                for line in f:
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = node_of(m.group(1), level)
                    if target is None or target == source:
                        continue
                    found.setdefault((source, target), []).append(rel)
    return found


def cycles(graph_edges):
    """Strongly connected components of more than one node (Tarjan)."""
    succ = {}
    for a, b in graph_edges:
        succ.setdefault(a, set()).add(b)
        succ.setdefault(b, set())
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(succ):
        if v not in index:
            visit(v)
    return out


def order_violations(graph_edges, level):
    """Edges that do not go down the declared order, and folders the order does not name."""
    rank = {name: i for i, group in enumerate(ORDER[level]) for name in group}
    out = []
    for (a, b), files in sorted(graph_edges.items()):
        if a not in rank or b not in rank:
            unknown = a if a not in rank else b
            out.append("%s -> %s: '%s' is not in the declared order" % (a, b, unknown))
        elif rank[b] >= rank[a]:
            out.append("%s -> %s goes up the declared order (%s)" % (a, b, ", ".join(sorted(set(files)))))
    return out


def main():
    parser = argparse.ArgumentParser(add_help=True)
    parser.add_argument("--level", choices=["layers", "mm"], default="mm")
    parser.add_argument("--dot", action="store_true")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    graph = edges(args.level)
    comps = cycles(graph)
    if args.quiet:
        for comp in comps:
            print("include cycle: {%s}" % ", ".join(comp), file=sys.stderr)
    elif args.dot:
        print("digraph includes {")
        in_cycle = {(a, b) for comp in comps for a in comp for b in comp}
        for (a, b), files in sorted(graph.items()):
            style = ' [color=red, label="%d"]' % len(files) if (a, b) in in_cycle else ' [label="%d"]' % len(files)
            print('  "%s" -> "%s"%s;' % (a, b, style))
        print("}")
    else:
        for (a, b), files in sorted(graph.items()):
            shown = ", ".join(sorted(set(files))[:4]) + (", ..." if len(set(files)) > 4 else "")
            print("%-8s -> %-10s (%d includes: %s)" % (a, b, len(files), shown))
        if comps:
            print("\ncycles:")
            for comp in comps:
                inner = ["%s->%s" % (a, b) for (a, b) in sorted(graph) if a in comp and b in comp]
                print("  {%s}: %s" % (", ".join(comp), " ".join(inner)))
        else:
            print("\nno cycles")
    bad = order_violations(graph, args.level)
    for line in bad:
        print("layer order: " + line, file=sys.stderr)
    return 1 if args.check and (comps or bad) else 0


if __name__ == "__main__":
    sys.exit(main())
