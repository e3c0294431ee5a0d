import sys, re, collections
# Compact table: per setup, per design: each proposer "median / p99 / max", plus failed and msgs/request.
for path in sys.argv[1:]:
    setup = None
    rows = collections.OrderedDict()
    extra = {}
    order = []
    for line in open(path):
        line = line.rstrip()
        if re.match(r'^\d acceptors', line):
            if setup: order.append((setup, rows, extra))
            setup = line; rows = collections.OrderedDict(); extra = {}
            continue
        if line.startswith('|---') or line.startswith('| design') or not line.startswith('|'): continue
        cells = [c.strip() for c in line.strip('|').split('|')]
        if cells[0] == '':
            m = re.search(r'msgs/request ([\d.]+), phase 1 runs (\d+), fallbacks (\d+), violations (\d+)', cells[1])
            extra[last] = m.groups() if m else cells[1]
            continue
        design, prop, rtt, n, med, p99, mx, r503, failed = cells
        last = design
        rows.setdefault(design, []).append((prop, med, p99, mx, r503, failed, n))
    if setup: order.append((setup, rows, extra))
    print(f"### {path.split('/')[-1]}")
    for setup, rows, extra in order:
        print(f"\n{setup}\n")
        props = [p[0] for p in next(iter(rows.values()))]
        print("| design | " + " | ".join(props) + " | failed | 503s | acc. msgs/req | phase 1 runs | fallbacks | violations |")
        print("|---|" + "---:|" * (len(props) + 6))
        for d, ps in rows.items():
            e = extra.get(d, ("?", "?", "?", "?"))
            failed = sum(int(p[5]) for p in ps); r503 = sum(int(p[4]) for p in ps)
            print(f"| {d} | " + " | ".join(f"{p[1]} / {p[2]} / {p[3]}" for p in ps) + f" | {failed} | {r503} | {e[0]} | {e[1]} | {e[2]} | {e[3]} |")
    print()
