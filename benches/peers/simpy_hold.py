#!/usr/bin/env python3
"""The hold model in SimPy, for comparison with dialtone's engine.

N processes each loop forever on `yield env.timeout(Exp(1))`, so N events are always
pending and each popped event schedules one at now + Exp(1): the same model as
benches/src/lib.rs (float times in seconds; the Rust variants' keys are nanoseconds).
Prints `hold,simpy,<n>,<events_per_s>` (median of REPEATS runs) for N = 1,000, 100,000
and 1,000,000.

usage: simpy_hold.py [EVENTS] [REPEATS]
"""
import random
import statistics
import sys
import time

try:
    import simpy
except ImportError:
    sys.exit("simpy_hold.py: SimPy is not installed; run benches/peers/run.sh, which installs it")


def run(n, events, seed):
    env = simpy.Environment()
    rnd = random.Random(seed)
    count = [0]

    def holder():
        while True:
            yield env.timeout(rnd.expovariate(1.0))
            count[0] += 1

    for _ in range(n):
        env.process(holder())
    # Warm up with 2 N events (the processes' start-up events included), then time.
    warm = 2 * n
    while count[0] < warm:
        env.step()
    start_count = count[0]
    t0 = time.perf_counter()
    target = start_count + events
    step = env.step
    while count[0] < target:
        step()
    dt = time.perf_counter() - t0
    return (count[0] - start_count) / dt


def main():
    try:
        events = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
        repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    except ValueError:
        sys.exit("usage: simpy_hold.py [EVENTS] [REPEATS]")
    print(f"# simpy {simpy.__version__}, python {sys.version.split()[0]}: median of {repeats} runs of {events} events")
    for n in (1_000, 100_000, 1_000_000):
        rates = [run(n, events, seed) for seed in range(repeats)]
        print(f"hold,simpy,{n},{statistics.median(rates):.0f}")


if __name__ == "__main__":
    main()
