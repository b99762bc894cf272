"""Speed and memory of the examples.

Default: both examples, each as a plain script in a fresh process,
alternately, so that drifts in load hit both alike; it prints the median
time of each, the ratio of the "Your own recording" example's to the
classification example's, and the peak resident memory of each.

``--batches``: the classification example as written, which scatters the
recordings in batches
(64 a call on a CPU), against one ``Scattering1D`` call over all of them, as
in the original kymatio example. Each runs the whole example in fresh
processes through the shared runner, alternately, so that drifts in load
hit both alike; it prints the median time of the scattering cell and of the
whole example, the peak resident memory, their ratios, and whether both
ways give the same features and accuracies.

``--against REV``: the whole example at git revision ``REV`` and in the
working tree, each as a plain script in a fresh process, alternately, and
the ratio of their median times. Needs ``KYMATIO_DATASETS`` to hold FSDD;
three repetitions take about 10 minutes on a 2-core CPU.

    python bench/speed.py               # medians of 3 runs of each
    python bench/speed.py --batches
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

from runner import CLASSIFY, OWN, run_in_fresh_process, source_at

VARIANTS = {"one call": {"scattering_batch": 10**6}, "batches": {}}


def measure(r):
    """The scattering cell's time, and what must not depend on batching."""
    S = r["S_all"].double()
    return {
        "scattering_s": r.seconds["S_all"],
        "sums": [S.sum().item(), S.square().sum().item()],
        "output": r.output,  # every accuracy the example prints
    }


def compare(repeat):
    runs = {name: [] for name in VARIANTS}
    for i in range(repeat):
        for name, parameters in VARIANTS.items():
            child = run_in_fresh_process(
                CLASSIFY, "speed:measure", **parameters
            )
            runs[name].append(child)
            print(
                f"run {i + 1} {name}: scattering "
                f"{child['measured']['scattering_s']:.1f} s, example "
                f"{child['example_s']:.1f} s, peak RSS "
                f"{child['peak_rss_mb']:.0f} MB",
                flush=True,
            )
    median = {
        name: {
            "scattering": statistics.median(
                c["measured"]["scattering_s"] for c in rs
            ),
            "example": statistics.median(c["example_s"] for c in rs),
            "memory": statistics.median(c["peak_rss_mb"] for c in rs),
        }
        for name, rs in runs.items()
    }
    one, batches = median["one call"], median["batches"]
    print(
        f"\ndevice: {runs['batches'][0]['device']}, medians of {repeat} runs"
    )
    print("| variant | scattering (s) | whole example (s) | peak RSS (MB) |")
    print("|---|---:|---:|---:|")
    for name, m in median.items():
        print(
            f"| {name} | {m['scattering']:.1f} | {m['example']:.1f} | {m['memory']:.0f} |"
        )
    first = [runs[name][0]["measured"] for name in VARIANTS]
    same_features = all(
        abs(a - b) <= 1e-6 * abs(a)
        for a, b in zip(*(f["sums"] for f in first), strict=True)
    )
    same_results = first[0]["output"] == first[1]["output"]
    print(f"same_features={same_features} same_printed_results={same_results}")
    print(
        f"scattering_speedup={one['scattering'] / batches['scattering']:.1f}x"
    )
    print(f"example_speedup={one['example'] / batches['example']:.1f}x")
    print(f"memory_reduction={one['memory'] / batches['memory']:.1f}x")
    if not (same_features and same_results):
        sys.exit("one call and batches disagree")


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


def pages(repeat):
    """Both examples as plain scripts, timed alternately."""
    times = {CLASSIFY.name: [], OWN.name: []}
    memory = {name: [] for name in times}
    for i in range(repeat):
        for script in (CLASSIFY, OWN):
            seconds, peak = seconds_to_run(script)
            times[script.name].append(seconds)
            memory[script.name].append(peak)
            print(
                f"run {i + 1} {script.name}: {seconds:.1f} s, "
                f"peak RSS {peak:.0f} MB",
                flush=True,
            )
    first, second = (statistics.median(t) for t in times.values())
    print(
        f"\nmedians of {repeat}: {CLASSIFY.name} {first:.1f} s, {OWN.name} {second:.1f} s"
    )
    print(f"own_recording_time_ratio={second / first:.2f} (target <= 2)")
    for name, peaks in memory.items():
        print(f"peak_rss_mb {name}={max(peaks):.0f} (target <= 2048)")


def against(revision, repeat):
    """The whole example at ``revision`` and in the working tree, timed
    alternately."""
    source = source_at(revision)
    times = {revision: [], "working tree": []}
    with tempfile.TemporaryDirectory() as tmp:
        earlier = Path(tmp) / CLASSIFY.name
        earlier.write_text(source)
        for i in range(repeat):
            for name, script in zip(times, (earlier, CLASSIFY), strict=True):
                seconds, peak = seconds_to_run(script)
                times[name].append(seconds)
                print(
                    f"run {i + 1} {name}: {seconds:.1f} s, peak RSS {peak:.0f} MB",
                    flush=True,
                )
    before, now = (statistics.median(t) for t in times.values())
    print(
        f"\nmedians of {repeat}: {revision} {before:.1f} s, working tree {now:.1f} s"
    )
    print(f"example_time_ratio={now / before:.2f} (working tree / {revision})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", metavar="REV")
    parser.add_argument("--batches", action="store_true")
    args = parser.parse_args()
    if args.against:
        against(args.against, args.repeat)
    elif args.batches:
        compare(args.repeat)
    else:
        pages(args.repeat)
