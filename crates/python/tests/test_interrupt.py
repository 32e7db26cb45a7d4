"""Ctrl-C stops a long study promptly: KeyboardInterrupt in the caller, the worker
threads stopped, the process exits."""

import signal
import subprocess
import sys
import time

from conftest import ROOT, SITE

CHILD = f"""
import sys, dialtone
sc = dialtone.load({SITE!r})
started = False
def progress(done, total):
    global started
    if done and not started:
        started = True
        print("running", flush=True)
try:
    dialtone.study(sc, replications=5_000_000, seed=1, threads=2, progress=progress)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
print("finished", flush=True)
"""


def test_sigint_raises_keyboard_interrupt_promptly():
    p = subprocess.Popen(
        [sys.executable, "-c", CHILD], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert p.stdout.readline().strip() == "running"
        t0 = time.monotonic()
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        if p.poll() is None:
            p.kill()
    assert p.stdout.read().strip() == "interrupted", p.stderr.read()
    assert rc == 3
    assert elapsed < 3.0, f"took {elapsed:.2f} s to stop"
