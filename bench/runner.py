"""Run the tutorial from outside and get its results back as values.

The benchmarks and the tests drive ``plot_classif_torch.py`` through this one
module, so the example itself holds nothing that exists for them. It runs the
example's cells in order, as sphinx-gallery splits them, in one namespace:

- ``run(until=..., seed=3, scattering_batch=10**6)`` runs the cells in this
  process, replacing each named parameter right after the cell that first
  sets it, and stops before the text cell that contains ``until``;
- ``run_in_fresh_process(...)`` does the same in a child process and returns
  the accuracies, the time of the whole example and of its scattering cell,
  and the child's peak resident memory;
- ``score(result, features, labels, held_out)`` and ``predict(...)`` train
  the example's own classifier, with its own ``fit``, on another split and
  return its accuracy or its predictions.

Code keeps the example's file name and line numbers, so a traceback points
into the example.
"""

import contextlib
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

EXAMPLE = Path(__file__).resolve().parents[1] / "plot_classif_torch.py"


def cells():
    """(kind, content, first line) of each block, as sphinx-gallery sees them."""
    from sphinx_gallery.py_source_parser import split_code_and_text_blocks

    return split_code_and_text_blocks(str(EXAMPLE))[1]


@dataclass
class Run:
    """A finished run: ``run["name"]`` reads the example's variables."""

    namespace: dict
    output: str  # what the example printed
    seconds: dict = field(default_factory=dict)  # name: time of its cell

    def __getitem__(self, name):
        return self.namespace[name]

    def accuracies(self):
        """Test accuracy of each feature set the example compares, by name,
        and the train and test accuracy of its final pipeline; for a run
        that got that far, each pipeline's test accuracy at each noise level
        and the mean over held-out speakers."""
        ladder = {
            name: fit.test.accuracy for name, fit in self["ladder"].items()
        }
        found = {
            "ladder": ladder,
            "train": self["final"].train.accuracy,
            "test": self["final"].test.accuracy,
        }
        if "models" in self.namespace:
            found["noise"] = {
                name: {
                    level: self["evaluate"](
                        fit.model, featurize(S), self["y_test"]
                    ).accuracy
                    for level, S in self["tests"].items()
                }
                for name, (fit, featurize) in self["models"].items()
            }
        if "new_voice" in self.namespace:
            found["new_voice"] = dict(self["new_voice"])
        return found


def run(until=None, *, quiet=True, **parameters):
    """Run the example's cells in this process and return a :class:`Run`.

    ``parameters`` replace the example's own values right after the cell that
    first assigns them (its parameter cell); a name that no cell assigns is an
    error, so that a renamed parameter cannot be ignored silently.
    """
    namespace = {"__name__": "__main__", "__file__": str(EXAMPLE)}
    pending, seconds, out = dict(parameters), {}, io.StringIO()
    stdout = (
        contextlib.redirect_stdout(out) if quiet else contextlib.nullcontext()
    )
    with stdout:
        for kind, content, lineno in cells():
            if kind == "text":
                if until is not None and until in content:
                    break
                continue
            code = compile("\n" * (lineno - 1) + content, str(EXAMPLE), "exec")
            before, started = set(namespace), time.perf_counter()
            exec(code, namespace)
            elapsed = time.perf_counter() - started
            seconds.update(dict.fromkeys(set(namespace) - before, elapsed))
            for name in [n for n in pending if n in namespace]:
                namespace[name] = pending.pop(name)
        else:
            if until is not None:
                raise ValueError(
                    f"no text cell of the example contains {until!r}"
                )
    if pending:
        raise ValueError(
            f"the example sets no parameter named {sorted(pending)}"
        )
    return Run(namespace, out.getvalue(), seconds)


def define(result, name):
    """Define the example's function ``name`` in a :class:`Run` that stopped
    before the cell that holds it, without running the rest of that cell."""
    import ast

    tree = ast.parse(EXAMPLE.read_text(), str(EXAMPLE))
    [node] = [n for n in tree.body if getattr(n, "name", None) == name]
    module = ast.Module(body=[node], type_ignores=[])
    exec(compile(module, str(EXAMPLE), "exec"), result.namespace)
    return result[name]


def predict(result, features, labels, held_out, weight_decay=0.0, **settings):
    """Predictions of the example's classifier for ``features[held_out]``.

    Uses the example's own ``fit`` from a finished :class:`Run`: the model is
    trained on ``features[~held_out]``. ``settings`` replace the example's
    ``learning_rate``, ``n_epochs`` or ``seed`` for this call only;
    ``weight_decay`` is passed on to Adam, which the example leaves at 0.
    """
    import functools

    import torch

    namespace = result.namespace
    saved = {name: namespace[name] for name in settings}
    adam = torch.optim.Adam
    try:
        namespace.update(settings)
        if weight_decay:  # the example's Adam takes none of its own
            torch.optim.Adam = functools.partial(
                adam, weight_decay=weight_decay
            )
        with contextlib.redirect_stdout(io.StringIO()):
            fitted = namespace["fit"](features, labels, held_out)
        return fitted.test.predicted
    finally:
        namespace.update(saved)
        torch.optim.Adam = adam


def score(result, features, labels, held_out, **settings):
    """Test accuracy of the example's classifier on another split: trained
    on ``features[~held_out]``, scored on ``features[held_out]``; the
    arguments are those of :func:`predict`."""
    predicted = predict(result, features, labels, held_out, **settings)
    return (predicted == labels[held_out]).float().mean().item()


def run_in_fresh_process(features_path=None, threads=None, **parameters):
    """Run the whole example in a new Python process; return a dict with the
    accuracies, ``example_s`` (all cells), ``scattering_s`` (the cell that
    scatters every recording), ``peak_rss_mb`` and ``device``.

    With ``features_path``, the log-scattering features are saved there
    (``numpy.save``) for comparisons between runs; ``threads`` sets torch's
    CPU threads in the child (``torch.set_num_threads``).
    """
    env = {**os.environ, "MPLBACKEND": "Agg"}
    with tempfile.TemporaryDirectory() as tmp:
        result_path = Path(tmp) / "result.json"
        request = {
            "parameters": parameters,
            "result": str(result_path),
            "threads": threads,
        }
        if features_path is not None:
            request["features"] = str(features_path)
        done = subprocess.run(
            [sys.executable, __file__, json.dumps(request)],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"the example failed:\n{done.stdout}{done.stderr}"
            )
        return json.loads(result_path.read_text())


def thread_argument(parser):
    """Add ``--threads N`` to a benchmark's command line; return a function
    that sets torch's CPU threads from the parsed arguments (if given)."""
    parser.add_argument("--threads", type=int, help="torch's CPU threads")

    def apply(args):
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        return args.threads

    return apply


def _child(request):
    if request.get("threads"):
        import torch

        torch.set_num_threads(request["threads"])
    started = time.perf_counter()
    result = run(**request["parameters"])
    example_s = time.perf_counter() - started
    if "features" in request:
        import numpy as np

        np.save(request["features"], result["S_all"].numpy())
    summary = {
        **result.accuracies(),
        "example_s": example_s,
        "scattering_s": result.seconds["S_all"],
        # Linux reports kilobytes.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        / 1024,
        "device": str(result["device"]),
        "output": result.output,  # what the example printed
    }
    Path(request["result"]).write_text(json.dumps(summary))


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
