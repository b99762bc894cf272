"""Speed and memory of the examples.

Default: both examples, each as a plain script in a fresh process,
alternately, so that drifts in load hit both alike; it prints the median
time of each, the ratio of the "Your own recording" example's to the
classification example's, and the peak resident memory of each.

``--against REV``: the whole example at git revision ``REV`` and in the
working tree, each as a plain script in a fresh process, alternately, and
the ratio of their median times. Needs ``KYMATIO_DATASETS`` to hold FSDD;
three repetitions take about 8 minutes on a 2-core CPU.

    python bench/speed.py               # medians of 3 runs of each
    python bench/speed.py --against REV --repeat 3
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runner import CLASSIFY, OWN, source_at


def seconds_to_run(script):
    """Wall-clock seconds and peak resident memory (MB) of ``python script``
    in a fresh process."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(script)],
        env={**os.environ, "MPLBACKEND": "Agg"},
        cwd=script.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        sys.exit(f"{script} failed:\n{child.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports kilobytes


def alternately(scripts, repeat):
    """Run each of ``scripts`` ({name: path}) in turn, ``repeat`` times;
    print each run and the medians; return the median seconds and the peak
    memory (MB) of each."""
    times = {name: [] for name in scripts}
    memory = {name: [] for name in scripts}
    for i in range(repeat):
        for name, script in scripts.items():
            seconds, peak = seconds_to_run(script)
            times[name].append(seconds)
            memory[name].append(peak)
            print(
                f"run {i + 1} {name}: {seconds:.1f} s, peak RSS {peak:.0f} MB",
                flush=True,
            )
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(
        f"\nmedians of {repeat}: "
        + ", ".join(f"{name} {m:.1f} s" for name, m in medians.items())
    )
    return medians, {name: max(peaks) for name, peaks in memory.items()}


def pages(repeat):
    """Both examples as plain scripts, timed alternately."""
    medians, peaks = alternately(
        {CLASSIFY.name: CLASSIFY, OWN.name: OWN}, repeat
    )
    first, second = medians.values()
    print(f"own_recording_time_ratio={second / first:.2f} (target <= 2)")
    for name, peak in peaks.items():
        print(f"peak_rss_mb {name}={peak:.0f} (target <= 2048)")


def against(revision, repeat):
    """The whole example at ``revision`` and in the working tree, timed
    alternately."""
    with tempfile.TemporaryDirectory() as tmp:
        earlier = Path(tmp) / CLASSIFY.name
        earlier.write_text(source_at(revision))
        medians, _ = alternately(
            {revision: earlier, "working tree": CLASSIFY}, repeat
        )
    before, now = medians.values()
    print(f"example_time_ratio={now / before:.2f} (working tree / {revision})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", metavar="REV")
    args = parser.parse_args()
    if args.against:
        against(args.against, args.repeat)
    else:
        pages(args.repeat)
