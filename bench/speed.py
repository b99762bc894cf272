"""Speed and memory of the example: batched scattering against one call, and
the whole example against an earlier version of it.

Runs ``plot_classif_torch.py`` itself in fresh processes, through the shared
runner: as written, and with ``scattering_batch`` large enough that all
recordings go through one ``Scattering1D`` call, as in the original kymatio
example. For each run it records the whole example's time, the time of its
scattering cell and the process's peak resident memory; it also checks that
both ways give the same features and the same accuracies. Needs
``KYMATIO_DATASETS`` to hold FSDD. Three repetitions take about 10 minutes on
a 2-core CPU.

With ``--against REV`` it instead runs the example of git revision ``REV``
and the working tree's, each as a plain script in a fresh process,
interleaved, and prints how much longer the working tree's takes.

    python bench/speed.py              # medians of 3 runs of each variant
    python bench/speed.py --repeat 1
    python bench/speed.py --against 099b1f8 --repeat 3
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from runner import EXAMPLE, run_in_fresh_process

VARIANTS = {"single call": {"scattering_batch": 10**6}, "batched": {}}
MEASURES = ("scattering_s", "example_s", "peak_rss_mb")


def compare(repeat):
    runs = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(
            repeat
        ):  # interleaved, so drifts in load hit both alike
            for name, parameters in VARIANTS.items():
                path = Path(tmp) / f"{i}-{name}.npy"
                run = run_in_fresh_process(features_path=path, **parameters)
                runs[name].append(run)
                print(
                    f"run {i + 1} {name:11s}: scattering {run['scattering_s']:5.1f} s,"
                    f" example {run['example_s']:5.1f} s,"
                    f" peak RSS {run['peak_rss_mb']:5.0f} MB",
                    flush=True,
                )
        single = np.load(Path(tmp) / "0-single call.npy")
        batched = np.load(Path(tmp) / "0-batched.npy")
    same_features = np.allclose(single, batched, rtol=1e-5, atol=1e-6)
    accuracies = [
        {k: runs[name][0][k] for k in ("ladder", "train", "test")}
        for name in VARIANTS
    ]
    same_accuracies = accuracies[0] == accuracies[1]
    median = {
        name: {k: statistics.median(r[k] for r in rs) for k in MEASURES}
        for name, rs in runs.items()
    }

    print(
        f"\ndevice: {runs['batched'][0]['device']}, medians of {repeat} runs"
    )
    print(
        "| variant     | scattering (s) | whole example (s) | peak RSS (MB) |"
    )
    print(
        "|-------------|---------------:|------------------:|--------------:|"
    )
    for name, m in median.items():
        print(
            f"| {name:11s} | {m['scattering_s']:14.1f} "
            f"| {m['example_s']:17.1f} | {m['peak_rss_mb']:13.0f} |"
        )
    print(
        f"features_allclose={same_features} same_accuracies={same_accuracies}"
    )
    s, b = median["single call"], median["batched"]
    print(f"scattering_speedup={s['scattering_s'] / b['scattering_s']:.1f}x")
    print(f"example_speedup={s['example_s'] / b['example_s']:.1f}x")
    print(f"rss_reduction={s['peak_rss_mb'] / b['peak_rss_mb']:.1f}x")
    if not (same_features and same_accuracies):
        sys.exit("batched and single-call runs disagree")


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


def against(revision, repeat):
    """The whole example at ``revision`` and in the working tree, timed
    alternately, so that drifts in load hit both alike."""
    source = subprocess.run(
        ["git", "show", f"{revision}:{EXAMPLE.name}"],
        cwd=EXAMPLE.parent,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    times = {revision: [], "working tree": []}
    memory = {revision: [], "working tree": []}
    with tempfile.TemporaryDirectory() as tmp:
        earlier = Path(tmp) / EXAMPLE.name
        earlier.write_text(source)
        for i in range(repeat):
            for name, script in zip(times, (earlier, EXAMPLE), strict=True):
                seconds, peak = seconds_to_run(script)
                times[name].append(seconds)
                memory[name].append(peak)
                print(
                    f"run {i + 1} {name}: {seconds:.1f} s, peak RSS {peak:.0f} MB",
                    flush=True,
                )
    before, now = (statistics.median(t) for t in times.values())
    print(
        f"\nmedians of {repeat}: {revision} {before:.1f} s, working tree {now:.1f} s"
    )
    print(f"example_time_ratio={now / before:.2f} (working tree / {revision})")
    peak = max(memory["working tree"])
    print(f"peak_rss_mb={peak:.0f} (working tree, the largest of {repeat})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", metavar="REV")
    args = parser.parse_args()
    if args.against:
        against(args.against, args.repeat)
    else:
        compare(args.repeat)
