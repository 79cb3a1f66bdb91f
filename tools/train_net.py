#!/usr/bin/env python
"""Train (or evaluate) a siamtrack model with detectron2's training loop.

  python tools/train_net.py --config-file configs/siamrpn/quick_schedules/siamrpn_R_18_narrow_sample_train_cpu.yaml
  python tools/train_net.py --config-file configs/nanotrack/quick_schedules/nanotrack_v3_finetune_sample_cpu.yaml
  python tools/train_net.py --config-file CFG --resume            # continue the last checkpoint
  python tools/train_net.py --config-file CFG --eval-only MODEL.WEIGHTS out/model_final.pth
  python tools/train_net.py --config-file CFG --num-gpus 8        # CPU-only: 8 gloo processes
  torchrun --nproc_per_node 2 tools/train_net.py --config-file CFG

Trailing KEY VALUE pairs override config keys (detectron2 convention); MODEL.WEIGHTS may be a
model zoo name (nanotrack_v3). Bad input (a missing or malformed config, a weight file that
does not fit) stops with one line on stderr and exit code 2.
"""

import sys

# torch-free: the arguments are parsed (and --help answered) before torch and detectron2 load
from siamtrack.cli import run_tool, training_argument_parser

PROG = "train_net.py"


def main(args):
    from siamtrack.checkpoint import SiamCheckpointer
    from siamtrack.engine import SiamTrainer, setup_training

    cfg = setup_training(args)
    if args.eval_only:
        model = SiamTrainer.build_model(cfg)
        SiamCheckpointer(
            model, save_dir=cfg.OUTPUT_DIR, trust_weights=cfg.MODEL.TRUST_WEIGHTS
        ).resume_or_load(cfg.MODEL.WEIGHTS, resume=args.resume)
        return SiamTrainer.test(cfg, model)
    trainer = SiamTrainer(cfg)
    trainer.resume_or_load(resume=args.resume)
    return trainer.train()


def invoke_main() -> int:
    args = training_argument_parser().parse_args()
    print("Command Line Args:", args)

    def run() -> int:
        from siamtrack.engine import launch

        launch(
            main,
            args.num_gpus,
            num_machines=args.num_machines,
            machine_rank=args.machine_rank,
            dist_url=args.dist_url,
            args=(args,),
        )
        return 0

    return run_tool(PROG, run)


if __name__ == "__main__":
    sys.exit(invoke_main())
