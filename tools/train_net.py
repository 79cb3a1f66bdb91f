#!/usr/bin/env python
"""Train (or evaluate) a siamtrack model with detectron2's training loop.

  python tools/train_net.py --config-file configs/quick_schedules/siamrpn_light_sample_cpu.yaml
  python tools/train_net.py --config-file CFG --resume            # continue the last checkpoint
  python tools/train_net.py --config-file CFG --eval-only MODEL.WEIGHTS out/model_final.pth
  python tools/train_net.py --config-file CFG --num-gpus 8        # CPU-only: 8 gloo processes
  torchrun --nproc_per_node 2 tools/train_net.py --config-file CFG

Trailing KEY VALUE pairs override config keys (detectron2 convention).
"""

from detectron2.engine import default_argument_parser

from siamtrack.checkpoint import SiamCheckpointer
from siamtrack.engine import SiamTrainer, launch, setup_training


def main(args):
    cfg = setup_training(args)
    if args.eval_only:
        model = SiamTrainer.build_model(cfg)
        SiamCheckpointer(
            model, save_dir=cfg.OUTPUT_DIR, trust_weights=cfg.MODEL.TRUST_WEIGHTS
        ).resume_or_load(
            cfg.MODEL.WEIGHTS, resume=args.resume
        )
        return SiamTrainer.test(cfg, model)
    trainer = SiamTrainer(cfg)
    trainer.resume_or_load(resume=args.resume)
    return trainer.train()


def invoke_main() -> None:
    args = default_argument_parser().parse_args()
    print("Command Line Args:", args)
    launch(
        main,
        args.num_gpus,
        num_machines=args.num_machines,
        machine_rank=args.machine_rank,
        dist_url=args.dist_url,
        args=(args,),
    )


if __name__ == "__main__":
    invoke_main()
