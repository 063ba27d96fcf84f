"""`make bench`: run every benchmarks/bench_*.py in turn (each prints ratios against an in-process baseline)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    failed = []
    for path in sorted(here.glob("bench_*.py")):
        print(f"\n=== {path.stem} ===", flush=True)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        rc = module.main()
        if rc:
            failed.append(path.stem)
    if failed:
        print(f"\nbenchmarks below their goal: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
