#!/usr/bin/env python3
"""Vireo test runner: C unit tests, then integration tests against real
libvirt + QEMU (TCG) inside harness hosts. Prints one line per test and
ends with 'N passed, N failed'.

usage: tests/run.py --build BUILD_DIR --guest GUEST_DIR [--fuzz-build DIR] [-k SUBSTRING[|SUBSTRING...]]
       [--profile N]"""

import argparse
import concurrent.futures
import contextlib
import glob
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from harness.context import Context, Skip  # noqa: E402
from harness.lineprof import LineProfile  # noqa: E402


def unit_tests(build):
    out = []
    for exe in sorted(glob.glob(os.path.join(build, "tests", "unit", "test_*"))):
        if os.access(exe, os.X_OK) and not exe.endswith((".p", ".o")) and os.path.isfile(exe):
            out.append(exe)
    return out


def fuzz_targets(build):
    """The libFuzzer executables of a -Dfuzz=true build, by target name."""
    out = {}
    for exe in sorted(glob.glob(os.path.join(build, "tests", "fuzz", "fuzz_*"))):
        if os.path.isfile(exe) and os.access(exe, os.X_OK):
            out[os.path.basename(exe)[len("fuzz_"):]] = os.path.abspath(exe)
    return out


FUZZ_BUDGET_S = 24  # all targets together (3 s each for 8; the suite's 45 minutes); each gets at most FUZZ_MAX_S
FUZZ_MAX_S = 15


def run_fuzzer(name, exe, seconds, build):
    """Run one target for a bounded time over a copy of its corpus (the
    repository's corpus never grows during a test run). Returns (ok,
    detail): a crash, leak, timeout or sanitizer report is a failure whose
    detail holds libFuzzer's report and where the input was saved."""
    corpus = os.path.join(HERE, "fuzz", "corpus", name)
    artifacts = os.path.join(os.path.abspath(build), "fuzz-artifacts", name)
    os.makedirs(artifacts, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"vireo-fuzz-{name}-") as tmp:
        work = os.path.join(tmp, "corpus")
        if os.path.isdir(corpus):
            shutil.copytree(corpus, work)
        else:
            os.makedirs(work)
        cmd = [exe, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
               "-max_len=8192", "-print_final_stats=1", f"-artifact_prefix={artifacts}/", work]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                               timeout=seconds + 60, cwd=tmp)
        except subprocess.TimeoutExpired as e:
            return False, f"{' '.join(cmd)}\ndid not stop within {seconds + 60}s\n{e.stderr or ''}"[-6000:]
    if p.returncode == 0:
        return True, ""
    # libFuzzer's report starts at the sanitizer's or its own "ERROR" line.
    lines = p.stderr.splitlines()
    start = next((i for i, l in enumerate(lines)
                  if "ERROR:" in l or "property violated" in l or "runtime error:" in l), 0)
    report = "\n".join(lines[max(0, start - 5):start + 60])
    return False, (f"{' '.join(cmd)}\nexit status {p.returncode}\n{report}\n"
                   f"(input saved under {artifacts}/; docs/testing.md says how to reproduce,"
                   " minimize and add it to the corpus)")


def machine_state():
    """Free disk, free memory and load in one line: a run that fails on
    another machine says whether it ran out of something."""
    parts = []
    for path in ("/var/tmp", "/run", "/"):
        try:
            st = os.statvfs(path)
            parts.append(f"{path} {st.f_bavail * st.f_frsize / 2**30:.1f} GiB free")
        except OSError as e:
            parts.append(f"{path} {e.strerror}")
    try:
        with open("/proc/meminfo") as f:
            mem = {ln.split(":")[0]: ln.split()[1] for ln in f}
        parts.append(f"memory {int(mem['MemAvailable']) / 2**20:.1f} GiB available")
        with open("/proc/loadavg") as f:
            parts.append("load " + " ".join(f.read().split()[:3]))
    except (OSError, KeyError, ValueError, IndexError):
        pass
    return ", ".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--guest", required=True)
    ap.add_argument("--fuzz-build", default=None,
                    help="a -Dfuzz=true build dir: run each fuzz target for a few seconds")
    ap.add_argument("-k", dest="filter", default="",
                    help="run only tests whose name contains one of these |-separated substrings")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="after each test, its N slowest statements (harness/lineprof.py)")
    args = ap.parse_args()
    # One run for several filters shares the harness hosts (and one wait
    # for the machine-wide lock).
    wanted = args.filter.split("|")

    def selected(name):
        return any(w in name for w in wanted)
    # A sanitizer finding must fail the program that hit it, unit tests too.
    os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    passed, failed, failures, skipped = 0, 0, [], []
    reasons = []
    print("machine at the start: " + machine_state(), flush=True)

    def report(name, ok, secs, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"PASS {name} ({secs:.1f}s)", flush=True)
        else:
            failed += 1
            failures.append(name)
            # Each failure's reason in one line for the summary at the end
            # (a CI log keeps only its tail): the test file's line that failed
            # and the exception, both cut short.
            lines = [ln.strip() for ln in str(detail).splitlines() if ln.strip()]
            where = [ln for ln in lines if ln.startswith('File "') and "/tests/test_" in ln]
            # the exception's first line: after the last frame, its source
            # line and Python's ^^^ markers
            frames = [i for i, ln in enumerate(lines) if ln.startswith('File "')]
            exc = [ln for ln in lines[frames[-1] + 2:] if ln.strip("^~ ")] if frames else lines
            reasons.append((name, (where[-1].split("/tests/")[-1][:120] + ": " if where else "")
                                 + (exc[0] if exc else lines[-1] if lines else "no detail")[:300]))
            print(f"FAIL {name} ({secs:.1f}s)\n{detail}", flush=True)

    for exe in unit_tests(args.build):
        name = "unit/" + os.path.basename(exe)
        if not selected(name):
            continue
        t0 = time.monotonic()
        p = subprocess.run([exe], capture_output=True, text=True, timeout=120)
        report(name, p.returncode == 0, time.monotonic() - t0, p.stdout + p.stderr)

    if args.fuzz_build:
        targets = {n: e for n, e in fuzz_targets(args.fuzz_build).items()
                   if selected("fuzz/" + n)}
        seconds = min(FUZZ_MAX_S, FUZZ_BUDGET_S // max(1, len(targets)))

        def fuzz(item):
            t0 = time.monotonic()
            return run_fuzzer(item[0], item[1], seconds, args.fuzz_build), time.monotonic() - t0
        # One target per CPU at a time: each is one process on one core for
        # its seconds, as it was one after the other, in a fraction of the
        # wall-clock time. Reported in name order.
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            for n, ((ok, detail), secs) in zip(targets, pool.map(fuzz, targets.items())):
                report("fuzz/" + n, ok, secs, detail)

    # Daemons are killed, not shut down: leak reports at exit mean nothing.
    os.environ["ASAN_OPTIONS"] = "detect_leaks=0:abort_on_error=1"
    ctx = Context(os.path.abspath(args.build), os.path.abspath(args.guest))
    try:
        for path in sorted(glob.glob(os.path.join(HERE, "test_*.py"))):
            modname = os.path.splitext(os.path.basename(path))[0]
            spec = importlib.util.spec_from_file_location(modname, path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            # Engine tests run once per database backend.
            backends = ["sqlite"]
            if modname.startswith("test_engine") and os.environ.get("VIREO_TEST_PG_URI"):
                backends.append("postgresql")
            for backend in backends:
                ctx.engine_db = backend
                for fname in sorted(n for n in dir(mod) if n.startswith("test_")):
                    name = f"{modname}.{fname}" + (f"[{backend}]" if len(backends) > 1 else "")
                    # "...[sqlite]" selects it also when it is the only backend
                    # (no PostgreSQL: names carry no backend)
                    if not (selected(name) or selected(f"{modname}.{fname}[{backend}]")):
                        continue
                    # a slow scenario marked @one_backend runs on one backend
                    # only (the last, PostgreSQL when there is one, unless it
                    # names one)
                    want = getattr(getattr(mod, fname), "one_backend", False)
                    if want and backend != (want if want in backends else backends[-1]):
                        continue
                    t0 = time.monotonic()
                    prof = LineProfile(args.profile) if args.profile else contextlib.nullcontext()
                    try:
                        with prof:
                            getattr(mod, fname)(ctx)
                        ok, detail = True, ""
                    except Skip as why:
                        # Not run here (e.g. needs TCG on a real KVM host):
                        # neither passed nor failed.
                        skipped.append(name)
                        print(f"SKIP {name}: {why}", flush=True)
                        try:
                            ctx.after_test()
                        except Exception:
                            report(name, False, time.monotonic() - t0,
                                   "cleanup failed:\n" + traceback.format_exc())
                        continue
                    except Exception:
                        ok, detail = False, traceback.format_exc()
                    try:
                        ctx.after_test()
                    except Exception:
                        ok, detail = False, detail + "cleanup failed:\n" + traceback.format_exc()
                    report(name, ok, time.monotonic() - t0, detail)
                    if args.profile:
                        print(prof.report(), flush=True)
        problems = ctx.sanitizer_reports()
        report("agent logs free of sanitizer reports", not problems, 0, problems)
        from harness.engine import sanitizer_reports_of_all
        problems = sanitizer_reports_of_all()
        report("engine logs free of sanitizer reports", not problems, 0, problems)
    finally:
        ctx.close()
    # The last lines are the ones a CI summary keeps: the failures (with the
    # first one's reason and the machine's state) come right before the count.
    if skipped:
        print(f"{len(skipped)} skipped: " + ", ".join(skipped))
    if failures:
        print("machine at the end: " + machine_state())
        for name, why in reasons:
            print(f"failure: {name}: {why}")
        print("failed: " + ", ".join(failures))
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
