"""Tables 1-4 of the eigenvalue experiment as markdown, a Table 1 figure, and the paper's numbers.

The paper's numbers are transcribed from Tables 1-3 (Sec. 5.1-5.2), accuracies in percent at
tau = 2%, 1%, 0.5%. They are shown beside ours, never used to tune anything. Every table and
claim reads the data sets' recorded rules and roles (``profiles.dataset_plan``), never their names.
Accuracies of retrained models are mean ± sd over training seeds, with the best seed in brackets
(the paper reports the best of five).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats

from beyond_collapse.empirics.eigen.data import tau_label

PAPER_TAUS = ("2%", "1%", "0.5%")
# Table 1: beam -> (oracle best of all beams, most likely beam), each at 2%, 1%, 0.5%
PAPER_TABLE1 = {
    1: ((66.9, 20.2, 2.4), (66.9, 20.2, 2.4)),
    5: ((79.3, 34.9, 7.1), (66.5, 19.7, 2.4)),
    10: ((83.7, 43.1, 10.5), (66.2, 19.5, 2.5)),
    25: ((88.0, 53.2, 16.8), (66.1, 19.3, 2.4)),
    35: ((89.2, 56.9, 19.8), (66.0, 19.2, 2.4)),
    50: ((90.4, 60.4, 22.9), (65.9, 19.2, 2.4)),
}
# Table 2: models trained from scratch on 1M synthesized examples, greedy decoding, best of 5 seeds
PAPER_TABLE2 = {
    "Data selection": (72.1, 20.2, 2.3),
    "Label selection, beam 50": (84.0, 33.4, 4.9),
    "Label selection, beam 25": (79.9, 28.7, 4.1),
    "Label selection, beam 10": (73.9, 22.7, 2.9),
    "Label selection, beam 5": (69.1, 19.0, 2.3),
    "Greedy w/o selection": (60.5, 14.5, 1.7),
    "Synthesized generator": (66.9, 20.2, 2.4),
}
# Table 3: data selection with more data (12M) and a stricter verifier
PAPER_TABLE3 = {
    "Data selection 2%, 1M": (72.1, 20.2, 2.3),
    "Data selection 2%, 12M": (80.1, 26.3, 3.4),
    "Data selection 1%, 12M": (95.1, 50.1, 8.6),
}


def dataset_title(info: dict) -> str:
    """A data set's name in the tables, from its recorded rule (never parsed from its file name)."""
    rule = {"none": "Greedy w/o selection", "data": f"Data selection {tau_label(info['tau']) if info.get('tau') else ''}",
            "label": f"Label selection, beam {info['beam']}"}[info["selection"]]
    return f"{rule}, {info['multiple']}x N0"


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def _taus(results: dict) -> list[str]:
    return list(results["generator"]["test"]["accuracy"])


def _mean_sd(res: dict, tau: str) -> str:
    if not res.get("seeds"):
        return "n/a"
    sd = res["sd"][tau]
    done, planned = len(res["seeds"]), res.get("seeds_planned", len(res["seeds"]))
    return (f"{_pct(res['mean'][tau])}" + ("" if sd is None else f" ± {100 * sd:.1f}") + f" ({_pct(res['best'][tau])})"
            + ("" if done == planned else f" [{done} of {planned} seeds]"))


def table1_markdown(results: dict) -> str:
    taus = list(next(iter(results["table1"].values()))["oracle_best"])
    head = " | ".join(f"all beams {t}" for t in taus) + " | " + " | ".join(f"best beam {t}" for t in taus)
    lines = [f"| Beam | {head} | malformed (best beam) |", "|---" * (2 * len(taus) + 2) + "|"]
    for k, row in sorted(results["table1"].items(), key=lambda kv: int(kv[0])):
        name = "Greedy" if int(k) == 1 else f"Beam {k}"
        cells = [_pct(row["oracle_best"][t]) for t in taus] + [_pct(row["most_likely"][t]) for t in taus]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {_pct(row['malformed_most_likely'])} |")
    return "\n".join(lines)


def _with_role(results: dict, role: str) -> list[str]:
    return [name for name, info in results["datasets"].items() if role in info["roles"]]


def table2_markdown(results: dict, role: str = "table2") -> str:
    """Data sets of one role: size, kept fraction, label quality, test accuracy mean ± sd (best seed)."""
    names = _with_role(results, role)
    if not names:
        return "(no data set of this table finished)"
    taus = _taus(results)
    lines = ["| Data set | examples | kept | " + " | ".join(f"labels within {t}" for t in taus) + " | "
             + " | ".join(f"test {t}" for t in taus) + " |", "|---" * (2 * len(taus) + 3) + "|"]
    gen = results["generator"]["test"]["accuracy"]
    lines.append(f"| Synthesized generator | {results['profile_config']['n_train']} (real) | - | "
                 + " | ".join("100.0" for _ in taus) + " | " + " | ".join(_pct(gen[t]) for t in taus) + " |")
    for name in names:
        ds, res = results["datasets"][name], results["trained"].get(name, {})
        lines.append(f"| {dataset_title(ds)} | {ds['size']} | {_pct(ds['kept_fraction'])}% | "
                     + " | ".join(_pct(ds["label_accuracy"].get(t)) for t in taus) + " | "
                     + " | ".join(_mean_sd(res, t) for t in taus) + " |")
    return "\n".join(lines)


def table4_markdown(results: dict) -> str:
    if not results.get("table4"):
        return ""
    taus = _taus(results)
    lines = ["| Data set | from scratch (mean) " + " | from scratch ".join(taus) + " | fine-tuned generator "
             + " | fine-tuned generator ".join(taus) + " |", "|---" * (2 * len(taus) + 1) + "|"]
    for name, tuned in results["table4"].items():
        scratch = results["trained"][name].get("mean") or {}
        lines.append(f"| {dataset_title(results['datasets'][name])} | " + " | ".join(_pct(scratch.get(t)) for t in taus)
                     + " | " + " | ".join(_pct(tuned["accuracy"][t]) for t in taus) + " |")
    return "\n".join(lines)


def scaling_rows(results: dict) -> dict[str, list[tuple[int, int, dict]]]:
    """Scaling curve: selection -> [(multiple of N0, examples, trained summary)], by multiple."""
    out: dict[str, list] = {}
    for name in _with_role(results, "scaling"):
        info, res = results["datasets"][name], results["trained"].get(name)
        if res and res.get("seeds"):
            out.setdefault(info["selection"], []).append((info["multiple"], info["size"], res))
    return {k: sorted(v, key=lambda r: r[0]) for k, v in out.items()}


def scaling_markdown(results: dict) -> str:
    rows = scaling_rows(results)
    if not rows:
        return "(no data set of the scaling curve finished)"
    taus = _taus(results)
    beam = max(int(k) for k in results["profile_config"]["beams"])
    labels = {"label": f"label selection, beam {beam}", "none": "no selection"}
    lines = ["| Prompts | data set | examples | " + " | ".join(f"test {t}" for t in taus) + " |",
             "|---" * (len(taus) + 3) + "|"]
    for sel in ("label", "none"):
        for mult, size, res in rows.get(sel, []):
            lines.append(f"| {mult}x N0 | {labels[sel]} | {size} | " + " | ".join(_mean_sd(res, t) for t in taus) + " |")
    gen = results["generator"]["test"]["accuracy"]
    lines.append(f"| N0 real | generator | {results['profile_config']['n_train']} | "
                 + " | ".join(_pct(gen[t]) for t in taus) + " |")
    return "\n".join(lines)


def paper_table1_markdown() -> str:
    lines = ["| Beam | all beams 2% | 1% | 0.5% | best beam 2% | 1% | 0.5% |", "|---" * 7 + "|"]
    for k, (best, top) in PAPER_TABLE1.items():
        lines.append(f"| {'Greedy' if k == 1 else f'Beam {k}'} | " + " | ".join(f"{x:.1f}" for x in best + top) + " |")
    return "\n".join(lines)


def paper_table2_markdown() -> str:
    lines = ["| Data set | 2% | 1% | 0.5% |", "|---" * 4 + "|"]
    for key, vals in PAPER_TABLE2.items():
        lines.append(f"| {key} | " + " | ".join(f"{x:.1f}" for x in vals) + " |")
    for key, vals in PAPER_TABLE3.items():
        lines.append(f"| {key} (Table 3) | " + " | ".join(f"{x:.1f}" for x in vals) + " |")
    return "\n".join(lines)


def plot_results(results: dict, path: str | Path) -> Path:
    """Three panels: Table 1 (oracle best vs most likely beam), Table 2 (mean ± sd), the scaling curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 4.2))
    taus = _taus(results)
    if results["table1"]:
        beams = sorted(int(k) for k in results["table1"])
        for i, t in enumerate(taus):
            ax1.plot(beams, [100 * results["table1"][str(k)]["oracle_best"][t] for k in beams], "o-", color=f"C{i}",
                     label=f"oracle best, tau={t}")
            ax1.plot(beams, [100 * results["table1"][str(k)]["most_likely"][t] for k in beams], "s--", color=f"C{i}",
                     label=f"most likely, tau={t}")
        ax1.set_xscale("log")
        ax1.set_xticks(beams, [str(k) for k in beams])
        ax1.minorticks_off()
        ax1.legend(fontsize=6)
    ax1.set(xlabel="beam size k", ylabel="accuracy (%)", title="Table 1: the generator's labels")
    names = [n for n in _with_role(results, "table2") if results["trained"].get(n, {}).get("seeds")]
    gen = results["generator"]["test"]["accuracy"]
    width = 0.8 / len(taus)
    for i, t in enumerate(taus):
        ax2.bar([i * width], [100 * gen[t]], width, color=f"C{i}", label=f"tau={t}")
        for j, n in enumerate(names, start=1):
            res = results["trained"][n]
            ax2.bar([j + i * width], [100 * res["mean"][t]], width, color=f"C{i}",
                    yerr=[100 * (res["sd"][t] or 0)], capsize=2)
    multiple = f", {results['profile_config']['synth_multiple']}x N0"
    titles = ["generator"] + [dataset_title(results["datasets"][n]).replace("Label selection, ", "label ")
                              .replace(multiple, "") for n in names]
    ax2.set_xticks([j + width * (len(taus) - 1) / 2 for j in range(len(titles))], titles, rotation=30, ha="right",
                   fontsize=7)
    ax2.set(ylabel="greedy test accuracy (%), mean ± sd", title="Table 2: retrained from scratch")
    ax2.legend(fontsize=7)
    key = tau_label(results["profile_config"]["stop_tau"])
    for sel, style in (("label", "o-"), ("none", "s--")):
        rows = scaling_rows(results).get(sel, [])
        if rows:
            ax3.errorbar([m for m, _, _ in rows], [100 * r["mean"][key] for _, _, r in rows],
                         yerr=[100 * (r["sd"][key] or 0) for _, _, r in rows], fmt=style, capsize=3,
                         label={"label": "label selection (largest beam)", "none": "no selection"}[sel])
    ax3.axhline(100 * gen[key], color="k", lw=1, label="generator (N0 real examples)")
    ax3.set_xscale("log")
    ax3.set(xlabel="synthesis prompts (multiples of N0)", ylabel=f"greedy test accuracy at {key} (%)",
            title="Scaling: synthesized data vs the generator")
    ax3.legend(fontsize=7)
    fig.suptitle(f"Eigenvalue experiment, {results['profile']} profile", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def results_markdown(results: dict, png_name: str | None = None) -> str:
    """All tables of one results document."""
    prof = results["profile_config"]
    m, gen = prof["model"], results["generator"]
    parts = [
        f"Profile `{results['profile']}`: {m['n']}x{m['n']} matrices, d_model {m['d_model']}, "
        f"{m['enc_layers']} encoder + {m['dec_layers']} decoder layers, {gen['parameters']:,} parameters. "
        f"Generator: N0 = {prof['n_train']:,} real examples, early-stopped on {prof['n_val']:,} real validation "
        f"examples at tau = {100 * prof['stop_tau']:g}% (best at step {gen['best_step']}, "
        f"{gen['examples_seen']:,} examples seen). Table 2 data sets: {prof['synth_multiple']} x N0 synthesis "
        f"prompts; every model is trained from scratch with the same maximum budget and the same early stopping, "
        f"{len(prof['retrain_seeds'])} seeds each; test set {gen['test']['n']:,} matrices. Wall time of the last "
        f"call (a resumed call skips finished units): {results['wall_time_s'] / 60:.1f} min.",
        f"**Table 1** (the generator on the first {prof['synth_multiple'] * prof['n_train']:,} synthesis prompts, "
        "% correct): the oracle's best of all k beams vs the most likely beam.\n\n"
        + (table1_markdown(results) if results["table1"] else "(not finished)"),
        "**Table 2** (new models trained from scratch on each synthesized data set; greedy test accuracy, %, "
        "mean ± sd over seeds, best seed in brackets; 'labels within' is the fraction of the data set's own "
        "labels within each tolerance of the truth):\n\n" + table2_markdown(results),
    ]
    if prof["table3"]:
        parts.append("**Table 3** (data selection with more prompts and a stricter verifier):\n\n"
                     + table2_markdown(results, "table3"))
    if prof["scaling"]:
        parts.append("**Scaling curve** (test accuracy against the number of synthesis prompts, beside the "
                     "generator):\n\n" + scaling_markdown(results))
    if results.get("table4"):
        parts.append("**Table 4** (the generator fine-tuned on each data set, one seed, vs trained from scratch, "
                     "mean):\n\n" + table4_markdown(results))
    if not results.get("complete", True):
        parts.append("**This run was cut short**: the tables show the units that finished; missing rows were not run.")
    if png_name:
        parts.append(f"![eigen results]({png_name})")
    return "\n\n".join(parts)


def difference_interval(values: list[float], baseline: float, se_baseline: float) -> tuple[float, float, float]:
    """Mean of per-seed ``values`` minus ``baseline``, with a 95% interval: (difference, low, high).

    The half-width combines the seeds' spread (Student t with s - 1 degrees of freedom on the
    mean) with the test-set sampling error ``se_baseline`` (the baseline's binomial standard
    error; for a difference of two retrained data sets, that of the difference of the two mean
    accuracies): 1.96 se. With one seed the test-set error alone.
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("values must hold at least one seed's accuracy")
    mean = float(v.mean())
    seeds = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / v.size ** 0.5 if v.size > 1 else 0.0
    half = float((seeds ** 2 + (1.96 * se_baseline) ** 2) ** 0.5)
    return mean - baseline, mean - baseline - half, mean - baseline + half


def binomial_se(*accuracies: float, n: int) -> float:
    """Standard error of one accuracy, or of a difference of independent ones, on n test examples."""
    return float(sum(a * (1 - a) for a in accuracies) / n) ** 0.5


def _verdict(low: float, high: float, claimed_positive: bool) -> bool | None:
    """True if the interval lies on the claimed side of 0, False if on the other, None if it covers 0."""
    if high < 0:
        return not claimed_positive
    if low > 0:
        return claimed_positive
    return None


def paper_claims(results: dict) -> list[dict]:
    """The claims of Sec. 5.1-5.2 checked on one results document, at each tolerance.

    Each entry: claim, tolerance, the numbers compared, the difference with its 95% interval
    (``difference_interval``; comparisons of two retrained data sets are paired by seed), and
    ``held``: True, False, None (the interval covers 0), ``"one seed"`` (no seed spread to judge by:
    no verdict) or ``"not run"``.
    """
    gen = results["generator"]["test"]
    n_test, t1 = gen["n"], results["table1"]
    cfg = results["profile_config"]
    n_pool = cfg["synth_multiple"] * cfg["n_train"]
    done = {n: r for n, r in results["trained"].items() if r.get("seeds")}
    table2 = [n for n in _with_role(results, "table2") if n in done]
    info = results["datasets"]
    none = next((n for n in table2 if info[n]["selection"] == "none"), None)
    label = sorted((info[n]["beam"], n) for n in table2 if info[n]["selection"] == "label")
    out = []

    def add(claim, tau, values, interval=None, positive=True, seeds=2):
        diff, low, high = interval or (None, None, None)
        held = "not run" if interval is None else "one seed" if seeds < 2 else _verdict(low, high, positive)
        out.append({"claim": claim, "tau": tau, "values": values, "difference": diff, "low": low, "high": high,
                    "held": held})

    def paired(a: str, b: str, tau: str) -> tuple[float, float, float]:
        """Data set a minus b, paired by seed; the test-set error of the difference of the two means."""
        diffs = [x[tau] - y[tau] for x, y in zip(done[a]["seeds"], done[b]["seeds"])]
        return difference_interval(diffs, 0.0, binomial_se(done[a]["mean"][tau], done[b]["mean"][tau], n=n_test))

    for tau in gen["accuracy"]:
        g = gen["accuracy"][tau]
        mean = lambda n: _pct(done[n]["mean"][tau])
        seeds = lambda n: [s[tau] for s in done[n]["seeds"]]
        claim = "training on unselected synthetic data does worse than the generator"
        if none:
            add(claim, tau, f"w/o selection {mean(none)} vs generator {_pct(g)}",
                difference_interval(seeds(none), g, binomial_se(g, n=n_test)), positive=False, seeds=len(seeds(none)))
        else:
            add(claim, tau, "n/a")
        for n in (n for n in table2 if n != none):
            add(f"{dataset_title(info[n])} beats the generator", tau, f"{mean(n)} vs {_pct(g)}",
                difference_interval(seeds(n), g, binomial_se(g, n=n_test)), seeds=len(seeds(n)))
            if none:
                add(f"{dataset_title(info[n])} beats no selection", tau, f"{mean(n)} vs {mean(none)}",
                    paired(n, none, tau), seeds=min(len(seeds(n)), len(seeds(none))))
        if len(label) >= 2:
            (k0, small), (k1, large) = label[0], label[-1]
            add("more beams help (label selection, retrained)", tau,
                f"beam {k1} {mean(large)} vs beam {k0} {mean(small)}", paired(large, small, tau),
                seeds=min(len(seeds(large)), len(seeds(small))))
        if t1 and "1" in t1:
            top = str(max(int(k) for k in t1))
            greedy_acc, ml = t1["1"]["most_likely"][tau], t1[top]["most_likely"][tau]
            half = 1.96 * binomial_se(greedy_acc, ml, n=n_pool)
            diff = ml - greedy_acc
            # "no better than greedy" fails only when the most likely beam is clearly better
            out.append({"claim": "the most likely beam is no better than greedy (Table 1)", "tau": tau,
                        "values": f"beam {top} most likely {_pct(ml)} vs greedy {_pct(greedy_acc)}",
                        "difference": diff, "low": diff - half, "high": diff + half, "held": not diff - half > 0})
    return out


def claims_markdown(claims: list[dict]) -> str:
    lines = ["| Claim (Sec. 5.1-5.2) | tau | numbers (%) | difference, points (95% interval) | held? |",
             "|---|---|---|---|---|"]
    for c in claims:
        diff = "n/a" if c["difference"] is None else \
            f"{100 * c['difference']:+.1f} ({100 * c['low']:+.1f}, {100 * c['high']:+.1f})"
        held = {True: "yes", False: "**no**", None: "inconclusive", "not run": "not run",
                "one seed": "one seed: no verdict"}[c["held"]]
        lines.append(f"| {c['claim']} | {c['tau']} | {c['values']} | {diff} | {held} |")
    return "\n".join(lines)


def write_results(results: dict, out_dir: str | Path) -> dict[str, Path]:
    """Write ``results.json``, ``tables.md`` and ``eigen.png`` to ``<out_dir>/<profile>/`` (``runs.results_path``)."""
    from beyond_collapse.runs import results_path, write_json_atomic

    path = lambda name: results_path(out_dir, results["profile"], name)
    paths = {"json": write_json_atomic(path("results.json"), results)}
    paths["png"] = plot_results(results, path("eigen.png"))
    paths["md"] = path("tables.md")
    paths["md"].write_text(results_markdown(results, paths["png"].name) + "\n\n"
                           + claims_markdown(paper_claims(results)) + "\n")
    return paths
