"""Mutation testing of the closed forms and finite-N solvers against the claims registry (``make mutation``).

Each mutation is a plausible slip in a formula (a sign in eq. (19), phi and psi swapped, the printed
sqrt(d (1 - |mu|^2)) for sqrt(d / (1 - |mu|^2)), an off-by-one in the success sum, the sign of rho in
Phi2, a missing 1/2 in eq. (14), ...). ``run_mutation`` copies the package into a scratch directory,
applies one textual edit, and runs ``beyond-collapse check --json`` (and optionally pytest files) on
the mutated copy in a fresh interpreter. The mutation is *killed* when a claim's status differs from
the recorded one (or a check crashes, or a test fails), and *survives* otherwise: a survivor is a
slip the registry would not notice.

Why a hand-written list rather than mutmut or cosmic-ray: the code under test is largely numba
kernels (``theory/special.py``, ``numerics/kkt.py``, ``numerics/success.py``, ``numerics/logistic.py``);
a mutant of a jitted function needs a recompilation per mutant (seconds to a minute each), and
operator-level generators spend most of their budget on mutants of input validation and of
accuracy branches (rounding guards, tail switches) that change no value the paper speaks about.
A list of formula-level slips, each stated in the paper's terms, keeps the run to minutes and
makes every survivor a finding about a claim.

Command line: ``python -m beyond_collapse.proofs_check.mutation [--only ID ...] [--all-claims]
[--tests] [--out PATH]`` writes a JSON summary (kill rate, survivors) and prints a table. With
``--tests`` each result that the claims did not kill records the unit-test run (``tests``: files,
failed, pytest's last line), and the summary lists the mutants killed only by the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # .../beyond_collapse

# Claims run against mutants of each file (default; ``--all-claims`` runs the whole registry).
_RLHF = ("D.3-bounds", "D.3-sides", "D.3-t-limit", "D.3-zero-half", "T3.2-limit-accuracy", "E.5-prop", "E.4-finite-N",
         "E.5-per-class-printed", "S3.4-oracle", "S3.4-moderate-ratio", "S3.4-boundary-cases", "D.2-bijection",
         "T3.2-fits-probability", "D.14-class-dependent", "E.3-pooled-class-dependent", "E.4-per-class-breakdown")
_SUPERVISED = ("S3.4-theory-isotropic", "D.6-theory-mixture", "D.6-extreme-tails", "S3.4-decoupling")
_SPECIAL = ("D.6-extreme-tails", "D.6-theory-mixture", "S3.4-decoupling", "D.6-phi2-degenerate")
_SUCCESS = ("E.4-finite-N", "E.5-per-class-printed", "E.3-finite-N-exact", "E.4-finite-N-exact")
_KKT = ("E.31-finite", "E.42-convergence", "E.3-fresh-points", "E.3-kept-rows-threshold", "D.5-remark")
_FITS = ("E.1-four-values", "E.31-finite", "E.2-accuracy", "E.34-s-t-sign", "E.3-finite-gamma", "T3.2-simulation",
         "T3.2-fits-probability")
_SAMPLERS = ("D.6-variance-corrected", "D.9-gram", "T3.2-simulation", "T3.2-fits-probability")
CLAIMS_BY_FILE = {
    "theory/rlhf.py": _RLHF,
    "theory/supervised.py": _SUPERVISED,
    "theory/special.py": _SPECIAL,
    "numerics/success.py": _SUCCESS,
    "numerics/kkt.py": _KKT,
    "numerics/logistic.py": _FITS,
    "numerics/samplers.py": _SAMPLERS,
}
# Test files run with ``--tests`` (the unit tests of the mutated module).
TESTS_BY_FILE = {
    "theory/rlhf.py": ("tests/theory/test_rlhf.py",),
    "theory/supervised.py": ("tests/theory/test_supervised.py",),
    "theory/special.py": ("tests/theory/test_special.py",),
    "numerics/success.py": ("tests/numerics/test_success.py", "tests/numerics/test_success_per_class.py"),
    "numerics/kkt.py": ("tests/numerics/test_kkt.py",),
    "numerics/logistic.py": ("tests/numerics/test_logistic.py",),
    "numerics/samplers.py": ("tests/numerics/test_samplers.py",),
}


@dataclass(frozen=True)
class Mutation:
    id: str
    file: str  # relative to the package directory
    old: str  # must occur exactly once in the file
    new: str
    what: str  # the slip, in the paper's terms


MUTATIONS: tuple[Mutation, ...] = (
    # --- theory/rlhf.py: Thm. 3.2 / D.3, eqs. (14), (19), Props. E.3-E.4 ---
    Mutation("pstar-swap", "theory/rlhf.py", 'return scalar_or_array(_ratio_point(phi, psi, "phi", "psi"))',
             'return scalar_or_array(_ratio_point(psi, phi, "phi", "psi"))', "p* = psi/(phi+psi): phi and psi swapped"),
    Mutation("pminus-sign-t", "theory/rlhf.py", "_ratio_point((1 - t) * phi, (1 + t) * psi",
             "_ratio_point((1 + t) * phi, (1 + t) * psi", "eq. (19) p-*(t): sign of t in (1 - t)"),
    Mutation("pminus-t-for-minus-t", "theory/rlhf.py", "_ratio_point((1 - t) * phi, (1 + t) * psi",
             "_ratio_point((1 + t) * phi, (1 - t) * psi", "eq. (19): p-*(t) computed with -t (gives p+*(t))"),
    Mutation("pplus-sign-t", "theory/rlhf.py", "_ratio_point((1 + t) * phi, (1 - t) * psi",
             "_ratio_point((1 + t) * phi, (1 + t) * psi", "eq. (19) p+*(t): sign of t in (1 - t)"),
    Mutation("limit-acc-tie", "theory/rlhf.py", "acc = np.where(bad < good, 1.0, np.where(bad > good, 0.0, 0.5))",
             "acc = np.where(bad <= good, 1.0, np.where(bad > good, 0.0, 0.5))", "limit accuracy 1 instead of 1/2 at p = p*"),
    Mutation("limit-acc-phi-psi", "theory/rlhf.py", "    bad = p * psi\n    good = (1 - p) * phi",
             "    bad = p * phi\n    good = (1 - p) * psi", "limit accuracy with phi and psi swapped"),
    Mutation("eq14-missing-half", "theory/rlhf.py", "out[..., 0, 0] = phi0 * (1 - p) / 2",
             "out[..., 0, 0] = phi0 * (1 - p)", "eq. (14): missing 1/2 in p_00"),
    Mutation("eq14-psi-index", "theory/rlhf.py", "out[..., 0, 1] = psi01 * p / 2", "out[..., 0, 1] = psi10 * p / 2",
             "eq. (14): psi_10 for psi_01"),
    Mutation("pooled-t-sign", "theory/rlhf.py", "out = (1 + t) * bad < (1 - t) * good",
             "out = (1 - t) * bad < (1 + t) * good", "(55) with the slack on the wrong side"),
    Mutation("per-class-pairing", "theory/rlhf.py", "good = np.stack([kept[..., 0, 0], kept[..., 1, 1]], axis=-1)",
             "good = np.stack([kept[..., 1, 1], kept[..., 0, 0]], axis=-1)", "Prop. E.4 pairing (the printed erratum)"),
    Mutation("per-class-psi-index", "theory/rlhf.py", 'scalar_or_array(_ratio_point(phi0, psi01, "phi0", "psi01"))',
             'scalar_or_array(_ratio_point(phi0, psi10, "phi0", "psi01"))', "per-class p*: psi_10 for psi_01"),
    Mutation("pooled-pstar-mix", "theory/rlhf.py", "_ratio_point(phi0 + phi1, psi01 + psi10",
             "_ratio_point(phi0 + psi01, phi1 + psi10", "pooled p*: keep rates mixed up"),
    Mutation("bijection-psi", "theory/rlhf.py", "psi = 2 * p01 / p_out", "psi = 2 * p01 / (1 - p_out)",
             "Remark D.2 inverse: psi divided by 1 - p"),
    # --- theory/supervised.py: Sec. 3.4 and App. D.6 ---
    Mutation("iso-p-half", "theory/supervised.py", "p = tg / math.pi", "p = tg / (2 * math.pi)", "p = theta_gen/(2 pi)"),
    Mutation("iso-phi-denominator", "theory/supervised.py", "phi = _snap(2 * math.pi - tg - tp - t) / (2 * (math.pi - tg))",
             "phi = _snap(2 * math.pi - tg - tp - t) / (2 * math.pi - tg)", "isotropic phi: missing factor 2"),
    Mutation("iso-psi-sign", "theory/supervised.py", "psi = _snap(tg + tp - t) / (2 * tg)", "psi = _snap(tg - tp + t) / (2 * tg)",
             "isotropic psi: signs of theta_prune and theta"),
    Mutation("mix-printed-variance", "theory/supervised.py",
             "mu_norm, d, theta_gen, theta_prune, theta, lambda mu, d: np.sqrt(d / (1 - mu**2)))",
             "mu_norm, d, theta_gen, theta_prune, theta, lambda mu, d: np.sqrt(d * (1 - mu**2)))",
             "c = -|mu| cos sqrt(d (1 - |mu|^2)) (the printed eq. (23) variance)"),
    Mutation("mix-cgen-sign", "theory/supervised.py", "c_gen = -mu * np.cos(tg) * s", "c_gen = mu * np.cos(tg) * s",
             "c_gen without its minus sign"),
    Mutation("mix-rho-sign", "theory/supervised.py", "return c_gen, c_prune, np.cos(t)", "return c_gen, c_prune, -np.cos(t)",
             "sign of rho = cos theta in Phi2"),
    Mutation("mix-phi-rho", "theory/supervised.py", "phi = bivariate_normal_cdf(-c_prune, -c_gen, rho) / p_right",
             "phi = bivariate_normal_cdf(-c_prune, -c_gen, -rho) / p_right", "phi: sign of rho"),
    Mutation("mix-psi-denominator", "theory/supervised.py", "psi = bivariate_normal_cdf(c_prune, c_gen, rho) / p\n",
             "psi = bivariate_normal_cdf(c_prune, c_gen, rho) / p_right\n", "psi divided by 1 - p"),
    Mutation("mix-psi-printed", "theory/supervised.py", "psi = bivariate_normal_cdf(c_prune, c_gen, rho) / p\n",
             "psi = (normal_cdf(c_prune) + p - bivariate_normal_cdf(c_prune, c_gen, rho)) / p\n",
             "the printed App. D.6 psi (a union)"),
    # --- theory/special.py: Phi and Phi2 ---
    Mutation("phi-sign", "theory/special.py", "return 0.5 * math.erfc(-x * _SQRT1_2)", "return 0.5 * math.erfc(x * _SQRT1_2)",
             "Phi(x) computed as Phi(-x) for x > -1"),
    Mutation("bvn-base", "theory/special.py", "    base = _phi(h) * _phi(k)\n", "    base = _phi(h) * _phi(h)\n",
             "Phi2 base term Phi(h) Phi(h)"),
    Mutation("bvn-rho1", "theory/special.py", "    if rho >= 1.0:\n        return _phi(min(h, k))",
             "    if rho >= 1.0:\n        return _phi(max(h, k))", "Phi2 at rho = 1: max for min"),
    # --- numerics/success.py: exact P(success) of Props. E.3 / E.4 ---
    Mutation("success-off-by-one", "numerics/success.py", "thr = kk / 2.0 - 1.0 if parity == 0 else (kk - 1.0) / 2.0",
             "thr = kk / 2.0 if parity == 0 else (kk - 1.0) / 2.0", "success sum: ties N_good = N_bad count as success"),
    Mutation("success-odd-off-by-one", "numerics/success.py", "thr = kk / 2.0 - 1.0 if parity == 0 else (kk - 1.0) / 2.0",
             "thr = kk / 2.0 - 1.0 if parity == 0 else (kk + 1.0) / 2.0", "success sum: off by one for odd K"),
    Mutation("per-class-u", "numerics/success.py", "u = min(s0 / (1.0 - s1), 1.0)", "u = min(s0 / (1.0 + s1), 1.0)",
             "per-class sum: conditional class-0 rate 1 + s1"),
    # --- numerics/kkt.py: eq. (31) at finite gamma ---
    Mutation("kkt-R-sign", "numerics/kkt.py", "c = (1.0 - a) / gamma", "c = (1.0 + a) / gamma",
             "eq. (31): R = 1 + a for 1 - a"),
    Mutation("kkt-b-sign", "numerics/kkt.py", "L[1, 0] = b / np.sqrt(a)", "L[1, 0] = -b / np.sqrt(a)",
             "eq. (31): sign of b in the Gram matrix"),
    # --- numerics/logistic.py: eq. (1) ---
    Mutation("ridge-half", "numerics/logistic.py", "return f, g / n + lam * w", "return f, g / n + 0.5 * lam * w",
             "eq. (1) gradient: lam/2 for lam (ridge term differentiated wrongly)"),
    # --- numerics/samplers.py: App. D.1 / D.6 data ---
    Mutation("sampler-variance", "numerics/samplers.py", "return float(np.sqrt((1.0 - mu_norm**2) / d))",
             "return float(np.sqrt(1.0 / ((1.0 - mu_norm**2) * d)))", "the printed eq. (23) variance in the sampler"),
    Mutation("prune-phi-psi", "numerics/samplers.py", "keep_prob = np.where(y_true == y_syn, phi_k[k], psi_k[k])",
             "keep_prob = np.where(y_true == y_syn, psi_k[k], phi_k[k])", "RLHF pruning with phi and psi swapped"),
)


def apply(mutation: Mutation, root: Path) -> None:
    """Apply ``mutation`` to the package copy under ``root`` (``root/beyond_collapse``)."""
    path = root / "beyond_collapse" / mutation.file
    text = path.read_text()
    count = text.count(mutation.old)
    if count != 1:
        raise ValueError(f"mutation {mutation.id!r}: expected exactly one occurrence in {mutation.file}, found {count}")
    path.write_text(text.replace(mutation.old, mutation.new))


def run_mutation(mutation: Mutation, scratch: Path, *, all_claims: bool = False, tests: bool = False,
                 timeout: float = 900.0) -> dict:
    """Run the claims (and, with ``tests``, the unit tests) on a copy of the package with ``mutation`` applied."""
    src = scratch / "src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(PACKAGE, src / "beyond_collapse", ignore=shutil.ignore_patterns("__pycache__"))
    apply(mutation, src)
    env = _env(src, scratch)
    claims = [] if all_claims else list(CLAIMS_BY_FILE[mutation.file])
    cmd = [sys.executable, "-m", "beyond_collapse.cli", "check", "--json"] + [a for c in claims for a in ("--claim", c)]
    t0 = time.perf_counter()
    out = {"id": mutation.id, "file": mutation.file, "what": mutation.what, "claims_run": claims or "all"}
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=scratch)
    except subprocess.TimeoutExpired:
        out.update(killed=True, killed_by_claims=True, by=["timeout"], seconds=round(time.perf_counter() - t0, 1))
        return out
    by = []
    try:
        rows = json.loads(proc.stdout)
        by = [f"{r['id']}: {r['status']} (expected {r['expected']})" for r in rows if not r["ok"]]
    except json.JSONDecodeError:
        by = [f"check crashed (exit {proc.returncode}): {' '.join(proc.stderr.split()[-30:])}"]
    out["killed_by_claims"] = bool(by)
    if tests and not by:
        out["tests"] = run_tests(TESTS_BY_FILE[mutation.file], src, scratch, timeout=timeout)
        if out["tests"]["failed"]:
            by.append(f"pytest {', '.join(out['tests']['files'])}: {out['tests']['summary']}")
    out.update(killed=bool(by), by=by, seconds=round(time.perf_counter() - t0, 1))
    return out


def _env(src: Path, scratch: Path) -> dict:
    """Environment of a run on the package copy under ``src``: it comes first on the import path, and numba
    compiles into a cache of its own (a mutant must not reuse the original's compiled kernels)."""
    return {**os.environ, "PYTHONPATH": str(src), "NUMBA_CACHE_DIR": str(scratch / "numba_cache"),
            "PYTHONDONTWRITEBYTECODE": "1"}


def run_tests(test_files, src: Path, scratch: Path, *, timeout: float = 900.0, repo: Path = PACKAGE.parent) -> dict:
    """Run pytest on ``test_files`` (relative to ``repo``) against the package copy under ``src``.

    The working directory is ``scratch``, not the repository: ``python -m`` puts the working directory first on
    the import path, so from the repository the tests would import the unmutated package (the first ``--tests``
    run of the survivors did exactly that). Returns ``{"files", "failed", "summary"}``; a timeout counts as failed.
    """
    files = [str(t) for t in test_files]
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *(str(repo / t) for t in files)]
    try:
        res = subprocess.run(cmd, env=_env(src, scratch), capture_output=True, text=True, timeout=timeout, cwd=scratch)
    except subprocess.TimeoutExpired:
        return {"files": files, "failed": True, "summary": f"timeout after {timeout:.0f} s"}
    return {"files": files, "failed": res.returncode != 0, "summary": " ".join(res.stdout.strip().splitlines()[-1:])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", metavar="ID", help="run only these mutations")
    parser.add_argument("--all-claims", action="store_true", help="run the whole registry on every mutant (slow)")
    parser.add_argument("--tests", action="store_true", help="also run the mutated module's unit tests on survivors")
    parser.add_argument("--out", default="runs/mutation/mutation.json", help="JSON summary (default: %(default)s)")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m.id in args.only]
    unknown = set(args.only or ()) - {m.id for m in MUTATIONS}
    if unknown:
        print(f"mutation must be one of {', '.join(m.id for m in MUTATIONS)}, got {sorted(unknown)}", file=sys.stderr)
        return 2
    results = []
    with tempfile.TemporaryDirectory(prefix="bc-mutation-") as tmp:
        for i, m in enumerate(chosen, 1):
            r = run_mutation(m, Path(tmp), all_claims=args.all_claims, tests=args.tests)
            results.append(r)
            first = r["by"][0] if r["by"] else ""
            print(f"[{i}/{len(chosen)}] {m.id:24s} {'killed  ' if r['killed'] else 'SURVIVED'} {r['seconds']:6.1f} s  "
                  f"{first[:110]}", flush=True)
    killed = sum(r["killed"] for r in results)
    survivors = [r["id"] for r in results if not r["killed"]]
    by_tests = [r["id"] for r in results if r["killed"] and not r["killed_by_claims"]]
    summary = {"mutations": len(results), "killed": killed, "kill_rate": killed / max(len(results), 1),
               "survivors": survivors, "killed_by_claims": killed - len(by_tests), "killed_only_by_tests": by_tests,
               "all_claims": args.all_claims, "tests": args.tests, "results": results}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(".tmp")
    tmp_out.write_text(json.dumps(summary, indent=2))
    tmp_out.replace(out)
    tests_note = f" ({len(by_tests)} only by the unit tests: {', '.join(by_tests)})" if by_tests else ""
    print(f"\n{killed} of {len(results)} mutations killed ({summary['kill_rate']:.0%}){tests_note}; survivors: "
          f"{', '.join(survivors) or 'none'}; summary in {out}")
    return 0 if not survivors else 1


if __name__ == "__main__":
    sys.exit(main())
