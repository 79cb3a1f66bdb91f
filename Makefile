# Set-up and everyday commands. `make demo` runs the main job, `make test` the test suite;
# both create .venv first (dev/setup_env.sh) and skip that step once it succeeded.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.siamtrack-setup-ok

.PHONY: setup test demo bench env clean-venv

setup: $(STAMP)

$(STAMP): setup.py dev/setup_env.sh dev/requirements.txt dev/prepare_detectron2_fallback.py dev/detectron2_placeholder_C.py dev/constraints-detectron2-fallback.txt
	VENV=$(VENV) bash dev/setup_env.sh

test: $(STAMP)
	$(PY) -m pytest tests

demo: $(STAMP)
	$(PY) -m siamtrack.collect_env

env: $(STAMP)
	$(PY) -m siamtrack.collect_env

clean-venv:
	rm -rf $(VENV)
