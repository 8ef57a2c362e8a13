"""Report section: the news-summarization experiment (Sec. 5.3, App. C, Figure 4).

On ``quick`` the section runs the whole pipeline at toy size (a smoke test of every code path) and
shows the committed ``cpu``-profile results (from ``beyond-collapse summarize run --profile cpu``)
next to it; on ``cpu`` or ``paper`` it runs (or resumes) that profile's pipeline.
"""

from __future__ import annotations

from pathlib import Path

TITLE = "Summarization experiment (Sec. 5.3, App. C)"
_NAME = "summarization"


def _block(results: dict, cfg, files: dict[str, Path], ctx) -> str:
    from beyond_collapse.empirics.summarization.pipeline import claims_markdown, table_markdown

    fig = files["figure"].relative_to(ctx.out_dir).as_posix()
    scores = files["scores"].relative_to(ctx.out_dir).as_posix()
    res = files["results"].relative_to(ctx.out_dir).as_posix()
    return (f"![Figure 4, profile {cfg.profile}]({fig})\n\n"
            f"Test ROUGE-1 at the end of the epoch ({results['n_test']} test pairs, {results['n_train']} "
            f"synthesized training summaries):\n\n{table_markdown(results, cfg)}\n"
            f"Paired comparisons over the same test articles:\n\n{claims_markdown(results['claims'])}\n"
            f"Results: [{res}]({res}); per-example scores of the synthetic set (ROUGE-1, perplexity under "
            f"the generator and the weak verifier, selected flags): [{scores}]({scores}).\n")


def build(ctx) -> str:
    from beyond_collapse.empirics.summarization.pipeline import (
        config_from_record, get_profile, load_results, output_paths, paper_claims, run_pipeline, write_outputs,
    )

    out = ctx.section_dir(_NAME)
    cfg = get_profile(ctx.profile, seed=ctx.seed)
    results = run_pipeline(cfg, ctx.runs_folder(_NAME))
    files = write_outputs(results, cfg, out)
    results["claims"] = paper_claims(results, cfg)
    parts = [
        "Sec. 5.3 fine-tunes a base model on 12.5% of the training pairs (the generator), greedily "
        "summarizes every training article with it, keeps 12.5/25/50% of the synthetic pairs by "
        "oracle (highest ROUGE-1), weak verifier (lowest summary perplexity under another model), "
        "self (lowest perplexity under the generator) or random selection, retrains the base on each "
        "selection and reports test ROUGE-1 (Figure 4). See docs/REPRODUCTION.md, section "
        "\"Summarization experiment (Sec. 5.3, App. C)\", for the offline base, the weak verifier and "
        "the choices the paper leaves open.",
        f"### Profile `{ctx.profile}` (computed now)",
        *(["The `quick` profile is a smoke test of every code path (seconds, a 20k-parameter model "
           "trained on 48 pairs): its models do not learn to summarize, so ROUGE-1 near 0 and "
           "\"no signal\" verdicts are expected there. The `cpu` results below are the experiment."]
          if ctx.profile == "quick" else []),
        _block(results, cfg, files, ctx),
    ]
    if ctx.profile == "quick":
        committed = load_results(out, "cpu")
        if committed is None:
            parts.append("No committed `cpu`-profile results: run `beyond-collapse summarize run --profile cpu`.")
        else:
            cpu_cfg = config_from_record(committed["config"])  # the run's own settings, not today's profile
            parts += ["### Profile `cpu` (committed results)",
                      _block(committed, cpu_cfg, output_paths(out, "cpu"), ctx)]
            findings = out / "FINDINGS.md"
            if findings.exists():
                rel = findings.relative_to(ctx.out_dir).as_posix()
                parts.append(f"Reading of these results against the paper's claims: [{rel}]({rel}).")
    return "\n\n".join(parts)
