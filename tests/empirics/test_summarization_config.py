"""Profiles, the run layout and the committed results of the Sec. 5.3 experiment (no torch needed)."""

import dataclasses
import json
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from beyond_collapse.empirics.summarization.commands import RESULTS_DIR
from beyond_collapse.empirics.summarization.modeling import TinyLlamaSpec, TrainSpec
from beyond_collapse.empirics.summarization.pipeline import (
    CONFIGS, config_from_record, get_profile, load_results, output_paths, paired_difference,
)
from beyond_collapse.runs import PROFILES, _jsonable

REPO = Path(__file__).resolve().parents[2]


def test_profiles_are_frozen_keyword_configs():
    assert tuple(CONFIGS) == PROFILES and all(get_profile(p) is CONFIGS[p] for p in PROFILES)
    with pytest.raises(ValueError, match="profile"):
        get_profile("huge")
    with pytest.raises(TypeError):
        TrainSpec(3e-3, "cosine", 1, 8)  # keyword-built only
    with pytest.raises(TypeError):
        TinyLlamaSpec(16, 32, 1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_profile("cpu").seed = 1
    cfg = get_profile("cpu", seed=3, train_limit=10)  # overrides replace fields, the profile is unchanged
    assert (cfg.seed, cfg.train_limit, CONFIGS["cpu"].seed, CONFIGS["cpu"].train_limit) == (3, 10, 0, 800)


def test_cpu_recipes_serialise_as_its_runs_folder_records_them():
    """The unit records in runs/cpu/summarization/ store these fields; a different serialisation
    (e.g. epochs 1.0 for 1, a renamed field) would make a resumed cpu run refuse its own units."""
    full = json.loads(json.dumps(asdict(get_profile("cpu"))))
    spec = {"scheduler": "cosine", "epochs": 1, "batch_size": 4, "grad_accum": 1, "warmup_steps": 0,
            "weight_decay": 0.0, "bf16": False}
    base = {"name": "smollm2-135m", "tiny": None, "pretrain": None, "pretrain_article_tokens": None, "seed": 0}
    expected = {"base": base, "weak_base": base,
                "generator_train": {"learning_rate": 5e-05, **spec},
                "retrain": {"learning_rate": 2e-05, **spec, "scheduler": "constant"},
                "real_train": {"learning_rate": 5e-05, **spec}}
    for key, value in expected.items():
        assert json.dumps(full[key]) == json.dumps(value), key


def test_cpu_results_do_not_overwrite_quick():
    """With the default --out, each profile writes its own folder (the fig5 overwrite bug class)."""
    from beyond_collapse.cli import build_parser

    args = build_parser().parse_args(["summarize", "run", "--profile", "cpu"])
    assert args.out == RESULTS_DIR and args.seed is None  # None: the profile's seed
    cpu, quick = output_paths(args.out, "cpu"), output_paths(args.out, "quick")
    assert cpu["results"] == Path(RESULTS_DIR) / "cpu" / "results.json"
    assert not set(cpu.values()) & set(quick.values())
    assert all(p.parent.name == "cpu" for p in cpu.values())


@pytest.mark.parametrize("profile", ["quick", "cpu"])
def test_committed_results_are_in_the_profile_folder(profile):
    record = load_results(REPO / RESULTS_DIR, profile)
    assert record is not None, f"{RESULTS_DIR}/{profile}/results.json missing"
    assert config_from_record(record["config"]).profile == profile
    for path in output_paths(REPO / RESULTS_DIR, profile).values():
        assert path.is_file(), path


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="unknown config keys"):
        get_profile("cpu", learning_rate=1.0)
    with pytest.raises(ValueError, match="loss_on"):
        get_profile("cpu", loss_on="prompt")
    with pytest.raises(ValueError, match="retrain_seeds"):
        get_profile("cpu", retrain_seeds=(1, 2))
    with pytest.raises(ValueError, match="eval_fractions"):
        get_profile("cpu", eval_fractions=(0.5,))


def test_committed_results_describe_themselves():
    """A results file's stored config rebuilds the config it was run with (not today's profile)."""
    for profile in PROFILES:
        cfg = get_profile(profile)
        stored = json.loads(json.dumps(_jsonable(asdict(cfg))))  # as written to results JSON
        assert config_from_record(stored) == cfg
    old = json.loads(json.dumps(_jsonable(asdict(get_profile("quick", test_limit=7)))))
    assert config_from_record(old).test_limit == 7 != get_profile("quick").test_limit


def test_paired_difference_standard_error():
    # d = a - b = [1, 2, 3, 4]: mean 2.5, sample std sqrt(5/3), SE sqrt(5/3) / 2
    mean, se = paired_difference([2, 4, 6, 8], [1, 2, 3, 4])
    assert mean == pytest.approx(2.5, abs=1e-15) and se == pytest.approx(np.sqrt(5 / 3) / 2, rel=1e-14)
    with pytest.raises(ValueError, match="equal-length"):
        paired_difference([1.0], [0.0])
