"""Generations: iterated retraining on verifier-selected synthetic data, simulated and predicted at finite N.

Simulation (:func:`simulate_generations`). In the balanced isotropic Gaussian mixture (Sec. 3.1,
E||x||^2 = 1) generation t's classifier ``w_t`` labels fresh inputs, ``y' = 1[x . w_t > 0]``
(eq. (12)); a verifier keeps some of them -- ``"none"``, ``"rlhf"`` (keep rates phi, psi on the
true label, eq. (3), Assumption 3.1) or ``"supervised"`` (a fixed direction ``w_prune``, eq. (5));
a fraction ``real_fraction`` of each generation's N inputs carries its true label and is never
filtered (real data, as in Bertrand et al., ICLR 2024); and ``w_{t+1}`` minimises eq. (1) on
this generation's data (``"replace"``) or on every generation's data so far (``"accumulate"``, as
in Gerstgrasser et al. 2024). Generation 0 is a unit vector at angle ``theta_gen0`` to ``mu``.
Accuracies are closed forms of the weights (``accuracy_vs_bayes``), so they carry no test noise.

Prediction (:func:`predicted_bayes_probability`). In the limit of Thm. 3.2 every retrained model
is at the Bayes direction or the flipped one (:mod:`beyond_collapse.theory.generations`). At
finite N the sign is random: the model of generation t + 1 is at the Bayes direction iff its
training data hold fewer kept-wrong than kept-right-plus-real examples (Prop. E.3's event,
counted under the multinomial sampling of App. D.3). The probability of that event is exact here:
``success_probability`` for replace without real data, else the exact law of the margin
(:func:`margin_pmf`), propagated over generations (a two-state Markov chain in replace mode, the
law of the cumulative margin in accumulate mode). Valid where the two-state picture is: the
retrained models' error rates are close to the limit's ``Phi(-b)`` and ``Phi(b)`` (N >> d) and the
verifier acts through (phi, psi) alone. It predicts P(model t is on the Bayes side), hence the
limit accuracy, not the finite-N accuracy level within a state (that needs learning curves).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from beyond_collapse._validation import check_choice
from beyond_collapse.theory.generations import MODES, mixture_error_rate, mixture_snr

VERIFIERS = ("none", "rlhf", "supervised")

__all__ = ["VERIFIERS", "GenerationsConfig", "StateRates", "learning_curve_trajectory", "margin_pmf",
           "predicted_bayes_probability", "simulate_generations", "state_rates"]


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_real(name: str, value, low: float, high: float, *, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    if value < low or value > high or (low_open and value == low):
        raise ValueError(f"{name} must lie in {'(' if low_open else '['}{low:g}, {high:g}], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class GenerationsConfig:
    """One setting of the generations loop (module docstring). Angles in radians.

    ``theta`` is the angle between the supervised verifier and the initial generator; ``None``
    takes the independent coupling ``arccos(cos theta_gen0 cos theta_prune)`` (Fig. 2's default).
    ``phi``, ``psi`` are used by ``verifier="rlhf"`` only; ``theta_prune``, ``theta`` by
    ``"supervised"`` only.
    """

    n: int                        # inputs per generation (real + synthetic)
    d: int                        # dimension
    mu_norm: float                # ||mu||, E||x||^2 = 1
    lam: float                    # ridge lambda of eq. (1)
    generations: int              # retrained generations T
    theta_gen0: float             # angle of the initial generator to mu
    verifier: str = "none"
    phi: float = 1.0
    psi: float = 1.0
    theta_prune: float = 0.0
    theta: float | None = None
    mode: str = "replace"
    real_fraction: float = 0.0

    def __post_init__(self):
        _check_int("n", self.n, 1)
        _check_int("d", self.d, 3)
        _check_real("mu_norm", self.mu_norm, 0.0, 1.0, low_open=True)
        if self.mu_norm >= 1:
            raise ValueError(f"mu_norm must lie in (0, 1), got {self.mu_norm!r}")
        _check_real("lam", self.lam, 0.0, math.inf, low_open=True)
        _check_int("generations", self.generations, 1)
        _check_real("theta_gen0", self.theta_gen0, 0.0, math.pi)
        check_choice("verifier", self.verifier, VERIFIERS)
        _check_real("phi", self.phi, 0.0, 1.0)
        _check_real("psi", self.psi, 0.0, 1.0)
        _check_real("theta_prune", self.theta_prune, 0.0, math.pi)
        if self.theta is not None:
            _check_real("theta", self.theta, 0.0, math.pi)
        check_choice("mode", self.mode, MODES)
        _check_real("real_fraction", self.real_fraction, 0.0, 1.0)
        if self.verifier == "rlhf" and self.phi + self.psi == 0 and self.n_real == 0:
            raise ValueError("phi and psi must not both be 0 without real data: nothing would be kept")

    @property
    def n_real(self) -> int:
        """Real examples per generation, ``round(real_fraction * n)``."""
        return int(round(self.real_fraction * self.n))

    @property
    def pruner_angle(self) -> float:
        """Angle between the supervised verifier and the initial generator."""
        if self.theta is not None:
            return float(self.theta)
        return float(np.arccos(np.clip(np.cos(self.theta_gen0) * np.cos(self.theta_prune), -1.0, 1.0)))

    def to_dict(self) -> dict:
        return asdict(self)


def simulate_generations(cfg: GenerationsConfig, rng: np.random.Generator) -> dict:
    """Run the loop of the module docstring once; per generation t = 0..T (0: the initial generator):

    ``accuracy`` (against Bayes), ``error_rate`` (``P(y' != y)`` of the model used as generator,
    closed form), ``angle`` (to mu); and for t >= 1: ``kept`` (synthetic examples kept),
    ``kept_wrong`` (kept with ``y' != y``), ``train_size`` (rows of eq. (1), kept or not).
    Same ``rng`` state, same numbers.
    """
    from beyond_collapse.numerics.bayes import accuracy_vs_bayes, mixture_accuracy
    from beyond_collapse.numerics.experiments._common import fit_pruned
    from beyond_collapse.numerics.samplers import (
        angle_directions, linear_generator, linear_pruner, mixture_mean, rlhf_prune, sample_gaussian_mixture,
    )

    if not isinstance(cfg, GenerationsConfig):
        raise ValueError(f"cfg must be a GenerationsConfig, got {type(cfg).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {rng!r}")
    mu = mixture_mean(cfg.d, cfg.mu_norm)
    if cfg.verifier == "supervised":
        w, w_prune = angle_directions(mu, theta_gen=cfg.theta_gen0, theta_prune=cfg.theta_prune, theta=cfg.pruner_angle)
    else:
        w, w_prune = angle_directions(mu, theta_gen=cfg.theta_gen0, theta_prune=cfg.theta_gen0, theta=0.0)
    n, n_real, T = cfg.n, cfg.n_real, cfg.generations
    rows = n * T if cfg.mode == "accumulate" else n
    X_all = np.empty((rows, cfg.d))
    lab_all = np.empty(rows, dtype=np.int8)
    keep_all = np.empty(rows, dtype=np.int8)

    def describe(w_t):
        cos = float(w_t @ mu / (np.linalg.norm(w_t) * cfg.mu_norm)) if np.any(w_t) else 0.0
        return (float(accuracy_vs_bayes(w_t, mu=mu)), 1.0 - float(mixture_accuracy(w_t, mu=mu)),
                float(np.arccos(np.clip(cos, -1.0, 1.0))))

    out = {k: [] for k in ("accuracy", "error_rate", "angle", "kept", "kept_wrong", "train_size")}
    for key, value in zip(("accuracy", "error_rate", "angle"), describe(w)):
        out[key].append(value)
    for t in range(T):
        X, y = sample_gaussian_mixture(n, mu=mu, rng=rng)
        labels, keep = y.copy(), np.ones(n, dtype=np.int8)
        Xs, ys = X[n_real:], y[n_real:]
        y_syn = linear_generator(Xs, w)
        if cfg.verifier == "none":
            q = np.ones(n - n_real, dtype=np.int8)
        elif cfg.verifier == "rlhf":
            q = rlhf_prune(ys, y_syn, phi=cfg.phi, psi=cfg.psi, rng=rng)
        else:
            q = linear_pruner(Xs, y_syn, w_prune)
        labels[n_real:], keep[n_real:] = y_syn, q
        start = t * n if cfg.mode == "accumulate" else 0
        X_all[start:start + n], lab_all[start:start + n], keep_all[start:start + n] = X, labels, keep
        stop = start + n
        w = fit_pruned(X_all[:stop], lab_all[:stop], keep_all[:stop], cfg.lam, w0=w)
        for key, value in zip(("accuracy", "error_rate", "angle"), describe(w)):
            out[key].append(value)
        out["kept"].append(int(q.sum()))
        out["kept_wrong"].append(int((q.astype(bool) & (y_syn != ys)).sum()))
        out["train_size"].append(int(stop))
    return out


@dataclass(frozen=True)
class StateRates:
    """Generator error rate and verifier keep rates ``(p, phi, psi)`` of the initial generator and
    of the two limit states (Bayes direction, flipped direction)."""

    initial: tuple[float, float, float]
    bayes: tuple[float, float, float]
    flipped: tuple[float, float, float]


def state_rates(cfg: GenerationsConfig) -> StateRates:
    """``(p, phi, psi)`` at the initial generator and at the two limit states.

    ``p = Phi(-b cos theta)`` with ``b`` the mixture's signal-to-noise ratio. RLHF: the given
    (phi, psi); none: (1, 1); supervised: ``theory.gaussian_mixture_rates`` with the verifier at
    ``theta_prune`` to mu and at ``theta_prune`` / ``pi - theta_prune`` to a Bayes / flipped model.
    """
    from beyond_collapse.theory.supervised import gaussian_mixture_rates

    b = mixture_snr(cfg.mu_norm, cfg.d)
    angles = {"initial": cfg.theta_gen0, "bayes": 0.0, "flipped": math.pi}
    out = {}
    for name, tg in angles.items():
        p = float(mixture_error_rate(tg, b))
        if cfg.verifier == "none":
            out[name] = (p, 1.0, 1.0)
        elif cfg.verifier == "rlhf":
            out[name] = (p, cfg.phi, cfg.psi)
        else:
            t = {"initial": cfg.pruner_angle, "bayes": cfg.theta_prune, "flipped": math.pi - cfg.theta_prune}[name]
            r = gaussian_mixture_rates(cfg.mu_norm, cfg.d, tg, cfg.theta_prune, t)
            out[name] = (float(r.p), float(r.phi), float(r.psi))
    return StateRates(**out)


def margin_pmf(m: int, r: float, w: float) -> np.ndarray:
    """Law of ``W - R`` for ``m`` independent examples, each kept right (probability ``r``), kept wrong
    (``w``) or discarded (App. D.3 sampling, eqs. (14)-(16)): ``pmf[k]`` is ``P(W - R = k - m)``.

    Exact up to rounding: the coefficients of ``(1 - r - w + r z^-1 + w z)^m`` by a discrete
    Fourier transform of length ``2m + 1`` (absolute error a few 1e-16; tiny negative values from
    rounding are set to 0).
    """
    m = _check_int("m", m, 0)
    r = _check_real("r", r, 0.0, 1.0)
    w = _check_real("w", w, 0.0, 1.0)
    if r + w > 1 + 1e-12:
        raise ValueError(f"r + w must be <= 1 (probabilities of disjoint events), got r={r!r}, w={w!r}")
    size = 2 * m + 1
    z = np.exp(-2j * np.pi * np.arange(size) / size)
    values = (max(1.0 - r - w, 0.0) + r / z + w * z) ** m * z**m
    pmf = np.fft.ifft(values).real
    return np.clip(pmf, 0.0, None)


def _success(cfg: GenerationsConfig, rates: tuple[float, float, float]) -> float:
    """P(W - R < n_real) for one generation made with ``rates``."""
    from beyond_collapse.numerics import success_probability

    p, phi, psi = rates
    m = cfg.n - cfg.n_real
    if cfg.n_real == 0:
        return float(success_probability(m, p, phi, psi).probability)
    pmf = margin_pmf(m, (1 - p) * phi, p * psi)
    return float(pmf[: m + cfg.n_real].sum())  # W - R = k - m < n_real


def predicted_bayes_probability(cfg: GenerationsConfig, rates: StateRates | None = None) -> np.ndarray:
    """P(the model of generation t is on the Bayes side), t = 1..T, at finite N (module docstring).

    Replace: ``pi_1 = s_0``, ``pi_{t+1} = pi_t s_B + (1 - pi_t) s_F`` with ``s`` the exact
    probabilities of Prop. E.3's event (with the real examples on the right side) under each
    generator's rates. Accumulate: the exact law of the cumulative margin ``D_t`` (kept wrong minus
    kept right minus real, over all generations so far), each generation's margin law chosen by
    the sign of ``D`` (``D < 0``: Bayes); ``pi_t = P(D_t < 0)``.
    """
    from scipy.signal import fftconvolve

    rates = state_rates(cfg) if rates is None else rates
    T = cfg.generations
    if cfg.mode == "replace":
        s0, sb, sf = (_success(cfg, r) for r in (rates.initial, rates.bayes, rates.flipped))
        pi = np.empty(T)
        pi[0] = s0
        for t in range(1, T):
            pi[t] = pi[t - 1] * sb + (1 - pi[t - 1]) * sf
        return pi
    m, k0 = cfg.n - cfg.n_real, cfg.n_real
    step = {name: margin_pmf(m, (1 - p) * phi, p * psi) for name, (p, phi, psi) in
            (("initial", rates.initial), ("bayes", rates.bayes), ("flipped", rates.flipped))}
    # law of D on integers offset + j; one generation's margin W - R - n_real spans [-m - k0, m - k0]
    law, offset = step["initial"], -m - k0
    pi = np.empty(T)
    for t in range(T):
        neg = np.arange(law.size) + offset < 0
        pi[t] = float(law[neg].sum())
        if t == T - 1:
            break
        bayes_part = np.where(neg, law, 0.0)
        flip_part = np.where(neg, 0.0, law)
        law = np.clip(fftconvolve(bayes_part, step["bayes"]) + fftconvolve(flip_part, step["flipped"]), 0.0, None)
        offset += -m - k0
    return pi


def learning_curve_trajectory(cfg: GenerationsConfig, loss: str = "logistic") -> dict:
    """Accuracy and angle to mu per generation t = 0..T from the high-dimensional learning curve
    (issue 16, :func:`beyond_collapse.numerics.learning_curves.linear_generator_step`), replace mode.

    Each step maps the generator's angles (to mu and, for the supervised verifier, to the pruner) to
    the retrained model's, in the proportional limit at this N and d: the accuracy level within a
    state, which the two-state prediction lacks. It is deterministic, so near p* (where the sign of
    the kept-count difference is random at finite N) the simulated mean over seeds mixes both
    states and :func:`predicted_bayes_probability` is the better guide. Accumulate mode trains on
    data of several generators at once, outside this channel; it raises ``ValueError``.
    """
    from beyond_collapse.numerics.bayes import accuracy_vs_bayes
    from beyond_collapse.numerics.learning_curves import linear_generator_step, proportional_parameters

    if not isinstance(cfg, GenerationsConfig):
        raise ValueError(f"cfg must be a GenerationsConfig, got {type(cfg).__name__}")
    if cfg.mode != "replace":
        raise ValueError(f"learning_curve_trajectory covers mode 'replace' only, got {cfg.mode!r}")
    alpha, snr, ridge = proportional_parameters(cfg.n, cfg.d, cfg.mu_norm, cfg.lam)
    theta_gen, theta = cfg.theta_gen0, cfg.pruner_angle
    accuracy = [float(accuracy_vs_bayes(np.array([np.cos(theta_gen), np.sin(theta_gen)]), mu=np.array([snr, 0.0]),
                                        noise_std=1.0))]
    angle = [theta_gen]
    for _ in range(cfg.generations):
        step = linear_generator_step(alpha, snr=snr, ridge=ridge, theta_gen=theta_gen, verifier=cfg.verifier,
                                     phi=cfg.phi, psi=cfg.psi, theta_prune=cfg.theta_prune, theta=theta,
                                     real_fraction=cfg.real_fraction, loss=loss)
        theta_gen = float(np.arccos(np.clip(step["cos_mu"], -1.0, 1.0)))
        if cfg.verifier == "supervised":  # keep the triple realisable under rounding
            tp = cfg.theta_prune
            theta = float(np.clip(np.arccos(np.clip(step["cos_prune"], -1.0, 1.0)), abs(theta_gen - tp),
                                  min(theta_gen + tp, 2 * np.pi - theta_gen - tp)))
        accuracy.append(step["accuracy"])
        angle.append(theta_gen)
    return {"accuracy": accuracy, "angle": angle}
