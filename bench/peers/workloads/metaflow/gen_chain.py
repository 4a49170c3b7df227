"""Write gen/chain<N>.py: a metaflow flow of N linear steps (start, s1..s<N-2>,
end), each adding 1 to an artifact. Metaflow reads a flow's graph from the
class source, so an N-step chain has to be generated as source."""

import os
import sys

n = int(sys.argv[1])
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen")
os.makedirs(out, exist_ok=True)
names = ["start"] + [f"s{i}" for i in range(1, n - 1)] + ["end"]
lines = ["from metaflow import FlowSpec, step", "", f"class Chain{n}(FlowSpec):"]
for k, name in enumerate(names):
    lines += ["    @step", f"    def {name}(self):"]
    lines.append("        self.x = 1" if k == 0 else "        self.x += 1")
    if name != "end":
        lines.append(f"        self.next(self.{names[k + 1]})")
    else:
        lines.append(f"        assert self.x == {n}")
    lines.append("")
lines += ["if __name__ == '__main__':", f"    Chain{n}()", ""]
path = os.path.join(out, f"chain{n}.py")
with open(path, "w") as f:
    f.write("\n".join(lines))
print(path)
