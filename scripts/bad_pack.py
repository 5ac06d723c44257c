#!/usr/bin/env python3
"""A valid pack from genpack.py with every Kth row broken (a SIRET whose checksum fails,
a four-digit postal code), for the fixing grid's benchmark and tests.

Usage: bad_pack.py N OUT.csv [K]
"""
import subprocess
import sys
from pathlib import Path

n, out = int(sys.argv[1]), sys.argv[2]
k = int(sys.argv[3]) if len(sys.argv) > 3 else 10
gen = Path(__file__).resolve().parents[1].parent / "shared" / "tools" / "genpack.py"
subprocess.run([sys.executable, str(gen), str(n), out], check=True, stdout=subprocess.DEVNULL)
lines = Path(out).read_text(encoding="utf-8-sig").splitlines()
for i in range(1, len(lines)):
    if i % k == 0:
        cells = lines[i].split(";")
        cells[3] = cells[3][:-1] + str((int(cells[3][-1]) + 1) % 10)  # SIRET checksum
        if i % (2 * k) == 0:
            cells[9] = cells[9][1:]  # postal code of four digits
        lines[i] = ";".join(cells)
Path(out).write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
