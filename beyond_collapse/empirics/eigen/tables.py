"""Tables 1-4 of the eigenvalue experiment as markdown, a Table 1 figure, and the paper's numbers.

The paper's numbers are transcribed from Tables 1-3 (Sec. 5.1-5.2), accuracies in percent at
tau = 2%, 1%, 0.5%. They are shown beside ours, never used to tune anything.
"""

from __future__ import annotations

from pathlib import Path

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
    "data_selection": (72.1, 20.2, 2.3),
    "label_selection_beam50": (84.0, 33.4, 4.9),
    "label_selection_beam25": (79.9, 28.7, 4.1),
    "label_selection_beam10": (73.9, 22.7, 2.9),
    "label_selection_beam5": (69.1, 19.0, 2.3),
    "no_selection": (60.5, 14.5, 1.7),
    "generator": (66.9, 20.2, 2.4),
}
# Table 3: data selection with more data (12M) and a stricter verifier
PAPER_TABLE3 = {
    "Data selection 2%, 1M": (72.1, 20.2, 2.3),
    "Data selection 2%, 12M": (80.1, 26.3, 3.4),
    "Data selection 1%, 12M": (95.1, 50.1, 8.6),
}

ROW_NAMES = {
    "generator": "Synthesized generator",
    "no_selection": "Greedy w/o selection",
    "data_selection": "Data selection",
}


def row_name(key: str) -> str:
    if key.startswith("label_selection_beam"):
        return f"Label selection, beam {key.removeprefix('label_selection_beam')}"
    if key.startswith("data_selection_"):
        tau, mult = key.removeprefix("data_selection_").split("_x")
        return f"Data selection {tau}, {mult}x prompts"
    return ROW_NAMES.get(key, key)


def _pct(x) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def table1_markdown(results: dict) -> str:
    taus = list(next(iter(results["table1"].values()))["oracle_best"])
    head = " | ".join(f"all beams {t}" for t in taus) + " | " + " | ".join(f"best beam {t}" for t in taus)
    lines = [f"| Beam | {head} | malformed (best beam) |", "|---" * (2 * len(taus) + 2) + "|"]
    for k, row in sorted(results["table1"].items(), key=lambda kv: int(kv[0])):
        name = "Greedy" if int(k) == 1 else f"Beam {k}"
        cells = [_pct(row["oracle_best"][t]) for t in taus] + [_pct(row["most_likely"][t]) for t in taus]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {_pct(row['malformed_most_likely'])} |")
    return "\n".join(lines)


def table2_markdown(results: dict, *, table3: bool = False) -> str:
    rows = [(k, v) for k, v in results["table2"].items() if k.startswith("data_selection_") == table3]
    if not rows and not table3:
        return "(no retrained model finished)"
    taus = list(results["generator"]["test"]["accuracy"])
    lines = ["| Data set | examples | kept | " + " | ".join(f"labels within {t}" for t in taus) + " | "
             + " | ".join(f"test {t}" for t in taus) + " |", "|---" * (2 * len(taus) + 3) + "|"]
    if not table3:
        gen = results["generator"]["test"]["accuracy"]
        lines.append(f"| {row_name('generator')} | {results['profile_config']['n_train']} (ground truth) | - | "
                     + " | ".join("100.0" for _ in taus) + " | " + " | ".join(_pct(gen[t]) for t in taus) + " |")
    for key, res in rows:
        ds = results["datasets"][key]
        acc = res["best"] or {}
        lines.append(f"| {row_name(key)} | {ds['size']} | {_pct(ds['kept_fraction'])}% | "
                     + " | ".join(_pct(ds["label_accuracy"].get(t)) for t in taus) + " | "
                     + " | ".join(_pct(acc.get(t)) for t in taus) + " |")
    return "\n".join(lines)


def table4_markdown(results: dict) -> str:
    if not results.get("table4"):
        return ""
    taus = list(results["generator"]["test"]["accuracy"])
    lines = ["| Data set | from scratch " + " | from scratch ".join(taus) + " | fine-tuned generator "
             + " | fine-tuned generator ".join(taus) + " |", "|---" * (2 * len(taus) + 1) + "|"]
    for key, tuned in results["table4"].items():
        scratch = results["table2"][key]["best"] or {}
        lines.append(f"| {row_name(key)} | " + " | ".join(_pct(scratch.get(t)) for t in taus) + " | "
                     + " | ".join(_pct(tuned["accuracy"][t]) for t in taus) + " |")
    return "\n".join(lines)


def paper_table1_markdown() -> str:
    lines = ["| Beam | all beams 2% | 1% | 0.5% | best beam 2% | 1% | 0.5% |", "|---" * 7 + "|"]
    for k, (best, top) in PAPER_TABLE1.items():
        lines.append(f"| {'Greedy' if k == 1 else f'Beam {k}'} | " + " | ".join(f"{x:.1f}" for x in best + top) + " |")
    return "\n".join(lines)


def paper_table2_markdown() -> str:
    lines = ["| Data set | 2% | 1% | 0.5% |", "|---" * 4 + "|"]
    for key, vals in PAPER_TABLE2.items():
        lines.append(f"| {row_name(key)} | " + " | ".join(f"{x:.1f}" for x in vals) + " |")
    for key, vals in PAPER_TABLE3.items():
        lines.append(f"| {key} (Table 3) | " + " | ".join(f"{x:.1f}" for x in vals) + " |")
    return "\n".join(lines)


def plot_results(results: dict, path: str | Path) -> Path:
    """Two panels: Table 1 (oracle best vs most likely beam, per tolerance) and Table 2 (bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    beams = sorted(int(k) for k in results["table1"])
    taus = list(results["table1"][str(beams[0])]["oracle_best"])
    for i, t in enumerate(taus):
        color = f"C{i}"
        ax1.plot(beams, [100 * results["table1"][str(k)]["oracle_best"][t] for k in beams], "o-", color=color,
                 label=f"oracle best, tau={t}")
        ax1.plot(beams, [100 * results["table1"][str(k)]["most_likely"][t] for k in beams], "s--", color=color,
                 label=f"most likely, tau={t}")
    ax1.set_xscale("log")
    ax1.set_xticks(beams, [str(k) for k in beams])
    ax1.minorticks_off()
    ax1.set(xlabel="beam size k", ylabel="accuracy (%)", title=f"Table 1 ({results['profile']} profile)")
    ax1.legend(fontsize=7)
    keys = ["generator"] + [k for k in results["table2"] if not k.startswith("data_selection_")]
    vals = [results["generator"]["test"]["accuracy"]] + [results["table2"][k]["best"] or {} for k in keys[1:]]
    width = 0.8 / len(taus)
    for i, t in enumerate(taus):
        ax2.bar([j + i * width for j in range(len(keys))], [100 * (v.get(t) or 0) for v in vals], width,
                label=f"tau={t}")
    ax2.set_xticks([j + width * (len(taus) - 1) / 2 for j in range(len(keys))],
                   [row_name(k).replace("Label selection, ", "label sel. ") for k in keys], rotation=30, ha="right", fontsize=7)
    ax2.set(ylabel="greedy accuracy (%)", title=f"Table 2: retrained from scratch ({results['profile']} profile)")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def results_markdown(results: dict, png_name: str | None = None) -> str:
    """All tables of one results document."""
    prof = results["profile_config"]
    m = prof["model"]
    parts = [
        f"Profile `{results['profile']}`: {m['n']}x{m['n']} matrices, d_model {m['d_model']}, "
        f"{m['enc_layers']} encoder + {m['dec_layers']} decoder layers, {results['generator']['parameters']:,} "
        f"parameters; generator trained on {prof['n_train']:,} examples ({results['generator']['examples_seen']:,} "
        f"seen); {prof['n_prompts']:,} synthesis prompts; data selection at tau = {100 * prof['select_tau']:g}%; "
        f"wall time of the last call (a resumed call skips finished units): {results['wall_time_s'] / 60:.1f} min.",
        f"**Table 1** (generator on the first {prof.get('n_table1') or prof['n_prompts']:,} synthesis prompts, "
        "fresh matrices; % correct): the oracle's best of all k beams vs the most likely beam.\n\n"
        + table1_markdown(results),
        "**Table 2** (new models trained from scratch on each synthesized data set with equal budget, greedy "
        "decoding on the test set, %; 'labels within' is the fraction of the data set's own labels within each "
        "tolerance of the truth):\n\n" + table2_markdown(results),
    ]
    if any(k.startswith("data_selection_") for k in results["table2"]):
        parts.append("**Table 3** (data selection with more prompts and a stricter verifier):\n\n"
                     + table2_markdown(results, table3=True))
    if results.get("table4"):
        parts.append("**Table 4** (fine-tuning the generator, model A, vs training from scratch):\n\n"
                     + table4_markdown(results))
    else:
        parts.append("Table 4 (fine-tuning pre-trained models) was not run in this profile.")
    if not results.get("complete", True):
        parts.append("**This run was cut short**: the tables show the units that finished; missing rows were not run.")
    if png_name:
        parts.append(f"![eigen results]({png_name})")
    return "\n\n".join(parts)


def _se(p: float, n: int) -> float:
    """Binomial standard error of an accuracy measured on n examples."""
    return (p * (1 - p) / n) ** 0.5 if n else float("nan")


def paper_claims(results: dict) -> list[dict]:
    """The four claims of Sec. 5.1-5.2, checked on one results document at each tolerance.

    Each entry: claim, tolerance, the numbers compared, their difference in binomial standard
    errors, and ``held`` (True / False / None when a needed unit is missing).
    """
    gen = results["generator"]["test"]
    n_test = gen["n"]
    cfg = results["profile_config"]
    n_pool = cfg.get("n_table1") or cfg["n_prompts"]  # Table 1 is measured on the first n_table1 prompts
    t2 = {k: v["best"] for k, v in results["table2"].items() if v.get("best")}
    t1 = results["table1"]
    beams = sorted(int(k) for k in t1)
    label_rows = sorted((int(k.removeprefix("label_selection_beam")), v) for k, v in t2.items()
                        if k.startswith("label_selection_beam"))
    out = []
    for tau in gen["accuracy"]:
        if tau not in next(iter(t1.values()))["oracle_best"]:
            continue
        g = gen["accuracy"][tau]
        se2 = lambda a, b, n=n_test: ((_se(a, n) ** 2 + _se(b, n) ** 2) ** 0.5) or float("nan")
        ns = t2.get("no_selection", {}).get(tau)
        out.append({"claim": "training on unselected synthetic data does worse than the generator",
                    "tau": tau, "values": f"w/o selection {_pct(ns)} vs generator {_pct(g)}",
                    "z": None if ns is None else (ns - g) / se2(ns, g), "held": None if ns is None else ns < g})
        sel = {k: v[tau] for k, v in t2.items() if k == "data_selection" or k.startswith("label_selection")}
        if sel and ns is not None:
            worst = min(sel, key=sel.get)
            out.append({"claim": "every selected data set beats no selection", "tau": tau,
                        "values": f"worst: {row_name(worst)} {_pct(sel[worst])} vs w/o selection {_pct(ns)}",
                        "z": (sel[worst] - ns) / se2(sel[worst], ns), "held": sel[worst] > ns})
        else:
            out.append({"claim": "every selected data set beats no selection", "tau": tau, "values": "n/a",
                        "z": None, "held": None})
        if sel:
            worst = min(sel, key=sel.get)
            out.append({"claim": "every selected data set beats the generator", "tau": tau,
                        "values": f"worst: {row_name(worst)} {_pct(sel[worst])} vs generator {_pct(g)}",
                        "z": (sel[worst] - g) / se2(sel[worst], g), "held": sel[worst] > g})
        else:
            out.append({"claim": "every selected data set beats the generator", "tau": tau, "values": "n/a",
                        "z": None, "held": None})
        if len(label_rows) >= 2:
            (k0, a0), (k1, a1) = label_rows[0], label_rows[-1]
            out.append({"claim": "more beams help (label selection, retrained)", "tau": tau,
                        "values": f"beam {k1} {_pct(a1[tau])} vs beam {k0} {_pct(a0[tau])}",
                        "z": (a1[tau] - a0[tau]) / se2(a1[tau], a0[tau]), "held": a1[tau] > a0[tau]})
        top = max(beams)
        greedy_acc = t1["1"]["most_likely"][tau]
        ml = t1[str(top)]["most_likely"][tau]
        z = (ml - greedy_acc) / se2(ml, greedy_acc, n_pool)
        out.append({"claim": "the most likely beam is no better than greedy (Table 1)", "tau": tau,
                    "values": f"beam {top} most likely {_pct(ml)} vs greedy {_pct(greedy_acc)}",
                    "z": z, "held": bool(z < 2)})
    return out


def claims_markdown(claims: list[dict]) -> str:
    lines = ["| Claim (Sec. 5.1-5.2) | tau | numbers (%) | difference / s.e. | held? |", "|---|---|---|---|---|"]
    for c in claims:
        no_signal = c["z"] is not None and c["z"] != c["z"]  # both accuracies 0 (or 100)%: nothing to compare
        z = "n/a" if c["z"] is None or no_signal else f"{c['z']:+.1f}"
        held = "no signal" if no_signal else {True: "yes", False: "**no**", None: "not run"}[c["held"]]
        lines.append(f"| {c['claim']} | {c['tau']} | {c['values']} | {z} | {held} |")
    return "\n".join(lines)
