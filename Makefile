# Set-up and everyday commands. `make demo` runs the main job, `make test` the test suite;
# both create .venv first (dev/setup_env.sh) and skip that step once it succeeded.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.siamtrack-setup-ok

.PHONY: setup test demo demo-train env clean-venv

setup: $(STAMP)

$(STAMP): setup.py dev/setup_env.sh dev/requirements.txt dev/prepare_detectron2_fallback.py dev/detectron2_placeholder_C.py dev/constraints-detectron2-fallback.txt
	VENV=$(VENV) bash dev/setup_env.sh

# the tests run on every core (one pytest worker per core, one torch thread per test);
# TEST_WORKERS=0 runs them in this process
TEST_WORKERS ?= auto

test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) tests

# The main job: track the bundled sample video with the pretrained NanoTrack v3 (model zoo name;
# the weights come from $(SIAMTRACK_WEIGHTS_DIR) when that folder exists, else from the cache or
# a verified download), write the annotated video, the boxes and the confidence plot, and score
# them (OPE). About 15 s after set-up on 2 CPU cores (AVX-512).
DEMO_DIR ?= output/demo
DEMO_SEQ := datasets/siamtrack_sample/val/astronaut_gravel
SHARED_WEIGHTS := $(wildcard ../shared/weights/nanotrack)
export SIAMTRACK_WEIGHTS_DIR ?= $(if $(SHARED_WEIGHTS),$(abspath $(SHARED_WEIGHTS)))

demo: $(STAMP)
	$(PY) tools/track_video.py --config-file configs/nanotrack/nanotrack_v3.yaml \
		--weights nanotrack_v3 --input $(DEMO_SEQ)/astronaut_gravel.mp4 \
		--init-box $$(head -n 1 $(DEMO_SEQ)/groundtruth.txt) --force \
		--output $(DEMO_DIR)/astronaut_gravel_tracked.mp4 \
		--save-boxes $(DEMO_DIR)/results/nanotrack_v3/astronaut_gravel.txt \
		--confidence-plot $(DEMO_DIR)/astronaut_gravel_confidence.png
	$(PY) tools/eval_tracker.py --dataset siamtrack_sample_val --compare nanotrack_v3 \
		--results-dir $(DEMO_DIR)/results --output-dir $(DEMO_DIR)/eval

# Training demo: train the light SiamRPN++ on the bundled sample from scratch (400 iterations:
# about 4.5 min on a 2-core AVX-512 machine, about 20 min on a 2-core AVX2 one; skipped once
# $(DEMO_TRAIN_WEIGHTS) exists, resumed if interrupted), track the sample video, score it.
DEMO_TRAIN_CONFIG := configs/siamrpn/quick_schedules/siamrpn_R_18_narrow_sample_train_cpu.yaml
DEMO_TRAIN_WEIGHTS := $(DEMO_DIR)/train/model_final.pth

demo-train: $(STAMP)
	@test -f $(DEMO_TRAIN_WEIGHTS) || $(PY) tools/train_net.py --resume \
		--config-file $(DEMO_TRAIN_CONFIG) OUTPUT_DIR $(DEMO_DIR)/train
	$(PY) tools/track_video.py --config-file $(DEMO_TRAIN_CONFIG) --weights $(DEMO_TRAIN_WEIGHTS) \
		--input $(DEMO_SEQ)/astronaut_gravel.mp4 --init-box $$(head -n 1 $(DEMO_SEQ)/groundtruth.txt) \
		--output $(DEMO_DIR)/astronaut_gravel_tracked_light.mp4 --force \
		--save-boxes $(DEMO_DIR)/results/siamrpn_light/astronaut_gravel.txt
	$(PY) tools/eval_tracker.py --dataset siamtrack_sample_val --compare siamrpn_light \
		--results-dir $(DEMO_DIR)/results --output-dir $(DEMO_DIR)/eval_train

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
	$(OFFICIAL_VENV)/bin/python -m pytest -n $(TEST_WORKERS) tests
