"""Start-up time of the command line (issue 19: ``beyond-collapse --help`` well under 1 s on an idle
machine), beside the floor a user pays anyway: Python itself and ``import numpy``.

    .venv/bin/python benchmarks/bench_cli_start.py      # about 20 s
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time

REPEATS = 7


def timed(cmd: list[str]) -> float:
    """Median wall time of ``cmd`` over REPEATS runs (after one warm-up run for the file cache)."""
    subprocess.run(cmd, capture_output=True, check=True)
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    exe = shutil.which("beyond-collapse") or os.path.join(os.path.dirname(sys.executable), "beyond-collapse")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("python -c 'import numpy'", [sys.executable, "-c", "import numpy"]),
        ("beyond-collapse --help", [exe, "--help"]),
        ("beyond-collapse breakdown --phi 1 --psi 0.3", [exe, "breakdown", "--phi", "1", "--psi", "0.3"]),
    ]
    results = [(name, timed(cmd)) for name, cmd in rows]
    numpy_floor = results[1][1]
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("| command | median s | over `import numpy` |\n|---|---|---|")
    for name, t in results:
        print(f"| {name} | {t:.3f} | {t / numpy_floor:.1f}x |")


if __name__ == "__main__":
    main()
