"""``beyond-collapse breakdown`` and ``beyond-collapse rates``: output, JSON, angle parsing, errors.

References: the numbers printed are compared with values computed by hand from the closed forms'
definitions (p* = phi / (phi + psi); isotropic p = theta_gen / pi), and angle parsing with
math.pi arithmetic.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from beyond_collapse import cli
from beyond_collapse.theory.angles import parse_angle


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_breakdown_json(capsys):
    code, out, err = _run(capsys, "breakdown", "--phi", "1", "--psi", "0.25", "--t", "0.1", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["p_star"] == pytest.approx(1 / 1.25, rel=1e-15)
    # eq. (19) by hand: (1 - t) / (1 - t + (1 + t) psi/phi) and (1 + t) / (1 + t + (1 - t) psi/phi)
    assert data["p_minus"] == pytest.approx(0.9 / (0.9 + 1.1 * 0.25), rel=1e-15)
    assert data["p_plus"] == pytest.approx(1.1 / (1.1 + 0.9 * 0.25), rel=1e-15)


def test_breakdown_human_readable(capsys):
    code, out, _ = _run(capsys, "breakdown", "--phi", "1", "--psi", "1")
    assert code == 0
    assert "p* = 0.5" in out and "p-*(t) = 0.45" in out and "p+*(t) = 0.55" in out


def test_rates_isotropic_json(capsys):
    code, out, _ = _run(capsys, "rates", "isotropic", "--theta-gen", "pi/3", "--theta-prune", "pi/6",
                        "--theta", "pi/4", "--json")
    assert code == 0
    data = json.loads(out)
    tg, tp, t = math.pi / 3, math.pi / 6, math.pi / 4
    assert data["p"] == pytest.approx(tg / math.pi, rel=1e-15)
    assert data["phi"] == pytest.approx((2 * math.pi - tg - tp - t) / (2 * (math.pi - tg)), rel=1e-14)
    assert data["psi"] == pytest.approx((tg + tp - t) / (2 * tg), rel=1e-14)
    assert data["below_breakdown"] is True  # tg + tp < pi


def test_rates_gaussian_mixture_human_readable(capsys):
    code, out, _ = _run(capsys, "rates", "gaussian-mixture", "--mu-norm", "0.5", "--d", "20",
                        "--theta-gen", "pi/2", "--theta-prune", "pi/2", "--theta", "pi/2")
    assert code == 0
    # |mu| cos(pi/2) ~ 0: the generator is a coin flip, p = Phi(~0) = 1/2.
    assert "generator error p = 0.5" in out and "breakdown point p*" in out


@pytest.mark.parametrize("argv, needle", [
    (["breakdown", "--phi", "0", "--psi", "0"], "nothing survives"),
    (["breakdown", "--phi", "1.5", "--psi", "0.2"], "phi must lie in [0, 1]"),
    (["breakdown", "--phi", "1", "--psi", "0.2", "--t", "1"], "t must lie in (0, 1)"),
    (["rates", "isotropic", "--theta-gen", "0.1", "--theta-prune", "0.2", "--theta", "1"], "triangle inequality"),
    (["rates", "isotropic", "--theta-gen", "__import__('os')", "--theta-prune", "0.2", "--theta", "1"],
     "is not a number"),
    (["rates", "gaussian-mixture", "--mu-norm", "1", "--d", "5", "--theta-gen", "1", "--theta-prune", "1",
      "--theta", "0"], "mu_norm must lie in [0, 1)"),
])
def test_bad_input_one_stderr_line_exit_2(capsys, argv, needle):
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse-level errors exit through parser.error
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err


@pytest.mark.parametrize("text, value", [
    ("pi", math.pi), ("pi/12", math.pi / 12), ("3*pi/4", 3 * math.pi / 4), ("3pi/4", 3 * math.pi / 4),
    ("-pi/2", -math.pi / 2), ("0.5", 0.5), ("1e-3", 1e-3), (" 2 * pi / 3 ", 2 * math.pi / 3), ("0.25*pi", math.pi / 4),
])
def test_parse_angle_accepts(text, value):
    assert parse_angle(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("text", ["", "pi*pi", "2**3", "pi/0", "eval(1)", "1/2/3", "3*", "tau", "nan", "1+pi"])
def test_parse_angle_rejects(text):
    with pytest.raises(ValueError):
        parse_angle(text)


def test_console_script_in_subprocess_exit_code_and_no_torch():
    # One real process: the exit status reaches the shell, and `breakdown` never imports torch.
    code = ("import sys; from beyond_collapse import cli; rc = cli.main(sys.argv[1:]); "
            "assert 'torch' not in sys.modules; sys.exit(rc)")
    ok = subprocess.run([sys.executable, "-c", code, "breakdown", "--phi", "1", "--psi", "0.25", "--json"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and json.loads(ok.stdout)["p_star"] == pytest.approx(0.8)
    bad = subprocess.run([sys.executable, "-m", "beyond_collapse.cli", "breakdown", "--phi", "2", "--psi", "0"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1
