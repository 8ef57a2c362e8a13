"""Verifier audit: from a hand-labelled sample of synthesized examples to a collapse-risk verdict.

A user checks a few hundred synthesized examples by hand and records, for each one, the true
label y, the synthetic label y' and whether the verifier kept it (q = 1). This module estimates
the paper's pruning parameters from that sample and says whether training on the
verifier-filtered data is predicted to reach the optimum (p < p*) or to collapse (p > p*).

Model (Sec. 3.2, App. D.3). Rows are iid; p = P(y' != y) (eq. (2)); phi_k = P(q = 1 | y = y' = k)
and psi_kl = P(q = 1 | y = k, y' = l) for l != k (eqs. (3), (15)). The likelihood of the sample
factorizes into one binomial per parameter (the class frequencies are a nuisance factor that
does not involve them), so:

* estimates are proportions k/n with exact Clopper-Pearson intervals (``intervals.py``);
* under independent Beta(a, b) priors the posterior is a product of independent Betas
  (Beta-binomial conjugacy), sampled by Monte Carlo with an explicit seed.

Breakdown point. For the symmetric RLHF-type strategy, p* = 1/(1 + psi/phi) (Thm. 3.2 / D.3).
For class-dependent parameters it depends on the Gram structure of Condition D.1 (App. E.3):

* ``condition="pooled"`` (default; b = -a, the Gaussian mixture): Prop. E.3 needs
  N10 + N01 < N11 + N00, i.e. with eq. (14) p (psi01 + psi10) < (1 - p)(phi0 + phi1): the
  symmetric formula with phi and psi replaced by the class averages;
* ``condition="per-class"`` (b = 0): Prop. E.4 needs N10 < N11 and N01 < N00, i.e.
  p < min(phi0 / (phi0 + psi01), phi1 / (phi1 + psi10)) for both classes to be learned.

Both reduce to the symmetric p* when phi0 = phi1 and psi01 = psi10. The model-free check gives the
posterior probability of the same inequality written on the kept rows alone (kept error rate
below 1/2, pooled or in each true class), which needs neither balanced classes nor a
class-independent error rate.

Symmetry (phi0 = phi1 and psi01 = psi10) is checked with two two-sided Fisher exact tests on the
2x2 tables (class x kept) of correct rows and of wrong rows, Bonferroni-combined at level
``symmetry_alpha`` (each test at symmetry_alpha / 2). Not rejecting symmetry is not proof of it;
``model="class"`` forces the class-dependent model.

Sample size to decide. If the posterior probability of p < p* lies strictly between
1 - decision_level and decision_level, the audit reports the number of rows n' at which a margin
m = p* - p with the current posterior mean and a posterior sd scaling as 1/sqrt(n) would give a
decision: n' = n (z sd / |mean|)^2, z = Phi^{-1}(decision_level) (normal approximation of the
margin's posterior).

Modules: ``reading`` (audit files and binary columns), ``estimate`` (rates, symmetry tests,
posterior, verdict: ``audit``), ``results`` (the result types and their text form),
``calibration`` (simulated audits with known truth), ``phase`` (a selection strategy on the phase
diagram, rank correlations of scores), ``commands`` (the ``audit*`` command-line commands).
"""

from beyond_collapse._lazy import lazy_exports

_EXPORTS = {
    "audit_calibration": "beyond_collapse.audit.calibration",
    "supervised_audit_calibration": "beyond_collapse.audit.calibration",
    "supervised_truth": "beyond_collapse.audit.calibration",
    "audit": "beyond_collapse.audit.estimate",
    "parse_binary": "beyond_collapse.audit.reading",
    "read_audit_table": "beyond_collapse.audit.reading",
    "AuditResult": "beyond_collapse.audit.results",
    "Posterior": "beyond_collapse.audit.results",
    "RateEstimate": "beyond_collapse.audit.results",
    "SymmetryTest": "beyond_collapse.audit.results",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
