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

# The main job on the bundled sample: train the light model (about 4 min on 2 CPU cores; skipped
# once $(DEMO_WEIGHTS) exists, resumed if interrupted), track the sample video, score the boxes.
DEMO_DIR ?= output/demo
DEMO_CONFIG := configs/quick_schedules/siamrpn_R_18_narrow_sample_train_cpu.yaml
DEMO_SEQ := datasets/siamtrack_sample/val/astronaut_gravel
DEMO_WEIGHTS := $(DEMO_DIR)/train/model_final.pth

demo: $(STAMP)
	@test -f $(DEMO_WEIGHTS) || $(PY) tools/train_net.py --resume \
		--config-file $(DEMO_CONFIG) OUTPUT_DIR $(DEMO_DIR)/train
	$(PY) tools/track_video.py --config-file $(DEMO_CONFIG) --weights $(DEMO_WEIGHTS) \
		--input $(DEMO_SEQ)/astronaut_gravel.mp4 --init-box $$(head -n 1 $(DEMO_SEQ)/groundtruth.txt) \
		--output $(DEMO_DIR)/astronaut_gravel_tracked.mp4 --force \
		--save-boxes $(DEMO_DIR)/results/siamrpn_light/astronaut_gravel.txt
	$(PY) tools/eval_tracker.py --dataset siamtrack_sample_val --compare siamrpn_light \
		--results-dir $(DEMO_DIR)/results --output-dir $(DEMO_DIR)/eval

env: $(STAMP)
	$(PY) -m siamtrack.collect_env

clean-venv:
	rm -rf $(VENV)

# `make test-official`: the same tests in a second venv against the official detectron2, built with
# its compiled ops from a local source: D2_SOURCE=/path/to/detectron2 (a folder or an archive),
# by default the vendored snapshot ../shared/vendor/detectron2-*.tar.gz (sha256-checked).
OFFICIAL_VENV ?= .venv-official
D2_SOURCE ?= $(lastword $(sort $(wildcard ../shared/vendor/detectron2-*.tar.gz)))
OFFICIAL_STAMP := $(OFFICIAL_VENV)/.siamtrack-setup-ok

.PHONY: test-official setup-official FORCE

setup-official: $(OFFICIAL_STAMP)

$(OFFICIAL_STAMP): setup.py dev/setup_env.sh dev/requirements.txt $(wildcard $(D2_SOURCE))
	@test -n "$(D2_SOURCE)" || { echo "make: no detectron2 source for $(OFFICIAL_VENV): found no" \
		"../shared/vendor/detectron2-*.tar.gz; pass D2_SOURCE=/path/to/detectron2 (a source" \
		"folder or .tar.gz/.zip archive)" >&2; exit 1; }
	VENV=$(OFFICIAL_VENV) SIAMTRACK_D2=official D2_SOURCE="$(abspath $(D2_SOURCE))" bash dev/setup_env.sh

# another D2_SOURCE than the venv was built from: run the set-up again (it rebuilds detectron2)
ifneq ($(D2_SOURCE),)
ifneq ($(shell head -n 1 $(OFFICIAL_VENV)/.siamtrack-d2-source 2>/dev/null),$(abspath $(D2_SOURCE)))
$(OFFICIAL_STAMP): FORCE
endif
endif
FORCE:

test-official: $(OFFICIAL_STAMP)
	$(OFFICIAL_VENV)/bin/python -m pytest tests
