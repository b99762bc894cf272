"""Speed and memory of the example: batched scattering against one single call.

Runs ``plot_classif_torch.py`` itself in fresh processes, once as written and
once with ``EXAMPLE_SCATTERING_BATCH`` large enough that all recordings go
through one ``Scattering1D`` call, as in the original kymatio example. For each
run it records the whole example's time, the feature stage's time (the
``Scattering took`` line the example prints) and the process's peak resident
memory, as the operating system reports it. It also checks that both ways give
the same features and the same test accuracy. Needs ``KYMATIO_DATASETS`` to hold
FSDD. Three repetitions take about 7 minutes on a 2-core CPU.

    python bench/speed.py              # medians of 3 runs of each variant
    python bench/speed.py --repeat 5
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[1] / "plot_classif_torch.py"
VARIANTS = {"single call": "1000000", "batched": None}  # None: the example's default

# Runs the example like ``python plot_classif_torch.py``, then reports how long
# that took and saves its features for the equality check.
RUNNER = """
import runpy, sys, time
import numpy as np
started = time.perf_counter()
namespace = runpy.run_path(sys.argv[1], run_name="__main__")
print(f"EXAMPLE_SECONDS={time.perf_counter() - started:.3f}")
np.save(sys.argv[2], namespace["log_scattering"].cpu().numpy())
"""


def run_once(batch, features_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("EXAMPLE_SCATTERING_BATCH", None)
    if batch is not None:
        env["EXAMPLE_SCATTERING_BATCH"] = batch
    command = [sys.executable, "-c", RUNNER, str(EXAMPLE), str(features_path)]
    with tempfile.TemporaryFile("w+") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak RSS
        out.seek(0)
        text = out.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"the example failed:\n{text}")
    return {
        "feature_s": float(re.search(r"^Scattering took (\d+\.\d+) s$", text, re.M)[1]),
        "example_s": float(re.search(r"^EXAMPLE_SECONDS=(\d+\.\d+)$", text, re.M)[1]),
        "rss_mb": usage.ru_maxrss / 1024,  # Linux reports kilobytes
        "device": re.search(r"^Using (\w+) device", text, re.M)[1],
        "test_line": re.search(r"^TEST, .*$", text, re.M)[0],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat

    runs = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat):  # interleaved, so drifts in load hit both alike
            for name, batch in VARIANTS.items():
                run = run_once(batch, Path(tmp) / f"{i}-{name}.npy")
                runs[name].append(run)
                print(
                    f"run {i + 1} {name:11s}: feature stage {run['feature_s']:6.1f} s,"
                    f" example {run['example_s']:6.1f} s, peak RSS {run['rss_mb']:6.0f} MB",
                    flush=True,
                )
        single = np.load(Path(tmp) / "0-single call.npy")
        batched = np.load(Path(tmp) / "0-batched.npy")
        same_features = np.allclose(single, batched, rtol=1e-5, atol=1e-6)
    same_result = runs["single call"][0]["test_line"] == runs["batched"][0]["test_line"]

    med = {
        name: {
            k: statistics.median(r[k] for r in rs)
            for k in ("feature_s", "example_s", "rss_mb")
        }
        for name, rs in runs.items()
    }
    print()
    print(f"device: {runs['batched'][0]['device']}, medians of {repeat} runs")
    print("| variant     | feature stage (s) | whole example (s) | peak RSS (MB) |")
    print("|-------------|------------------:|------------------:|--------------:|")
    for name, m in med.items():
        print(
            f"| {name:11s} | {m['feature_s']:17.1f} | {m['example_s']:17.1f} | {m['rss_mb']:13.0f} |"
        )
    print(f"features_allclose={same_features} same_test_line={same_result}")
    s, b = med["single call"], med["batched"]
    print(f"feature_speedup={s['feature_s'] / b['feature_s']:.1f}x")
    print(f"example_speedup={s['example_s'] / b['example_s']:.1f}x")
    print(f"rss_reduction={s['rss_mb'] / b['rss_mb']:.1f}x")
    if not (same_features and same_result):
        sys.exit("batched and single-call runs disagree")


if __name__ == "__main__":
    main()
