"""Report section: the eigenvalue transformer with verifier-selected synthetic data (Sec. 5.1-5.2, App. B).

On ``quick`` the section runs the whole pipeline at toy size (seconds; a smoke test of every code
path, numbers meaningless) and shows the committed ``cpu``-profile results (from
``beyond-collapse eigen run --profile cpu``) beside the paper's Tables 1 and 2. On ``cpu`` or
``paper`` it runs (or resumes) that profile's pipeline and shows its results.
"""

from __future__ import annotations

from pathlib import Path

TITLE = "Eigenvalue experiment (Sec. 5.1-5.2, App. B)"
_NAME = "eigen"


def _block(results: dict, out: Path, ctx) -> str:
    """Tables, claims and the plain reading of one profile's results in ``out/<profile>/``."""
    from beyond_collapse.empirics.eigen.tables import claims_markdown, paper_claims, results_markdown

    prefix = (out / results["profile"]).relative_to(ctx.out_dir).as_posix()
    text = results_markdown(results, f"{prefix}/eigen.png")
    text += (f"\n\nClaims of Sec. 5.1-5.2 checked on these numbers (difference of the mean over seeds, with a 95% "
             f"interval from the seeds' spread and the test set's binomial error; 'inconclusive' when it covers "
             f"0):\n\n{claims_markdown(paper_claims(results))}\n\n"
             f"Results: [{prefix}/results.json]({prefix}/results.json).")
    reading = out / results["profile"] / "reading.md"
    if reading.exists():
        text += "\n\n" + reading.read_text().strip()
    return text


def build(ctx) -> str:
    from beyond_collapse.empirics.eigen.experiments import run_pipeline
    from beyond_collapse.empirics.eigen.tables import paper_table1_markdown, paper_table2_markdown, write_results
    from beyond_collapse.runs import read_json

    out = ctx.section_dir(_NAME)
    results = run_pipeline(ctx.profile, ctx.runs_folder(_NAME), seed=ctx.seed, progress=False)
    write_results(results, out)
    parts = [
        "Sec. 5.1-5.2 trains a transformer to predict the eigenvalues of symmetric matrices (the generator), "
        "labels fresh matrices with it, keeps labels by an oracle verifier (relative L1 error below tau), "
        "and trains new models from scratch on each synthesized data set, five times larger than the "
        "generator's real training set (Table 2; Table 3 and the scaling curve vary that ratio). Every model is "
        "early-stopped on the same real validation set. Data selection keeps greedy "
        "labels within tau; label selection keeps, of k beams, the one closest to the truth; no selection "
        "keeps all greedy labels. Choices the paper leaves open and the reduced `cpu` problem are recorded "
        "in docs/REPRODUCTION.md, section \"Eigenvalue experiment (Sec. 5.1-5.2, App. B)\".",
        f"### Profile `{ctx.profile}` (computed now)",
        _block(results, out, ctx),
    ]
    if ctx.profile == "quick":
        committed = out / "cpu" / "results.json"
        if committed.exists():
            parts += ["### Profile `cpu` (committed results of `beyond-collapse eigen run --profile cpu`)",
                      _block(read_json(committed), out, ctx)]
        else:
            parts.append("No committed `cpu`-profile results: run `beyond-collapse eigen run --profile cpu`.")
    parts += ["### The paper's numbers (5x5 matrices, 4+1 layers, 512 dimensions; Tables 1-3)",
              "Table 1 (generator, test set):\n\n" + paper_table1_markdown(),
              "Tables 2 and 3 (retrained from scratch on 1M / 12M synthesized examples, best of five seeds):\n\n"
              + paper_table2_markdown()]
    return "\n\n".join(parts)
