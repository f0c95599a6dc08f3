# The two commands a newcomer needs: `make crawl` (or `make demo`) and `make test`.
# Both create or reuse the virtual environment in .venv by themselves.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: crawl demo test test-fast test-e2e bench bench-smoke dataset clean install install-test install-dataset

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# what the crawl needs
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# what the tests and benchmarks need too
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed $(VENV)/.installed-dataset

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-dataset: $(VENV)/.installed-dataset

## Crawl the live site: items in output/items/, WARC files in output/warc/
crawl: $(VENV)/.installed
	$(BIN)/scrapy crawl spacewar $(ARGS)

## Start the replica of the site on 127.0.0.1, crawl it with the same spider, print where the outputs are
## (the base install is enough: the replica is in tests/sites/)
demo: $(VENV)/.installed
	$(BIN)/python -m tests.demo $(ARGS)

## Run the test suite (everything: unit and end-to-end)
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(ARGS)

## Run the tests that start no crawl, subprocess or server (tests/unit), in under a minute
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest tests/unit $(ARGS)

## Run the rest (tests/e2e and the replay tools' tests): what `make test` adds to `make test-fast`
test-e2e: $(VENV)/.installed-test
	$(BIN)/python -m pytest --ignore=tests/unit $(ARGS)

## Full benchmarks (minutes); results go to bench/RESULTS.md
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.run --full $(ARGS)

## Tiny benchmark run, as CI does, so the scripts cannot rot
bench-smoke: $(VENV)/.installed-test
	$(BIN)/python -m bench.run --smoke $(ARGS)

# what `make dataset` needs: the base install and the dataset extra (pyarrow)
$(VENV)/.installed-dataset: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dataset]"
	touch $@ $(VENV)/.installed

# the items `make dataset` reads: INPUT=DIR, else the one of output/items/ (make crawl) and
# demo-output/ (make demo) written last
DATASET_INPUT = $(or $(INPUT),$(shell ls -dt output/items demo-output 2>/dev/null | head -n 1),output/items)

## Merge the JSONL of the last crawl's runs (output/items/) or demo's (demo-output/), whichever was
## written last, or INPUT=DIR, into output/dataset (JSONL + Parquet + manifest); no article: exit 66
dataset: $(VENV)/.installed-dataset
	@echo "make dataset: reading $(DATASET_INPUT)/$(if $(INPUT),, (written last of output/items/ and demo-output/; INPUT=DIR to choose))"
	$(BIN)/python -m crawler.offline.dataset build output/dataset $(DATASET_INPUT) $(ARGS)

clean:
	rm -rf build *.egg-info .pytest_cache demo-output
