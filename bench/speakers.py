"""How well the example recognises a voice it has never heard.

FSDD's official split tests on takes 0-4 of the six speakers the model trained
on. Here each speaker in turn is held out instead: the example's classifier
(its own ``standardize``, ``train`` and ``evaluate``, through the shared
runner) trains on all takes of the other five and is scored on every take of
the sixth. The scattering is computed once, by the example itself.

1. The table per held-out speaker for the example's own feature sets, taken
   from the example itself: the time average, the mean, standard deviation
   and maximum ("pooled"), those with the means over each half of the
   window, and the final features, which compute all of them over the
   frames of the word alone.
2. Variants that might close the gap, each scored the same way, and a nested
   choice among them: for each held-out speaker the variant is chosen by
   leave-one-speaker-out on the other five alone, so the test speaker never
   takes part in a choice.

Variants marked "needs the speaker's recordings" standardize each speaker's
features with that speaker's own mean and standard deviation, computed on all
of that speaker's recordings without their labels: at test time they need a
batch of unlabelled recordings of the new voice.

The last line reads ``speaker_independent_accuracy=… (the example)``. Needs
``KYMATIO_DATASETS`` to hold FSDD; takes about 13 minutes on a 2-core CPU.

    python bench/speakers.py
    python bench/speakers.py --threads 1   # torch's CPU threads
"""

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from runner import run, score, thread_argument

EXAMPLE = "the example: pooled + means over each half, over the word's frames"


def pooled(S):
    return torch.cat([S.mean(-1), S.std(-1), S.amax(-1)], dim=1)


def smoothed_over_frequency(S, first_order, width):
    """Average each first-order coefficient with its neighbours in frequency
    (``width`` bands, Q=12 bands an octave), which blurs the small shifts in
    pitch and formants from one voice to another."""
    n, _, t = S.shape
    bands = S[:, first_order].transpose(1, 2).reshape(n * t, 1, -1)
    bands = F.avg_pool1d(bands, width, 1, width // 2, count_include_pad=False)
    S = S.clone()
    S[:, first_order] = bands.reshape(n, t, -1).transpose(1, 2)
    return S


def per_speaker_standardized(features, speakers):
    """Each speaker's features standardized with that speaker's own mean and
    standard deviation, over all of that speaker's recordings."""
    out = torch.empty_like(features)
    for s in speakers.unique():
        mine = speakers == s
        x = features[mine]
        out[mine] = (x - x.mean(0)) / x.std(0).clamp_min(1e-8)
    return out


def leave_one_speaker_out(result, features, labels, speakers, among):
    """Accuracy on each speaker of ``among`` when trained on the others of
    ``among`` only."""
    keep = torch.isin(speakers, among)
    features, labels, speakers = features[keep], labels[keep], speakers[keep]
    return {
        int(s): score(result, features, labels, speakers == s) for s in among
    }


def main():
    started = time.perf_counter()
    result = run(until="The same classifier trains")
    own = result["feature_sets"]
    S = result["log_scattering"]
    names = sorted(set(result["speaker"]))
    speakers = torch.tensor([names.index(s) for s in result["speaker"]])
    labels = result["y_all"]
    first_order = torch.from_numpy(result["first"])

    variants = {
        "time average": own["orders 1 and 2, time average"],
        "pooled": own["+ standard deviation, maximum"],
        "pooled + means over each half": own["+ means over each half"],
        EXAMPLE: own["+ over the word's frames only"],
        "pooled, order 1 only": pooled(S[:, first_order]),
        "pooled, smoothed over 3 bands": pooled(
            smoothed_over_frequency(S, first_order, 3)
        ),
    }
    per_speaker = [
        "time average",
        "pooled",
        "pooled + means over each half",
        EXAMPLE,
    ]
    for name in per_speaker:
        variants[f"{name}, per speaker (needs the speaker's recordings)"] = (
            per_speaker_standardized(variants[name], speakers)
        )
    print(f"scattering and variants: {time.perf_counter() - started:.0f} s")

    everyone = torch.arange(len(names))
    table = {
        name: leave_one_speaker_out(result, f, labels, speakers, everyone)
        for name, f in variants.items()
    }

    print("\nHeld-out speaker: accuracy on all 500 of their recordings")
    print("| variant | " + " | ".join(names) + " | mean |")
    print("|---|" + "---:|" * (len(names) + 1))
    for name, acc in table.items():
        row = " | ".join(f"{acc[k]:.3f}" for k in range(len(names)))
        print(f"| {name} | {row} | {statistics.mean(acc.values()):.3f} |")

    # Nested: the variant for each held-out speaker is chosen on the others.
    inner = {}  # (variant, held-out speaker) -> mean over the other five
    for name, f in variants.items():
        for k in range(len(names)):
            scores = leave_one_speaker_out(
                result, f, labels, speakers, everyone[everyone != k]
            )
            inner[name, k] = statistics.mean(scores.values())
    print("\nNested choice: inner leave-one-speaker-out on the other five")
    for needs_recordings in (False, True):
        candidates = [
            n for n in variants if needs_recordings or "per " not in n
        ]
        print(
            "\nwith" if needs_recordings else "\nwithout",
            "unlabelled recordings of the new speaker",
        )
        print("| held-out speaker | chosen variant | inner mean | accuracy |")
        print("|---|---|---:|---:|")
        nested = []
        for k, speaker in enumerate(names):
            chosen = max(candidates, key=lambda n: inner[n, k])
            nested.append(table[chosen][k])
            print(
                f"| {speaker} | {chosen} | {inner[chosen, k]:.3f} "
                f"| {table[chosen][k]:.3f} |"
            )
        print(
            f"nested_accuracy={statistics.mean(nested):.4f} "
            f"(needs_recordings={needs_recordings})",
            flush=True,
        )

    print(f"threads={torch.get_num_threads()}")
    print(f"took {time.perf_counter() - started:.0f} s")
    example = table[EXAMPLE]
    print(
        "speaker_independent_accuracy="
        f"{statistics.mean(example.values()):.4f} (the example)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    thread_argument(parser)(parser.parse_args())
    main()
