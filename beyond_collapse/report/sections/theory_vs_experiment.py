"""Report section "Theory vs experiment": every selection strategy of both experiments on the phase diagram.

Reads the committed counts documents ``docs/results/theory_vs_experiment/{eigen,summarization}_<profile>.json``
(written by ``beyond-collapse phase export``, module ``beyond_collapse.report.phase_export``), estimates
p, phi, psi with exact intervals, p* and the margin for each data set and notion of "correct"
(``beyond_collapse.audit.phase``), compares the predicted side of the transition (Thm. 3.2 / D.3)
with the observed outcome of training on the data set, and draws one figure in the (p, psi/phi)
plane over the breakdown curve. torch-free: it never retrains.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from beyond_collapse.audit.phase import (
    PhasePoint, agreement, breakdown_ratio, observed_outcome, phase_point_from_counts,
)
from beyond_collapse.runs import read_json

TITLE = "Theory vs experiment"
NAME = "theory_vs_experiment"
PROFILE_PREFERENCE = ("paper", "cpu", "quick")
Z = 2.0  # observed differences count as "better"/"worse" beyond 2 standard errors, as in the other sections
_COLORS = {"better": "tab:green", "worse": "tab:red", "no significant difference": "tab:gray", None: "black"}
_RATIO_FLOOR, _RATIO_CEIL = 1e-3, 1e3


def find_document(out_dir: Path, experiment: str, profiles=PROFILE_PREFERENCE) -> Path | None:
    """The committed counts document of the first profile in ``profiles`` that has one."""
    for profile in profiles:
        path = Path(out_dir) / NAME / f"{experiment}_{profile}.json"
        if path.exists():
            return path
    return None


def evaluate_rows(doc: dict, *, seed: int = 0, n_draws: int = 20_000) -> list[dict]:
    """Each row of a counts document with its phase point, observed outcomes and agreement.

    Adds ``point`` (a ``PhasePoint``, or None when the strategy kept nothing), ``outcome`` (dict:
    baseline -> "better"/"worse"/"no significant difference") and ``agreement`` (vs the generator:
    "yes"/"no"/"unresolved", or "not trained").
    """
    out = []
    for i, row in enumerate(doc["rows"]):
        c = row["counts"]
        point = None
        if c["correct_kept"] + c["wrong_kept"] > 0:
            point = phase_point_from_counts(c, n_draws=n_draws, seed=seed + i)
        outcome = {b: observed_outcome(o["difference"], o["se"], Z) for b, o in row["observed"].items()}
        if point is None:
            agree = "nothing kept"
        elif "generator" not in outcome:
            agree = "not trained"
        else:
            agree = agreement(point.side, outcome["generator"])
        out.append({**row, "point": point, "outcome": outcome, "agreement": agree})
    return out


def _ci(r) -> str:
    if r.estimate is None:
        return "n/a (0 of 0)"
    return f"{r.estimate:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"


def _num(x, digits: int = 3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.{digits}f}"


def _obs(row: dict, base: str) -> str:
    o = row["observed"].get(base)
    if o is None:
        return "not trained"
    return f"{o['difference']:+.4f} ± {o['se']:.4f} ({row['outcome'][base]})"


def _dataset_label(row: dict) -> str:
    if "title" in row:  # eigen: the export writes each data set's title from its recorded rule
        return row["title"]
    return f"{row['strategy']} {row['rate']:.1%}"


_FAMILY = {"none": "no selection", "data": "data selection", "label": "label selection"}


def _reference_label(row: dict) -> str:
    ref = row["reference"]
    return f"error < {ref}" if ref.endswith("%") else ref


def table_markdown(rows: list[dict], *, real_column: bool) -> str:
    """One line per (data set, reference): the phase point, predicted side, observed outcome, agreement."""
    head = ["data set", "correct if", "n", "p [95% CI]", "phi [95% CI]", "psi [95% CI]", "p*", "margin p*-p [95% post.]",
            "P(p<p*)", "predicted", "observed vs generator", *(["observed vs 100% real"] if real_column else []),
            "agrees?"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for row in rows:
        pt: PhasePoint | None = row["point"]
        if pt is None:
            n = sum(row["counts"].values())
            cells = [_dataset_label(row), _reference_label(row), str(n), "-", "-", "-", "-", "-", "-", "nothing kept",
                     _obs(row, "generator"), *([_obs(row, "real")] if real_column else []), "nothing kept"]
        else:
            lo, hi = pt.margin_interval
            cells = [_dataset_label(row), _reference_label(row), str(pt.n), _ci(pt.p), _ci(pt.phi), _ci(pt.psi),
                     _num(pt.p_star), f"{_num(pt.margin)} [{lo:.3f}, {hi:.3f}]", f"{pt.prob_p_below_p_star:.3f}",
                     pt.side, _obs(row, "generator"), *([_obs(row, "real")] if real_column else []),
                     "**no**" if row["agreement"] == "no" else row["agreement"]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def tally(rows: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["agreement"]] = counts.get(r["agreement"], 0) + 1
    return counts


def disagreements_markdown(rows: list[dict]) -> str:
    bad = [r for r in rows if r["agreement"] == "no"]
    if not bad:
        return "No row where the prediction and a significant observed difference point opposite ways."
    lines = []
    for r in bad:
        pt = r["point"]
        o = r["observed"]["generator"]
        lines.append(f"- {_dataset_label(r)}, correct if {_reference_label(r)}: p = {pt.p.estimate:.3f}, "
                     f"p* = {_num(pt.p_star)}, predicted **{pt.side}**, but training on it is **{r['outcome']['generator']}** "
                     f"than the generator ({o['value']:.4f} vs {o['baseline']:.4f}, difference "
                     f"{o['difference']:+.4f} ± {o['se']:.4f}).")
    return "\n".join(lines)


def concordance(rows: list[dict], group) -> dict:
    """Does a larger margin p* - p go with a better trained model? Over every pair of trained rows in the
    same group (``group(row)``: same notion of correct, and for summarization the same rate), count pairs
    ordered the same way by the margin and by the observed value (concordant), the opposite way
    (discordant), and pairs tied in either. This checks the theory's ordering of strategies, which
    depends less on where the threshold of "correct" is put than the side of p* does."""
    groups: dict = {}
    for r in rows:
        pt = r["point"]
        o = r["observed"].get("generator")
        if pt is None or pt.margin is None or o is None:
            continue
        groups.setdefault(group(r), []).append((pt.margin, o["value"], r))
    out = {"concordant": 0, "discordant": 0, "tied": 0, "discordant_pairs": []}
    for key, items in groups.items():
        for i in range(len(items)):
            for j in range(i + 1, len(items)):
                (m1, v1, r1), (m2, v2, r2) = items[i], items[j]
                s = np.sign(m1 - m2) * np.sign(v1 - v2)
                if abs(m1 - m2) < 1e-12 or v1 == v2:
                    out["tied"] += 1
                elif s > 0:
                    out["concordant"] += 1
                else:
                    out["discordant"] += 1
                    out["discordant_pairs"].append((r1, r2))
    return out


def concordance_markdown(rows: list[dict], group, scope: str = "trained data sets") -> str:
    c = concordance(rows, group)
    total = c["concordant"] + c["discordant"]
    if total == 0:
        return ""
    return (f"**Ordering.** Over pairs of {scope} compared under the same notion of correct, a larger "
            f"margin p* - p goes with a better trained model in {c['concordant']} of {total} pairs "
            f"({c['concordant'] / total:.0%}; {c['tied']} tied pairs left out; 50% is what an unrelated ordering "
            "gives on average).")


def _kept(row: dict) -> int:
    return row["counts"]["correct_kept"] + row["counts"]["wrong_kept"]


def full_size_rows(rows: list[dict], tolerance: float = 0.01) -> list[dict]:
    """Rows whose kept set is within ``tolerance`` of the largest kept set: data sets of (about) equal size,
    so that a comparison between them is not a comparison of data set sizes, which p* ignores."""
    largest = max((_kept(r) for r in rows), default=0)
    return [r for r in rows if _kept(r) >= (1 - tolerance) * largest]


def correlations_markdown(doc: dict, note: str = "") -> str:
    if not doc.get("correlations"):
        return ""
    lines = ["| scores | n | Spearman rho [95% CI] | Kendall tau-b [95% CI] |", "|---|---|---|---|"]
    for c in doc["correlations"]:
        cells = []
        for m in ("spearman", "kendall"):
            e = c[m]
            cells.append("n/a (constant scores)" if e["estimate"] is None or not math.isfinite(e["estimate"])
                         else f"{e['estimate']:+.3f} [{e['ci_low']:+.3f}, {e['ci_high']:+.3f}]")
        lines.append(f"| {c['x']} vs {c['y']} | {c['n']} | {cells[0]} | {cells[1]} |")
    lines.append("")
    lines.append("Intervals: " + "; ".join(f"{m}: {doc['correlations'][0][m]['interval']}" for m in ("spearman", "kendall"))
                 + ". " + note)
    return "\n".join(lines)


def plot_phase(panels: list[tuple[str, list[dict]]], path: Path) -> Path:
    """Every (data set, reference) as a point (p, psi/phi) over the breakdown curve psi/phi = (1-p)/p.

    Colour: observed outcome against the generator; marker: the strategy family. psi/phi = 0
    (nothing wrong kept) is drawn at the bottom edge, infinity (nothing correct kept) at the top.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    markers = {"no selection": "o", "data selection": "s", "label selection": "^", "oracle": "D", "weak": "v",
               "self": "P", "random": "X"}
    fig, axes = plt.subplots(1, len(panels), figsize=(7.4 * len(panels), 4.8), squeeze=False)
    p_grid = np.linspace(1e-3, 1 - 1e-3, 400)
    for ax, (title, rows) in zip(axes[0], panels):
        curve = breakdown_ratio(p_grid)
        ax.plot(p_grid, curve, color="black", lw=1.5, label="breakdown: psi/phi = (1-p)/p")
        ax.fill_between(p_grid, curve, _RATIO_CEIL, color="tab:red", alpha=0.07)
        ax.fill_between(p_grid, _RATIO_FLOOR, curve, color="tab:green", alpha=0.07)
        used = set()
        for r in rows:
            pt = r["point"]
            if pt is None or pt.ratio is None or pt.p.estimate is None:
                continue
            family = r.get("strategy") or _FAMILY[r["selection"]]
            y = min(max(pt.ratio, _RATIO_FLOOR), _RATIO_CEIL)
            outcome = r["outcome"].get("generator")
            ax.scatter(pt.p.estimate, y, s=36, marker=markers.get(family, "o"), color=_COLORS[outcome],
                       edgecolor="black", linewidth=0.4, alpha=0.85, zorder=3)
            used.add(family)
        ax.set_yscale("log")
        ax.set_xlim(0, 1)
        ax.set_ylim(_RATIO_FLOOR * 0.7, _RATIO_CEIL * 1.4)
        ax.set_xlabel("p (generator error rate under the reference notion of correct)")
        ax.set_ylabel("psi / phi")
        ax.set_title(title, fontsize=10)
        ax.text(0.03, _RATIO_FLOOR * 2, "predicted to improve", color="tab:green", fontsize=8)
        ax.text(0.6, _RATIO_CEIL / 4, "predicted to collapse", color="tab:red", fontsize=8)
        handles = [Line2D([], [], color="black", lw=1.5, label="breakdown curve")]
        handles += [Line2D([], [], ls="", marker=markers[f], color="white", markeredgecolor="black", label=f)
                    for f in markers if f in used]
        handles += [Line2D([], [], ls="", marker="o", color=c, label=f"vs generator: {k or 'not trained'}")
                    for k, c in _COLORS.items()]
        ax.legend(handles=handles, fontsize=6.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


_INTRO = (
    "The theory (Thm. 3.2 / D.3) describes a synthesized data set by three numbers: the generator's error "
    "rate p and the verifier's keep rates phi = P(kept | correct), psi = P(kept | wrong). Training on the "
    "kept data is predicted to reach the optimum when p < p* = 1/(1 + psi/phi) and to collapse when p > p*. "
    "This section measures p, phi, psi for every synthesized data set of both experiments (exact "
    "Clopper-Pearson 95% intervals; p* and the margin p* - p with a 95% posterior interval under Jeffreys "
    "priors, via `beyond_collapse.numerics.audit`), states the predicted side (\"improves\" when "
    "P(p < p*) >= 0.95, \"collapses\" when <= 0.05, else \"undecided\"), and compares it with what training on "
    "the data set did: \"better\"/\"worse\" than the generator when the difference exceeds 2 standard errors.\n\n"
    "**The mapping is a heuristic.** The theory is about binary labels that are either right or wrong; both "
    "experiments produce labels of continuous quality (an eigenvalue vector with a relative error, a summary "
    "with a ROUGE-1 score). \"Correct\" is therefore a choice, shown for several reference tolerances or "
    "thresholds; p, phi and psi (and so the prediction) move with it. Further departures from the theory: "
    "its prediction is an infinite-sample limit for a linear model on Gaussian data, while the experiments "
    "train transformers for a fixed budget; \"improves\" means approaching the optimum, which we read as "
    "beating the generator; and a wrong label that is *close* to right still teaches something, which the "
    "binary model cannot express. Because the side of p* moves with the chosen notion of correct, each "
    "experiment also gets a check that depends less on it: among data sets judged under the same notion, "
    "does a larger margin p* - p go with a better trained model? Disagreements are reported as findings, "
    "not tuned away."
)


def _eigen_text(doc: dict, rows: list[dict], rel: str) -> str:
    m = doc["mapping"]
    acc = ", ".join(f"{k}: {v:.3f}" for k, v in doc["generator"]["accuracy"].items())
    parts = [
        f"Profile `{doc['profile']}`" + ("" if doc.get("complete", True) else " (**run cut short**: only finished "
                                         "data sets)") + f"; counts: [{rel}]({rel}).",
        "Mapping: correct = " + m["correct"] + ". Kept = " + m["kept"] + ". No selection: " + m["none"]
        + ". Data selection: " + m["data"] + ". Label selection: " + m["label"] + " (so the k candidates of "
        "one prompt are not independent examples, and at most one of them is kept: phi and psi there measure how "
        "well the oracle's choice separates right from wrong candidates, not a per-example keep rate of an iid "
        "verifier). Observed: " + m["observed"] + f". Generator test accuracy: {acc} "
        f"(n = {doc['generator']['n_test']}). The generator was trained on "
        + (f"{doc['generator']['n_train']:,} " if doc["generator"].get("n_train") else "")
        + "real examples, early-stopped on the same real validation set as every retrained model, so it is also "
        "the reference for \"training on real labels\": no other real-label model is trained.",
        table_markdown(rows, real_column=False),
        "Rows where the prediction and the observed outcome disagree:\n\n" + disagreements_markdown(rows),
        concordance_markdown(rows, lambda r: r["reference"]),
        concordance_markdown(full_size_rows(rows), lambda r: r["reference"],
                             "data sets of equal size (within 1% of the largest kept set)"),
        ("**The generator's own score vs the verifier's.** Rank correlation between each beam candidate's "
         "log-likelihood under the generator and its relative error (the oracle verifier's score); a generator "
         "that knew its good candidates would show a clearly negative correlation:\n\n"
         + correlations_markdown(doc, "Candidates of the first prompts of the pool, malformed ones left out."))
        if doc.get("correlations") else "",
    ]
    return "\n\n".join(p for p in parts if p)


def _summ_text(doc: dict, rows: list[dict], rel: str) -> str:
    m = doc["mapping"]
    parts = [
        f"Profile `{doc['profile']}`, {doc['n_synthetic']} synthetic summaries; counts: [{rel}]({rel}).",
        "Mapping: correct = " + m["correct"] + ". Kept = " + m["kept"] + ". Observed: " + m["observed"]
        + f". Generator test ROUGE-1 {doc['generator']['test_rouge1']:.4f} ({doc['generator']['n_train']} real "
        + (f"pairs); 100% real pairs {doc['real']['test_rouge1']:.4f} ({doc['real']['n_train']} pairs). Random "
           if doc.get("real") else "pairs); the model on 100% real pairs is not trained yet. Random ")
        + "selection has phi = psi by construction, so the theory treats it like no selection: p* = 1/2 and the "
        "prediction depends only on the threshold through p.",
        table_markdown(rows, real_column=True),
        "Rows where the prediction and the observed outcome disagree:\n\n" + disagreements_markdown(rows),
        concordance_markdown(rows, lambda r: (r["reference"], r.get("rate"))),
        "**Correlations (Sec. 5.3).** The paper explains why weak-verifier selection did no better than random "
        "although the weak verifier is the stronger model: its scores correlate weakly with the generator's, so "
        "its psi/phi need not be smaller. Measured on the synthetic summaries:\n\n" + correlations_markdown(
            doc, "Lower perplexity means the model finds the summary more likely, so a verifier that tracks quality "
                 "shows a negative correlation with ROUGE-1."),
        _ratio_comparison(rows),
    ]
    return "\n\n".join(p for p in parts if p)


def _ratio_comparison(rows: list[dict]) -> str:
    """psi/phi of weak vs self selection at each rate and threshold: does the better-correlated verifier
    (self) have the smaller ratio, as Sec. 5.3's explanation needs?"""
    by = {(r.get("strategy"), r.get("rate"), r["reference"]): r["point"] for r in rows}
    lines = []
    for (s, rate, ref), pt in by.items():
        if s != "weak":
            continue
        other = by.get(("self", rate, ref))
        if pt is None or other is None or pt.ratio is None or other.ratio is None:
            continue
        lines.append(f"| {rate:.1%} | {ref} | {_num(pt.ratio)} | {_num(other.ratio)} | "
                     + ("self" if other.ratio < pt.ratio else "weak" if pt.ratio < other.ratio else "tie") + " |")
    if not lines:
        return ""
    return ("psi/phi of weak-verifier and self selection (smaller is better for the theory):\n\n"
            "| rate | correct if | weak psi/phi | self psi/phi | smaller |\n|---|---|---|---|---|\n" + "\n".join(lines))


def build(ctx) -> str:
    out = ctx.section_dir(NAME)
    parts = [_INTRO]
    panels = []
    summary = []
    for experiment, title in (("eigen", "Eigenvalue experiment (Sec. 5.1-5.2)"),
                              ("summarization", "Summarization experiment (Sec. 5.3)")):
        path = find_document(ctx.out_dir, experiment)
        parts.append(f"### {title}")
        if path is None:
            parts.append(f"No committed counts for this experiment: run `beyond-collapse {'eigen run' if experiment == 'eigen' else 'summarize run'} "
                         f"--profile cpu`, then `beyond-collapse phase export {experiment} --profile cpu`.")
            continue
        doc = read_json(path)
        rows = evaluate_rows(doc, seed=ctx.seed)
        rel = path.relative_to(ctx.out_dir).as_posix()
        parts.append((_eigen_text if experiment == "eigen" else _summ_text)(doc, rows, rel))
        panels.append((f"{title}, profile {doc['profile']}", rows))
        t = tally(rows)
        order = ("yes", "no", "unresolved", "not trained", "nothing kept")
        summary.append(f"{title} (profile `{doc['profile']}`): " + ", ".join(f"{t[k]} {k}" for k in order if k in t)
                       + f" of {len(rows)} rows")
        reading = out / f"{experiment}_{doc['profile']}_reading.md"
        if reading.exists():
            parts.append(reading.read_text().strip())
    if panels:
        png = plot_phase(panels, out / "phase_diagram.png")
        rel = png.relative_to(ctx.out_dir).as_posix()
        parts.insert(1, f"![every strategy on the phase diagram]({rel})\n\nEach point is one synthesized data set "
                        "under one notion of correct; colour: observed outcome against the generator; the line is "
                        "the breakdown curve psi/phi = (1-p)/p (below it, p < p*: predicted to improve). psi/phi = 0 "
                        f"is drawn at {_RATIO_FLOOR:g}, infinity at {_RATIO_CEIL:g}.\n\nAgreement (yes / no / "
                        "unresolved, i.e. undecided prediction or no significant difference): "
                        + "; ".join(summary) + ".")
    return "\n\n".join(parts)
