"""Where a slow test spends its time: `tests/run.py --profile N` prints, after
each test, the N statements of the test file that took the most wall-clock
time (inclusive of what they call), to find the waits worth cutting when the
suite outgrows its budget (docs/testing.md). Only frames of tests/test_*.py
are traced, so the harness and the daemons run at full speed."""

import collections
import os
import sys
import time


class LineProfile:
    def __init__(self, top):
        self.top = top
        self.spent = collections.Counter()  # (file, line) -> seconds
        self.text = {}

    def _local(self, frame, event, arg):
        # Time since this frame's previous event is its previous line's.
        now = time.monotonic()
        last = self._last.get(id(frame))
        if last is not None:
            self.spent[last[0]] += now - last[1]
        if event == "return":
            self._last.pop(id(frame), None)
        else:
            self._last[id(frame)] = ((frame.f_code.co_filename, frame.f_lineno), now)
        return self._local

    def _global(self, frame, event, arg):
        name = os.path.basename(frame.f_code.co_filename)
        if name.startswith("test_") and name.endswith(".py"):
            return self._local
        return None

    def __enter__(self):
        self._last = {}
        self.spent.clear()
        sys.settrace(self._global)
        return self

    def __exit__(self, *exc):
        sys.settrace(None)
        return False

    def report(self):
        """The top statements, one line each: seconds, file:line, source."""
        out = []
        for (path, line), secs in self.spent.most_common(self.top):
            try:
                with open(path) as f:
                    src = f.readlines()[line - 1].strip()
            except (OSError, IndexError):
                src = ""
            out.append(f"  {secs:7.1f}s {os.path.basename(path)}:{line}  {src[:90]}")
        return "\n".join(out)
