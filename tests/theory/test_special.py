"""Normal and bivariate normal CDFs against mpmath (relative accuracy, tails, rho = +-1).

References: mpmath.ncdf at 40 digits; Sheppard's orthant formula P(X <= 0, Y <= 0) = 1/4 + asin(rho)/(2 pi)
evaluated in mpmath (exact, so it probes rho -> -1 where the value vanishes); the rho = +-1 limits;
Plackett's identity Phi2 = Phi(h) Phi(k) + (1/2pi) int_0^{asin rho} exp(-(h^2+k^2-2hk sin t)/(2 cos^2 t)) dt
integrated by mpmath (see _mpmath_plackett); and scipy's Genz implementation in the bulk.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from beyond_collapse.theory import special
from beyond_collapse.theory.special import bivariate_normal_cdf, normal_cdf

RTOL = 1e-12  # the accuracy the module docstring states


def _mpmath_plackett(h, k, rho, dps):
    """Phi2(h, k; rho) by Plackett's identity in mpmath: Gauss-Legendre on 40 equal panels of
    [0, asin rho] plus panels shrinking geometrically towards both ends (where tail peaks sit)."""
    with mp.workdps(dps):
        hh, kk, r = mp.mpf(h), mp.mpf(k), mp.mpf(rho)
        a = mp.asin(r)
        pts = sorted(set(mp.linspace(0, a, 41)) | {a * (1 - mp.mpf(2) ** -j) for j in range(0, 40)}
                     | {a * mp.mpf(2) ** -j for j in range(1, 40)})
        f = lambda t: mp.exp(-(hh * hh + kk * kk - 2 * hh * kk * mp.sin(t)) / (2 * mp.cos(t) ** 2))  # noqa: E731
        return mp.ncdf(hh) * mp.ncdf(kk) + mp.sign(a) * mp.quad(f, pts, method="gauss-legendre", maxdegree=10) / (2 * mp.pi)


def _rel(got, ref):
    return abs(got - float(ref)) / float(ref)


@pytest.mark.parametrize("x", [-37.5, -30.0, -20.0, -12.7, -8.0, -5.0, -2.3, -1.0, -0.3, 0.0, 0.7, 3.0, 9.0])
def test_normal_cdf_relative_accuracy(x):
    with mp.workdps(40):
        assert _rel(normal_cdf(x), mp.ncdf(x)) < 4e-16


def test_known_far_tail_value():
    # NOTES.md: Phi2(-8, -9; 0.5) = 4.058e-24 (mpmath, 40 digits); scipy returns 0.0 there.
    # 4.0581021431132135073e-24: Plackett's identity in mpmath at 250 digits (tests' _mpmath_plackett, dps=250).
    assert _rel(bivariate_normal_cdf(-8.0, -9.0, 0.5), mp.mpf("4.0581021431132135073e-24")) < RTOL


@pytest.mark.parametrize("h, k, rho, value", [
    # Plackett's identity in mpmath at 400 digits (rho < 0 cancels ~140 digits), interval split
    # geometrically towards both ends: a*(1 - 2^-j), j < 50, and a*2^-j, j < 12 (a = asin rho).
    (-4.0, -4.0, -0.95, "8.4112723485638204342e-144"),
    (-9.0, -1.5, -0.7, "2.3332013309093990008e-47"),
    (-20.0, 5.0, -0.6, "2.2054728029562737281e-107"),
])
def test_negative_correlation_far_tails(h, k, rho, value):
    assert _rel(bivariate_normal_cdf(h, k, rho), mp.mpf(value)) < RTOL
    assert _rel(bivariate_normal_cdf(k, h, rho), mp.mpf(value)) < RTOL


RHOS_SHEPPARD = [-1 + 2.0**-40, -1 + 1e-12, -0.999999, -0.99, -0.9, -0.5, 0.0, 0.5, 0.99, 1 - 1e-12]


@pytest.mark.parametrize("rho", RHOS_SHEPPARD)
def test_sheppard_orthant_identity(rho):
    # P(X <= 0, Y <= 0) = 1/4 + asin(rho) / (2 pi): tends to 0 as rho -> -1 (e.g. 2.3e-7 at 1 - 2^-40),
    # where any formula of the type 1/4 - (...) loses all digits.
    with mp.workdps(40):
        ref = mp.mpf(1) / 4 + mp.asin(mp.mpf(rho)) / (2 * mp.pi)
    assert _rel(bivariate_normal_cdf(0.0, 0.0, rho), ref) < RTOL


@pytest.mark.parametrize("h, k", [(-30.0, -9.0), (-3.0, 2.0), (0.5, 0.5), (-8.0, 8.5), (4.0, -4.0), (0.1, -0.1)])
def test_degenerate_correlations(h, k):
    with mp.workdps(40):
        upper = mp.ncdf(min(h, k))
        lower = max(mp.mpf(0), mp.ncdf(h) - mp.ncdf(-k))  # P(-k <= X <= h)
    assert _rel(bivariate_normal_cdf(h, k, 1.0), upper) < RTOL
    if lower > 0:
        assert _rel(bivariate_normal_cdf(h, k, -1.0), lower) < RTOL
    else:
        assert bivariate_normal_cdf(h, k, -1.0) == 0.0


GRID = [(h, k, rho) for h in (-30.0, -9.0, -3.0, 0.0, 2.0) for k in (-9.0, -1.0, 0.5, 8.0) if h <= k
        for rho in (0.3, 0.9, 0.999, 1 - 1e-9)]


@pytest.mark.parametrize("h, k, rho", GRID)
def test_positive_correlation_grid_against_mpmath(h, k, rho):
    ref = _mpmath_plackett(h, k, rho, dps=30)
    assert _rel(bivariate_normal_cdf(h, k, rho), ref) < RTOL
    assert _rel(bivariate_normal_cdf(k, h, rho), ref) < RTOL


@pytest.mark.parametrize("h, k, rho", [(-3.0, -3.0, -0.5), (1.0, 1.0, -0.99), (-1.5, 2.0, -0.3), (0.7, -0.2, -0.9),
                                        (2.0, 3.0, -0.999), (-2.0, 2.5, -0.8)])
def test_negative_correlation_moderate_against_mpmath(h, k, rho):
    # 120 digits absorb Plackett's cancellation for these moderate arguments.
    ref = _mpmath_plackett(h, k, rho, dps=120)
    assert _rel(bivariate_normal_cdf(h, k, rho), ref) < RTOL


def _mpmath_x_integral(h, k, rho, n_panels, dps=30):
    """Recipe of NEGATIVE_RHO_REFERENCE (rho < 0): int_{min(h,0)-12}^{min(h,k)} phi(x) Phi((max(h,k) - rho x)/s) dx.

    Positive integrand, no cancellation. Gauss-Legendre (mpmath) on ``n_panels`` equal panels plus
    panels shrinking geometrically towards the upper end and around the step of Phi at x = k/rho.
    Below min(h, 0) - 12 the integrand is < exp(-72) times its value at min(h, 0) (it is log-concave
    with log-derivative > -x there). A table row was kept only if 600 and 1200 panels agree to 1e-18.
    """
    with mp.workdps(dps):
        h, k, rho = mp.mpf(h), mp.mpf(k), mp.mpf(rho)
        h, k = min(h, k), max(h, k)
        s = mp.sqrt((1 - rho) * (1 + rho))
        lo = min(h, 0) - 12
        pts = set(mp.linspace(lo, h, n_panels)) | {h - mp.mpf(2) ** -j for j in range(0, 60)}
        step = k / rho
        pts |= {step + c * mp.mpf(2) ** j * s / abs(rho) for j in range(-30, 6) for c in (-1, 1)} | {step}
        pts = sorted(p for p in pts if lo <= p <= h)
        return mp.quad(lambda x: mp.npdf(x) * mp.ncdf((k - rho * x) / s), pts, method="gauss-legendre")


# (h, k, rho, Phi2) for h <= k from _mpmath_x_integral(h, k, rho, 1200), 30 digits, printed to 20:
#   for h in HS, k in HS with h <= k, rho in RHOS:  HS = (-30, -9, -4, -1.5, 0, 0.7, 3, 8),
#   RHOS = (-(1 - 1e-12), -0.999, -0.95, -0.7, -0.3). The 38 rows where 600 and 1200 panels disagree
#   by more than 1e-18 were dropped: 26 are below 1e-500 (underflow), 12 are sharp peaks at
#   rho = -0.95 / -0.999 where the recipe itself is not converged (up to 3e-10); three of those are
#   covered by test_negative_correlation_far_tails with a 400-digit Plackett reference.
NEGATIVE_RHO_REFERENCE = (
    (-30.0, -30.0, -0.999999999999, '2.1069093620822147645e-390873680511112'),
    (-30.0, -30.0, -0.999, '3.6598018682461494165e-390874'),
    (-30.0, -9.0, -0.999999999999, '1.2632103852555438158e-165144130015981'),
    (-30.0, -9.0, -0.999, '3.4844928153839045172e-165173'),
    (-30.0, -9.0, -0.3, '4.1908528328076948216e-277'),
    (-30.0, -4.0, -0.999999999999, '2.5038338815814579166e-125513881853064'),
    (-30.0, -4.0, -0.999, '1.8578122365503093392e-125556'),
    (-30.0, -4.0, -0.3, '5.880596273521747077e-240'),
    (-30.0, -1.5, -0.999999999999, '2.7763484037977566712e-107734558190935'),
    (-30.0, -1.5, -0.999, '7.335218910630849244e-107785'),
    (-30.0, -1.5, -0.3, '7.7725377475722850459e-226'),
    (-30.0, 0.0, -0.999999999999, '2.4982068798266821059e-97718420127843'),
    (-30.0, 0.0, -0.999, '1.1434829622468482758e-97773'),
    (-30.0, 0.0, -0.3, '8.7578098959767050622e-219'),
    (-30.0, 0.7, -0.999999999999, '5.0661387996232638037e-93211429439508'),
    (-30.0, 0.7, -0.999, '4.5911588704365839665e-93269'),
    (-30.0, 0.7, -0.3, '7.4043338970599734181e-216'),
    (-30.0, 3.0, -0.999999999999, '9.8440284066583294652e-79151920303577'),
    (-30.0, 3.0, -0.999, '9.4081798892089676348e-79218'),
    (-30.0, 3.0, -0.3, '7.3099055243712988667e-208'),
    (-30.0, 8.0, -0.999999999999, '6.9526360423405605763e-52550794824369'),
    (-30.0, 8.0, -0.999, '2.5523741771840305075e-52636'),
    (-30.0, 8.0, -0.3, '7.108416518428326327e-199'),
    (-9.0, -9.0, -0.999999999999, '1.1566434184081448553e-35178631246019'),
    (-9.0, -9.0, -0.999, '6.1643389156251590507e-35186'),
    (-9.0, -9.0, -0.7, '1.3543942979102735913e-121'),
    (-9.0, -9.0, -0.3, '5.5387535480766673103e-54'),
    (-9.0, -4.0, -0.999999999999, '4.8670363144221827655e-18349347779571'),
    (-9.0, -4.0, -0.999, '4.2253435256342620988e-18358'),
    (-9.0, -4.0, -0.7, '8.1989237897889731936e-67'),
    (-9.0, -4.0, -0.3, '9.8000720048268118155e-32'),
    (-9.0, -1.5, -0.999999999999, '2.7103700659728756111e-11970506465676'),
    (-9.0, -1.5, -0.999, '6.5200875997211314274e-11981'),
    (-9.0, -1.5, -0.7, '2.3332013309093990008e-47'),
    (-9.0, -1.5, -0.3, '5.2049545415878804541e-25'),
    (-9.0, 0.0, -0.999999999999, '6.7256228868933920771e-8794657811525'),
    (-9.0, 0.0, -0.7, '3.2417842926358855267e-38'),
    (-9.0, 0.0, -0.3, '2.3684143946970480441e-22'),
    (-9.0, 0.7, -0.999999999999, '3.5292956717863325072e-7479802180695'),
    (-9.0, 0.7, -0.7, '1.3515177061466084307e-34'),
    (-9.0, 0.7, -0.3, '1.8740496230826323527e-21'),
    (-9.0, 3.0, -0.999999999999, '2.4099804242314386663e-3908736805139'),
    (-9.0, 3.0, -0.7, '1.4164651822719378761e-25'),
    (-9.0, 3.0, -0.3, '6.8882409090893661503e-20'),
    (-9.0, 8.0, -0.999999999999, '5.9273262463475281415e-108576022399'),
    (-9.0, 8.0, -0.95, '2.4904649831873910167e-21'),
    (-9.0, 8.0, -0.7, '1.1151458142738057076e-19'),
    (-9.0, 8.0, -0.3, '1.1285883866299641272e-19'),
    (-4.0, -4.0, -0.999999999999, '3.8417798593475787305e-6948865431329'),
    (-4.0, -4.0, -0.7, '8.3806156560061964931e-27'),
    (-4.0, -4.0, -0.3, '5.6324582384719867646e-13'),
    (-4.0, -1.5, -0.999999999999, '1.0897331274792928969e-3284424676537'),
    (-4.0, -1.5, -0.7, '1.1310013271587099717e-14'),
    (-4.0, -1.5, -0.3, '5.9990725884920469447e-8'),
    (-4.0, 0.0, -0.999999999999, '3.2732727956505940452e-1737216357848'),
    (-4.0, 0.0, -0.7, '7.1215043670228707749e-10'),
    (-4.0, 0.0, -0.3, '2.9275195061906667788e-6'),
    (-4.0, 0.7, -0.999999999999, '2.347095874060651898e-1182392883567'),
    (-4.0, 0.7, -0.95, '6.0514406549343352447e-29'),
    (-4.0, 0.7, -0.7, '2.9575314643683166449e-8'),
    (-4.0, 0.7, -0.3, '8.7528631559068399161e-6'),
    (-4.0, 3.0, -0.999999999999, '6.3342221268945774126e-108576022386'),
    (-4.0, 3.0, -0.95, '5.181657380477155573e-8'),
    (-4.0, 3.0, -0.7, '0.000016595770811577024307'),
    (-4.0, 3.0, -0.3, '0.000030561926818598218057'),
    (-4.0, 8.0, -0.999999999999, '0.000031671241832497825196'),
    (-4.0, 8.0, -0.999, '0.000031671241832497825196'),
    (-4.0, 8.0, -0.95, '0.000031671241832497825196'),
    (-4.0, 8.0, -0.7, '0.000031671241832503737393'),
    (-4.0, 8.0, -0.3, '0.000031671241833088367684'),
    (-1.5, -1.5, -0.999999999999, '9.4335400633348455632e-977184201298'),
    (-1.5, -1.5, -0.95, '1.5694871714873258525e-23'),
    (-1.5, -1.5, -0.7, '4.140347813038881043e-6'),
    (-1.5, -1.5, -0.3, '0.0010083523892892775744'),
    (-1.5, 0.0, -0.999999999999, '5.5964740702031968733e-244296050339'),
    (-1.5, 0.0, -0.95, '1.9637081529311298777e-8'),
    (-1.5, 0.0, -0.7, '0.0024031410294172343658'),
    (-1.5, 0.0, -0.3, '0.018211049241685802429'),
    (-1.5, 0.7, -0.999999999999, '3.1753271779983854356e-69488654332'),
    (-1.5, 0.7, -0.95, '0.00012553739278369263627'),
    (-1.5, 0.7, -0.7, '0.013014481479651287028'),
    (-1.5, 0.7, -0.3, '0.036690144344504461279'),
    (-1.5, 3.0, -0.999999999999, '0.065457303237227971478'),
    (-1.5, 3.0, -0.999, '0.065457303237227971478'),
    (-1.5, 3.0, -0.95, '0.065457305198939569638'),
    (-1.5, 3.0, -0.7, '0.065645377149898584713'),
    (-1.5, 3.0, -0.3, '0.066408681108671534773'),
    (-1.5, 8.0, -0.999999999999, '0.066807201268857443908'),
    (-1.5, 8.0, -0.999, '0.066807201268857443908'),
    (-1.5, 8.0, -0.95, '0.066807201268857443908'),
    (-1.5, 8.0, -0.7, '0.066807201268857443908'),
    (-1.5, 8.0, -0.3, '0.066807201268857545505'),
    (0.0, 0.0, -0.999999999999, '2.2507658945733088197e-7'),
    (0.0, 0.0, -0.999, '0.0071182187031198306971'),
    (0.0, 0.0, -0.95, '0.050541312052129957425'),
    (0.0, 0.0, -0.7, '0.12659165555331749954'),
    (0.0, 0.0, -0.3, '0.2015066579896608566'),
    (0.0, 0.7, -0.999999999999, '0.25803634777692697138'),
    (0.0, 0.7, -0.999, '0.25803634777692697138'),
    (0.0, 0.7, -0.95, '0.25859921376381445135'),
    (0.0, 0.7, -0.7, '0.28828937299854542071'),
    (0.0, 0.7, -0.3, '0.34135895392831214041'),
    (0.0, 3.0, -0.999999999999, '0.49865010196836990547'),
    (0.0, 3.0, -0.999, '0.49865010196836990547'),
    (0.0, 3.0, -0.95, '0.49865010196836990547'),
    (0.0, 3.0, -0.7, '0.498651228030150127'),
    (0.0, 3.0, -0.3, '0.4988549585118004945'),
    (0.0, 8.0, -0.999999999999, '0.4999999999999993779'),
    (0.0, 8.0, -0.999, '0.4999999999999993779'),
    (0.0, 8.0, -0.95, '0.4999999999999993779'),
    (0.0, 8.0, -0.7, '0.4999999999999993779'),
    (0.0, 8.0, -0.3, '0.49999999999999938123'),
    (0.7, 0.7, -0.999999999999, '0.51607269555385394277'),
    (0.7, 0.7, -0.999, '0.51607269555385394277'),
    (0.7, 0.7, -0.95, '0.51607282178494534213'),
    (0.7, 0.7, -0.7, '0.5206759414795085521'),
    (0.7, 0.7, -0.3, '0.5475109461322321602'),
    (0.7, 3.0, -0.999999999999, '0.75668644974529687686'),
    (0.7, 3.0, -0.999, '0.75668644974529687686'),
    (0.7, 3.0, -0.95, '0.75668644974529687686'),
    (0.7, 3.0, -0.7, '0.75668647645855422552'),
    (0.7, 3.0, -0.3, '0.75673931484104080689'),
    (0.7, 8.0, -0.999999999999, '0.75803634777692634929'),
    (0.7, 8.0, -0.999, '0.75803634777692634929'),
    (0.7, 8.0, -0.95, '0.75803634777692634929'),
    (0.7, 8.0, -0.7, '0.75803634777692634929'),
    (0.7, 8.0, -0.3, '0.7580363477769263496'),
    (3.0, 3.0, -0.999999999999, '0.99730020393673981095'),
    (3.0, 3.0, -0.999, '0.99730020393673981095'),
    (3.0, 3.0, -0.95, '0.99730020393673981095'),
    (3.0, 3.0, -0.7, '0.99730020393674000932'),
    (3.0, 3.0, -0.3, '0.99730022494325974765'),
    (3.0, 8.0, -0.999999999999, '0.99865010196836928338'),
    (3.0, 8.0, -0.999, '0.99865010196836928338'),
    (3.0, 8.0, -0.95, '0.99865010196836928338'),
    (3.0, 8.0, -0.7, '0.99865010196836928338'),
    (3.0, 8.0, -0.3, '0.99865010196836928338'),
    (8.0, 8.0, -0.999999999999, '0.99999999999999875581'),
    (8.0, 8.0, -0.999, '0.99999999999999875581'),
    (8.0, 8.0, -0.95, '0.99999999999999875581'),
    (8.0, 8.0, -0.7, '0.99999999999999875581'),
    (8.0, 8.0, -0.3, '0.99999999999999875581'),
)


@pytest.mark.parametrize("h, k, rho, value", NEGATIVE_RHO_REFERENCE)
def test_negative_correlation_grid_against_mpmath_table(h, k, rho, value):
    ref = mp.mpf(value)
    for a, b in ((h, k), (k, h)):
        got = bivariate_normal_cdf(a, b, rho)
        if ref >= mp.mpf("1e-300"):
            assert _rel(got, ref) < RTOL
        else:
            assert got < 1e-290  # underflow region: the true value is not a normal double


@pytest.mark.parametrize("row", [NEGATIVE_RHO_REFERENCE[i] for i in (40, 75, 120)])
def test_reference_table_reproduces_from_recipe(row):
    h, k, rho, value = row
    assert abs(_mpmath_x_integral(h, k, rho, 600) / mp.mpf(value) - 1) < 1e-17


@pytest.mark.parametrize("h, k, rho", [(-36.89853364, -7.84922618, 0.83460236), (-36.76461744, -12.46477392, 0.93103061),
                                        (-25.0, -6.0, 0.7)])
def test_interior_peak_of_plackett_integrand(h, k, rho):
    # Regression: the integrand's peak lies inside [acos rho, pi/2], between the ends the first
    # version sampled (it returned 1.17 Phi(h)).
    ref = _mpmath_plackett(h, k, rho, dps=30)
    assert _rel(bivariate_normal_cdf(h, k, rho), ref) < RTOL


def test_frechet_bounds_on_wide_random_inputs():
    # max(0, Phi(h) + Phi(k) - 1) <= Phi2 <= min(Phi(h), Phi(k)) for every rho, far into the tails.
    rng = np.random.default_rng(7)
    h, k = rng.uniform(-45, 45, (2, 20000))
    rho = np.concatenate([rng.uniform(-1, 1, 19000), rng.choice([-1, 1, -1 + 1e-15, 1 - 1e-15, 0], 1000)])
    v = bivariate_normal_cdf(h, k, rho)
    upper = np.minimum(normal_cdf(h), normal_cdf(k))
    # Phi(h) + Phi(k) - 1 written both ways; the subtraction costs up to an ulp of the larger term.
    lower = np.maximum(0.0, np.maximum(normal_cdf(h) - normal_cdf(-k), normal_cdf(k) - normal_cdf(-h)))
    slack = 4e-16 * np.maximum(normal_cdf(h), normal_cdf(k))
    assert np.all(np.isfinite(v))
    assert np.all(v <= upper * (1 + 1e-12) + 1e-300)
    assert np.all(v >= lower * (1 - 1e-12) - slack)

@given(st.floats(-6, 6), st.floats(-6, 6), st.floats(-0.99, 0.99))
def test_bulk_agrees_with_scipy_genz(h, k, rho):
    # scipy's Genz BVN is accurate to ~1e-15 absolute in the bulk (NOTES.md), not in the tails.
    ref = multivariate_normal(mean=[0, 0], cov=[[1, rho], [rho, 1]]).cdf([h, k])
    assert abs(bivariate_normal_cdf(h, k, rho) - ref) < 1e-13


@given(st.floats(-10, 10), st.floats(-10, 10), st.floats(-1, 1))
def test_complement_identity(h, k, rho):
    # P(X <= h, Y <= k) + P(X <= h, Y > k) = Phi(h), with P(X <= h, Y > k) = Phi2(h, -k; -rho).
    total = bivariate_normal_cdf(h, k, rho) + bivariate_normal_cdf(h, -k, -rho)
    assert total == pytest.approx(normal_cdf(h), rel=1e-13, abs=1e-300)


def test_broadcasting_infinities_and_validation():
    out = bivariate_normal_cdf(np.array([[-1.0], [0.0]]), np.array([0.0, 1.0, 2.0]), 0.5)
    assert out.shape == (2, 3)
    assert bivariate_normal_cdf(-np.inf, 1.0, 0.3) == 0.0
    assert bivariate_normal_cdf(np.inf, 1.0, 0.3) == pytest.approx(normal_cdf(1.0), rel=1e-15)
    assert bivariate_normal_cdf(0.4, np.inf, -0.3) == pytest.approx(normal_cdf(0.4), rel=1e-15)
    # Beyond +-40 the values are exact limits in double precision (Phi(-40) = 3.7e-350 underflows).
    assert normal_cdf(-np.inf) == 0.0 and normal_cdf(-1e300) == 0.0 and normal_cdf(1e300) == 1.0
    assert bivariate_normal_cdf(-1e300, 0.0, 0.5) == 0.0
    assert bivariate_normal_cdf(1e300, -37.0, -0.5) == pytest.approx(float(mp.ncdf(-37)), rel=1e-12)
    with pytest.raises(ValueError, match=r"rho must lie in \[-1, 1\]"):
        bivariate_normal_cdf(0.0, 0.0, 1.5)
    with pytest.raises(ValueError, match="h must not be NaN"):
        bivariate_normal_cdf(math.nan, 0.0, 0.5)


# (h, k, rho, Phi2) near rho = +-1 (the corner form: closed part, Gauss-Laguerre, bound shortcut) and
# for moderate negative rho with strong cancellation (the positive-term form from rho = -1). Values:
# Plackett's identity from 0 in mpmath with the precision raised past 50 digits plus the digits
# cancelled (benchmarks/bench_bvn.py `reference`); a row was kept only where _mpmath_plackett above,
# at 60 digits plus those cancelled, agrees to 1e-15 (3 of 27 near-(-1) rows were dropped: there the
# two recipes disagree by up to 30%; see CORNER_REFERENCE). Points: numpy default_rng(11) and (12),
# 1 - |rho| log-uniform on [1e-10, 0.13], |h| log-uniform on [0.1, 30], k near h (rho > 0) or -h.
HIGH_CORRELATION_REFERENCE = (
    (1.724931, 0.117779, 0.999999998521, '0.54687861535510836648'),
    (-3.471211, -2.500792, 0.957362775626, '0.00025891259867039104188'),
    (4.384725, -0.219666, -0.999995495473, '0.41305983636369412534'),
    (-4.576827, -4.594478, 0.998516934576, '2.0176820380967111392e-6'),
    (1.5776, -2.920474, 0.999989061789, '0.0017474967938955829248'),
    (9.708526, -9.708514, -0.999999986157, '9.8690171883885786273e-26'),
    (0.485872, 0.482896, 0.999998220221, '0.68539880258296493177'),
    (-1.161542, -4.655863, -0.985773659304, '2.5529129912986165528e-264'),
    (17.098345, 17.098432, 0.999999993079, '1.0'),
    (-0.718554, 0.718238, -0.999999993286, '3.465328934899608005e-8'),
    (5.338853, -0.110105, 0.982387440067, '0.45616305142177349605'),
    (-0.121436, -0.121385, 0.999999999686, '0.45167277533771644697'),
    (0.581717, -0.166361, -0.999977626926, '0.15355777246297548214'),
    (-0.115054, -0.115135, 0.999999996274, '0.45416585796431447991'),
    (6.779601, -6.779482, -0.999999998563, '4.9750636945717173417e-15'),
    (3.035916, 0.116612, 0.999999999634, '0.54641623600859964796'),
    (0.295852, -0.320454, -0.997878038461, '0.0059057467475304333312'),
    (-6.326215, -6.325058, 0.999999953648, '1.2562383984310915273e-10'),
    (-0.34519, -0.43596, -0.994224734564, '1.0367698664816953758e-15'),
    (21.428213, 21.908978, 0.920101182915, '1.0'),
    (-7.066317, 7.066072, -0.999999927505, '3.4299237625887056547e-16'),
    (1.001959, -12.408657, 0.999999999589, '1.1727702946767197541e-35'),
    (-2.249044, 2.36146, -0.999437082723, '0.0031533791821744374738'),
    (19.839759, 19.871665, 0.99871885321, '1.0'),
    (-2.866882, -0.973301, -0.455511, '7.4524189917748160814e-6'),
    (-1.374723, -1.076353, -0.411161, '0.0020221589071176713558'),
    (-0.787698, -2.740773, -0.715676, '5.3057657851811620042e-8'),
    (-0.507068, -1.853665, -0.832041, '9.7022033026977203447e-7'),
    (-1.144887, -1.54224, -0.366248, '0.0014413529696785468886'),
    (-1.670366, -2.818792, -0.581242, '2.9331771566357960616e-8'),
    (-0.969726, -2.176276, -0.460438, '0.00012900206677051686332'),
    (-2.807027, -2.700625, -0.886904, '4.2922148365932611684e-33'),
    (-2.84174, -2.123101, -0.339901, '8.2249384714684597933e-7'),
    (-1.520246, -1.048475, -0.840365, '1.2581108949514596492e-7'),
    (-2.154086, -2.4471, -0.791641, '1.8521235931711539646e-14'),
    (-0.835879, -2.409063, -0.424834, '0.00011416278244096635708'),
    (-2.864002, -0.83772, -0.312542, '0.000058249021499647419652'),
    (-1.547518, -1.309738, -0.672068, '0.000018130231029446848885'),
)


@pytest.mark.parametrize("h, k, rho, value", HIGH_CORRELATION_REFERENCE)
def test_high_correlation_and_cancellation_against_mpmath(h, k, rho, value):
    assert _rel(bivariate_normal_cdf(h, k, rho), mp.mpf(value)) < RTOL
    assert _rel(bivariate_normal_cdf(k, h, rho), mp.mpf(value)) < RTOL


def _mpmath_corner(h, k, rho, panels, dps=40):
    """Phi2 for rho < 0 as P(-k <= X <= h) + (1/2pi) int_0^A exp(-(h + k)^2 / 2x^2 + hk / (1 + sqrt(1 - x^2)))
    / sqrt(1 - x^2) dx, A^2 = 1 - rho^2 (Plackett's identity from rho = -1 in x = sin v: two positive terms),
    by mpmath Gauss-Legendre on ``panels`` equal panels plus panels shrinking geometrically towards x = A."""
    with mp.workdps(dps):
        hh, kk, r = mp.mpf(h), -mp.mpf(k), -mp.mpf(rho)
        a = mp.sqrt((1 - r) * (1 + r))
        f = lambda x: mp.exp(-(hh - kk) ** 2 / (2 * x * x) - hh * kk / (1 + mp.sqrt(1 - x * x))) / mp.sqrt(1 - x * x)  # noqa: E731
        pts = sorted(set(mp.linspace(0, a, panels)) | {a - a * mp.mpf(2) ** -j for j in range(1, 60)})
        low = max(mp.mpf(0), mp.ncdf(mp.mpf(h)) - mp.ncdf(-mp.mpf(k)))
        return low + mp.quad(f, pts, method="gauss-legendre", maxdegree=12) / (2 * mp.pi)


# rho within 1e-5 of -1 and h close to -k, where the Plackett recipes above fail (the old version of
# bivariate_normal_cdf was off by up to 2e-11 at such points). Values: _mpmath_corner with 200
# panels; 200 and 400 panels agree to 1e-17 or better on every row.
CORNER_REFERENCE = (
    (19.920088, -19.920096, -0.999999997781, "6.1948256725050228161e-92"),
    (-29.396288, 29.396419, -0.999999997153, "1.1899176588087855476e-192"),
    (26.905559, -26.91987, -0.999990078326, "1.6515770098619943761e-164"),
    (-21.725885785711263, 21.70524576849912, -0.9999987848484209, "4.7903519558034203751e-147"),
    (-0.2, 0.1, -0.9999, "5.8437294609531348035e-16"),
)


@pytest.mark.parametrize("h, k, rho, value", CORNER_REFERENCE)
def test_near_minus_one_against_corner_quadrature(h, k, rho, value):
    assert _rel(bivariate_normal_cdf(h, k, rho), mp.mpf(value)) < RTOL


def test_corner_reference_reproduces_from_recipe():
    h, k, rho, value = CORNER_REFERENCE[0]
    assert abs(_mpmath_corner(h, k, rho, 400) / mp.mpf(value) - 1) < 1e-17


@pytest.mark.parametrize("z", [0.0, 0.5, 2.9, 3.0, 3.1, 6.0, 25.0, 1e3])
def test_one_minus_z_mills_ratio(z):
    # 1 - z Phi(-z) / phi(z) in mpmath at 40 digits; it tends to 1/z^2, so the direct form cancels.
    with mp.workdps(40):
        ref = 1 - z * mp.ncdf(-z) / mp.npdf(z)
    assert _rel(special._one_minus_z_mills(z), ref) < 5e-15


def _mpmath_corner_integral(h, k, r, dps=40):
    """J = (1/2pi) int_0^{acos r} exp(-E(v)) dv in mpmath: tanh-sinh on panels shrinking geometrically
    towards both ends; where |h - k| / sqrt(1 - r^2) > 6 the mass sits within ~1e-4 of the upper end
    and that fails, so there in y = (h - k)^2 / 2 sin^2 v - (h - k)^2 / 2 (1 - r^2) on [0, inf)."""
    with mp.workdps(dps):
        hh, kk, rr = mp.mpf(h), mp.mpf(k), mp.mpf(r)
        a2 = (1 - rr) * (1 + rr)
        y0 = (hh - kk) ** 2 / (2 * a2)
        if y0 <= 18:
            theta = mp.acos(rr)
            f = lambda v: mp.exp(-(hh * hh + kk * kk - 2 * hh * kk * mp.cos(v)) / (2 * mp.sin(v) ** 2))  # noqa: E731
            pts = sorted({theta * mp.mpf(2) ** -j for j in range(0, 60)}
                         | {theta * (1 - mp.mpf(2) ** -j) for j in range(1, 60)} | {0})
            return mp.quad(f, pts) / (2 * mp.pi)
        hk = hh * kk

        def g(y):  # dv = x / (2 (y + y0) sqrt(1 - x^2)) dy with x^2 = a2 y0 / (y + y0)
            xs = a2 * y0 / (y + y0)
            return mp.sqrt(xs) / (2 * (y + y0)) * mp.exp(-y - hk / (1 + mp.sqrt(1 - xs))) / mp.sqrt(1 - xs)
        return mp.quad(g, [0, 1, 10, 50, mp.inf]) * mp.exp(-y0) / (2 * mp.pi)


@pytest.mark.parametrize("h, k, r", [(0.3, 0.5, 0.99), (-1.2, -0.9, 0.95), (2.0, 1.4, 0.93),  # closed form
                                     (-1.567, -0.34, 0.963), (-3.0, 2.0, 0.99), (-2.5, 1.0, 0.995)])  # Laguerre
def test_corner_error_bound_holds_and_is_tight(h, k, r):
    j, err = special._corner(h, k, r)
    ref = _mpmath_corner_integral(h, k, r)
    # Besides the quadrature error (err), rounding the exponent E ~ e0 costs a relative ~e0 eps,
    # which no quadrature removes (it is the accuracy limit of every branch far in the tails).
    e0 = (h - k) ** 2 / (2 * (1 - r) * (1 + r)) + h * k / (1 + r)
    assert abs(j - float(ref)) <= err + 4e-16 * abs(e0) * j
    assert err <= 1e-13 * j


def test_fast_rule_calibration_on_a_fresh_sample():
    # The rules _fast_rule picks, rerun against the adaptive Gauss-Kronrod path on points the
    # calibration (benchmarks/calibrate_bvn.py, seed 0) did not see.
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "calibrate_bvn.py"
    spec = importlib.util.spec_from_file_location("calibrate_bvn", path)
    calibrate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(calibrate)
    rows = calibrate.measure(4000, seed=3)
    picked = np.array([special._fast_rule(r, v) for r, v in rows[:, :2]])
    errors = np.array([row[2 + p] for row, p in zip(rows, picked) if p >= 0])
    assert errors.size > 2000
    assert errors.max() < 3e-13
