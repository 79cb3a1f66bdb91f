"""SiamRPN++'s config keys (``add_siamrpn_config``): the dilated ResNet, the neck, the RPN
head with its anchors, targets and losses.

Where the numbers come from: ``docs/siamrpnpp.md`` (pysot's SiamRPN++ r50 l234 recipe). Keys
detectron2 already has (``MODEL.RESNETS.*``) are reused and set in
``configs/siamrpn/Base-SiamRPN.yaml``. Registered with ``siamtrack.config``, so
``add_siamtrack_config`` adds these keys too.
"""

from detectron2.config import CfgNode as CN

from ...config import register_config_adder

__all__ = ["add_siamrpn_config"]


@register_config_adder
def add_siamrpn_config(cfg: CN) -> None:
    """Add ``MODEL.SIAM_RESNET``, ``MODEL.SIAM_NECK`` and ``MODEL.SIAM_RPN`` in place."""
    # ---------------------------------------------------------------- dilated ResNet backbone
    # Depth, widths, norm and OUT_FEATURES come from detectron2's MODEL.RESNETS.* keys.
    cfg.MODEL.SIAM_RESNET = CN()
    # "pysot": pysot's resnet_atrous layout (7x7 stem with padding 0, 3x3 projection shortcuts,
    #   15x15 template / 31x31 search features) so pysot's checkpoints load exactly; crop sizes
    #   8n + 7 (127/255) centre its receptive-field grid.
    # "standard": torchvision/detectron2 ResNet layout (padded stem, 1x1 shortcuts) so ImageNet
    #   checkpoints (detectron2 .pkl, torchvision resnet*.pth) load; crop sizes 8n + 1 (129/257).
    cfg.MODEL.SIAM_RESNET.LAYOUT = "pysot"
    # Dilation of res4 and res5; these stages keep stride 1, so the total stride stays 8.
    cfg.MODEL.SIAM_RESNET.RES4_DILATION = 2
    cfg.MODEL.SIAM_RESNET.RES5_DILATION = 4

    # ---------------------------------------------------------------- neck (docs/siamrpnpp.md#network)
    cfg.MODEL.SIAM_NECK = CN()
    # Channels of the 1x1 conv + BN that adjusts every backbone level; 0: no adjust layer, the
    # backbone's features go to the head as they are (pysot's ADJUST: False, AlexNet).
    cfg.MODEL.SIAM_NECK.OUT_CHANNELS = 256
    # Side of the centre crop applied to template features (15x15 -> 7x7) when they are larger;
    # 0 disables it.
    cfg.MODEL.SIAM_NECK.TEMPLATE_CROP_SIZE = 7

    # ---------------------------------------------------------------- RPN head (docs/siamrpnpp.md)
    # (the head itself: MODEL.SIAMESE.HEAD_NAME "MultiLevelDepthwiseRPNHead", or
    # "UpChannelRPNHead" for SiamRPN's single-level up-channel head, docs/siamrpnpp.md#siamrpn)
    cfg.MODEL.SIAM_RPN = CN()
    # Backbone levels that get a neck branch and a depthwise-xcorr RPN head each.
    cfg.MODEL.SIAM_RPN.IN_FEATURES = ["res3", "res4", "res5"]
    # Channels of the template/search 3x3 convs and of the hidden 1x1 conv in each head
    # (depthwise heads; the up-channel head keeps its input width).
    cfg.MODEL.SIAM_RPN.HIDDEN_CHANNELS = 256
    # True: levels fused with learned softmax weights; False: plain mean of the levels.
    cfg.MODEL.SIAM_RPN.WEIGHTED_FUSION = True
    # UpChannelRPNHead only: multiply the template convs' gradients by 1 / (48 C^2) in training,
    # which keeps training from scratch stable (siamtrack/families/siamrpn/upchannel_head.py);
    # False: pysot's plain gradients. Weights mean the same either way.
    cfg.MODEL.SIAM_RPN.UPCHANNEL_BALANCED_GRADIENTS = False
    # Anchor grid spacing in search-crop pixels (the network's total stride).
    cfg.MODEL.SIAM_RPN.ANCHOR_STRIDE = 8
    # Anchor aspect ratios (h / w) and scales (anchor side = STRIDE * scale before the ratio).
    cfg.MODEL.SIAM_RPN.ANCHOR_RATIOS = [0.33, 0.5, 1.0, 2.0, 3.0]
    cfg.MODEL.SIAM_RPN.ANCHOR_SCALES = [8.0]
    # Anchors with IoU >= the upper threshold are positives, < the lower one negatives.
    cfg.MODEL.SIAM_RPN.IOU_THRESHOLDS = [0.3, 0.6]
    # Per positive pair: at most POSITIVE_NUM positives and NEGATIVE_NUM negatives are sampled.
    cfg.MODEL.SIAM_RPN.POSITIVE_NUM = 16
    cfg.MODEL.SIAM_RPN.NEGATIVE_NUM = 48
    # Per negative pair: NEGATIVE_PAIR_NUM anchors sampled as negatives from the
    # (2R+1) x (2R+1) cells around the distractor's centre, R = NEGATIVE_PAIR_RADIUS.
    cfg.MODEL.SIAM_RPN.NEGATIVE_PAIR_NUM = 16
    cfg.MODEL.SIAM_RPN.NEGATIVE_PAIR_RADIUS = 3
    # total loss = CLS_LOSS_WEIGHT * cls + LOC_LOSS_WEIGHT * loc
    cfg.MODEL.SIAM_RPN.CLS_LOSS_WEIGHT = 1.0
    cfg.MODEL.SIAM_RPN.LOC_LOSS_WEIGHT = 1.2
    # Bound of |dw| and |dh| before exp() when decoding boxes (detectron2's Box2BoxTransform
    # scale_clamp, applied both ways): box sides stay within 1/62.5x .. 62.5x an anchor's.
    cfg.MODEL.SIAM_RPN.SCALE_CLAMP = 4.135166556742356
