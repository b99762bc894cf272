"""Run an example from outside and get its results back as values.

The benchmarks and the tests drive both examples through this one module,
so the examples hold nothing that exists for them. ``run`` executes an
example's cells in order, as sphinx-gallery splits them, in one namespace:

- ``run(path, until=..., seed=3)`` replaces each named parameter right
  after the cell that first sets it, and stops before the text cell that
  contains ``until``;
- ``run_in_fresh_process(path, measure, ...)`` does the same in a child
  process and returns what ``measure(run)`` returns there, with the time of
  the whole example and the child's peak resident memory;
- ``validation_folds(run)`` gives the three folds of FSDD's training takes
  on which the classification example's settings are checked;
- ``source_at(revision)`` reads an example as it was at a git revision, for
  ``bench/speed.py --against``.

Code keeps the example's file name and line numbers, so a traceback points
into the example.
"""

import ast
import contextlib
import importlib
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CLASSIFY = ROOT / "plot_classif_torch.py"
OWN = ROOT / "plot_own_recording.py"
FOLDS = ((5, 10), (10, 15), (15, 20))  # validation takes [start, stop)
MARGIN = 5  # of the 900 validation recordings: what a change must gain


def cells(path=CLASSIFY):
    """(kind, content, first line) of each block, as sphinx-gallery sees them."""
    from sphinx_gallery.py_source_parser import split_code_and_text_blocks

    return split_code_and_text_blocks(str(path))[1]


@dataclass
class Run:
    """A finished run: ``run["name"]`` reads the example's variables."""

    namespace: dict
    output: str  # what the example printed
    seconds: dict = field(default_factory=dict)  # name: time of its cell
    displayed: list = field(default_factory=list)  # what cells show

    def __getitem__(self, name):
        return self.namespace[name]


def run(path=CLASSIFY, until=None, *, quiet=True, **parameters):
    """Run an example's cells in this process and return a :class:`Run`.

    ``parameters`` replace the example's own values right after the cell
    that first assigns them; a name that no cell assigns is an error, so
    that a renamed parameter cannot be ignored silently.
    """
    namespace = {"__name__": "__main__", "__file__": str(path)}
    pending, seconds, out = dict(parameters), {}, io.StringIO()
    displayed = []
    redirect = contextlib.redirect_stdout(out)
    with redirect if quiet else contextlib.nullcontext():
        for kind, content, lineno in cells(path):
            if kind == "text":
                if until is not None and until in content:
                    break
                continue
            before, started = set(namespace), time.perf_counter()
            shown = execute(content, lineno, path, namespace)
            elapsed = time.perf_counter() - started
            if shown is not None:
                displayed.append(shown)
            seconds.update(dict.fromkeys(set(namespace) - before, elapsed))
            for name in [n for n in pending if n in namespace]:
                namespace[name] = pending.pop(name)
        else:
            if until is not None:
                raise ValueError(f"no text cell of {path} holds {until!r}")
    if pending:
        raise ValueError(
            f"the example sets no parameter named {sorted(pending)}"
        )
    return Run(namespace, out.getvalue(), seconds, displayed)


def execute(content, lineno, path, namespace):
    """Run one code cell; return the value of its last line if that is an
    expression, which the gallery and Jupyter show under the cell."""
    tree = ast.parse("\n" * (lineno - 1) + content, str(path))
    last = (
        tree.body.pop()
        if tree.body and isinstance(tree.body[-1], ast.Expr)
        else None
    )
    exec(compile(tree, str(path), "exec"), namespace)
    if last is None:
        return None
    expression = ast.Expression(last.value)
    return eval(compile(expression, str(path), "eval"), namespace)


def git(*args, check=True):
    """What ``git args`` prints, run in the repository."""
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=check, capture_output=True, text=True
    ).stdout


def source_at(revision, path=CLASSIFY):
    """The text of an example as it was at git ``revision``."""
    return git("show", f"{revision}:{Path(path).name}")


def validation_folds(result):
    """For each recording, its validation fold (0, 1 or 2), or -1 for the
    training takes that every fold trains on, or -2 for the test takes,
    which no choice may see."""
    takes = result["take"].astype(int)
    fold = np.where(takes < 5, -2, -1)
    for k, (lo, hi) in enumerate(FOLDS):
        fold[(takes >= lo) & (takes < hi)] = k
    return fold


def run_in_fresh_process(path, measure, threads=None, **parameters):
    """Run the whole example at ``path`` in a new Python process and return
    ``measure(run)`` from there (``measure`` names a function of the bench
    folder as "module:function"), with ``example_s``, the time of all
    cells, ``peak_rss_mb`` and ``device``. ``threads`` sets torch's CPU
    threads in the child."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    with tempfile.TemporaryDirectory() as tmp:
        request = {
            "path": str(path),
            "measure": measure,
            "parameters": parameters,
            "threads": threads,
            "result": str(Path(tmp) / "result.json"),
        }
        done = subprocess.run(
            [sys.executable, __file__, json.dumps(request)],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{path} failed:\n{done.stdout}{done.stderr}")
        return json.loads(Path(request["result"]).read_text())


def _child(request):
    import torch

    if request["threads"]:
        torch.set_num_threads(request["threads"])
    started = time.perf_counter()
    result = run(request["path"], **request["parameters"])
    example_s = time.perf_counter() - started
    module, function = request["measure"].split(":")
    summary = {
        "measured": getattr(importlib.import_module(module), function)(result),
        "example_s": example_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        / 1024,
        "device": str(result["device"]),
    }
    Path(request["result"]).write_text(json.dumps(summary))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    _child(json.loads(sys.argv[1]))
