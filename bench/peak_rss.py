"""Run a module or a script and, at its exit, write its own peak RSS (``VmHWM``, KiB) to a file.

    python bench/peak_rss.py OUT -m reconciler validate -f senders.yaml
    python bench/peak_rss.py OUT bench/sdk_script.py --file ...

``wait4``'s ``ru_maxrss`` cannot give a child's own peak: Linux carries the spawning process's peak RSS
across ``exec`` (with vfork, the parent's own), so a big parent (a test run, the benchmark holding the
emulator and its senders) would be measured instead. The benchmark and the hostile-input tests use this.
"""

from __future__ import annotations

import atexit
import runpy
import sys


def main() -> None:
    out = sys.argv.pop(1)

    def report() -> None:
        with open("/proc/self/status") as status:
            peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
        with open(out, "w") as fh:
            fh.write(peak)

    atexit.register(report)
    if sys.argv[1] == "-m":
        module = sys.argv.pop(2)
        del sys.argv[1]
        sys.argv[0] = module
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        script = sys.argv.pop(1)
        sys.argv[0] = script
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
