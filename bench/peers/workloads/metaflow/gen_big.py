"""Write gen/big<N>.py: a metaflow flow of N steps for W5. Metaflow cannot express the
arbitrary layered DAG of common.layered_dag (every join must close the split that opened it),
so this is the nearest shape it accepts with the same step count and the same 4-parent
joins: start, then blocks of a 4-way static split whose branches one join step closes, then
linear steps up to N, then end. `python gen/big<N>.py --no-pylint check` builds and validates
the graph (parse + lint); that is the W5 case."""

import os
import sys

n = int(sys.argv[1])
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen")
os.makedirs(out, exist_ok=True)
blocks = (n - 2) // 5
names_linear = [f"l{i}" for i in range(n - 2 - 5 * blocks)]
lines = ["from metaflow import FlowSpec, step", "", f"class Big{n}(FlowSpec):"]


def add(name, body, nxt, join=False):
    lines.extend(["    @step", f"    def {name}(self{', inputs' if join else ''}):"])
    lines.extend("        " + x for x in body)
    if nxt:
        lines.append(f"        self.next({', '.join('self.' + x for x in nxt)})")
    lines.append("")


seq = ["start"]
for b in range(blocks):
    seq.append([f"b{b}_{k}" for k in range(4)])
    seq.append(f"j{b}")
seq += names_linear + ["end"]
for i, item in enumerate(seq):
    nxt = seq[i + 1] if i + 1 < len(seq) else None
    nxt_names = nxt if isinstance(nxt, list) else ([nxt] if nxt else [])
    if isinstance(item, list):
        for br in item:
            add(br, ["self.x = 1"], nxt_names)
    else:
        join = i > 0 and isinstance(seq[i - 1], list)
        add(item, ["self.x = 0" if not join else "self.x = sum(i.x for i in inputs)"], nxt_names, join)
lines += ["if __name__ == '__main__':", f"    Big{n}()", ""]
total = sum(len(x) if isinstance(x, list) else 1 for x in seq)
assert total == n, total
path = os.path.join(out, f"big{n}.py")
with open(path, "w") as f:
    f.write("\n".join(lines))
print(path)
