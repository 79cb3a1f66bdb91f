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
