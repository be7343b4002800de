# reptune — the two commands a newcomer needs:
#   make run    install what is missing, fetch the model, build (release), run the most complete demo
#   make test   install what is missing, fetch the model, run the test suite (release mode)
SWIFT      ?= swift
BUILD_ARGS ?= -c release
MODEL      := models/SmolLM2-135M-Instruct.Q4_1.gguf
BIN        := .build/release/reptune

.PHONY: all setup deps model build run test bench clean

all: build

deps:
	@bash scripts/setup.sh deps

model:
	@bash scripts/setup.sh model

setup: deps model

build: deps
	$(SWIFT) build $(BUILD_ARGS) --product reptune

run: setup build
	@bash scripts/demo.sh

test: setup
	$(SWIFT) build $(BUILD_ARGS) --build-tests
	@# The tests run on the OpenBLAS kernels the reptune binary runs on (see `reptune blas`).
	OPENBLAS_CORETYPE="$${OPENBLAS_CORETYPE:-$$($(BIN) blas --core-type)}" $(SWIFT) test $(BUILD_ARGS) --skip-build

bench: setup build
	$(BIN) bench --sweep

clean:
	rm -rf .build
