"""Runs the integration tests: every test_* function of every test_*.py.

Each test gets a fresh temp dir and process list; every process it started
is stopped by pid afterwards.  Process logs are checked for sanitizer
reports.  Prints one line per test and ends with "N passed, N failed".
"""
import importlib
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main(argv):
    only = argv[1:]
    here = os.path.dirname(os.path.abspath(__file__))
    tests = []
    for fn in sorted(os.listdir(here)):
        if fn.startswith("test_") and fn.endswith(".py"):
            mod = importlib.import_module(fn[:-3])
            for name in sorted(dir(mod)):
                if name.startswith("test_") and callable(getattr(mod, name)):
                    full = "%s.%s" % (fn[:-3], name)
                    if not only or any(o in full for o in only):
                        tests.append((full, getattr(mod, name)))
    passed = failed = 0
    for full, fn in tests:
        tmp = harness.make_tmp(full.split(".")[-1])
        procs = harness.Procs(tmp)
        t0 = time.monotonic()
        err = None
        try:
            fn(procs, tmp)
        except Exception:  # noqa: BLE001
            err = traceback.format_exc()
        finally:
            procs.stop_all()
        for p in procs.procs:
            bad = harness.sanitizer_errors(harness.Procs.log(p))
            if bad and err is None:
                err = "sanitizer report in %s's log:\n%s" % (p.name, "\n".join(bad[:10]))
        dt = time.monotonic() - t0
        if err is None:
            passed += 1
            print("ok   %s (%.1fs)" % (full, dt), flush=True)
            harness.remove_tmp(tmp)
        else:
            failed += 1
            print("FAIL %s (%.1fs)\n%s" % (full, dt, err), flush=True)
            for p in procs.procs:
                print("---- last lines of %s (%s)" % (p.name, p.logpath))
                print("\n".join(harness.Procs.log(p).splitlines()[-40:]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
