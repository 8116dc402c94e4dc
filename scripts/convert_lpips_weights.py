#!/usr/bin/env python3
"""Convert the weights of the `lpips` Python package (Zhang et al., CVPR 2018) into SRLab's LPIPS layout.

SRLab (models/features/lpips.h) loads a .pt file holding a plain dict name -> float32 tensor (torch.save, zip format):
  features.<i>.*          the torchvision backbone's `features` layers (SqueezeNet 1.1: i = 0,3,4,6,7,9..12)
  lin<k>.model.1.weight   the v0.1 linear layers, k = 0..6, shape [1, C_k, 1, 1]
This is the layout of ../shared/data/weights/lpips/lpips_squeeze_v0.1.pt.

NOTE: this script cannot be run on the SRLab build machine (no PyPI access, no `lpips`/torchvision); run it
where `pip install lpips` works. SRLab's C++ loader currently implements the 'squeeze' backbone only; files
for 'alex'/'vgg' are written in the same layout for future use.

Usage:  python3 scripts/convert_lpips_weights.py --net squeeze --out lpips_squeeze_v0.1.pt
"""
import argparse
import re

import lpips  # pip install lpips (pulls torch + torchvision; downloads the backbone on first use)
import torch


def convert(net: str) -> dict:
    model = lpips.LPIPS(net=net, version="0.1", pretrained=True).eval()
    # lpips splits torchvision's `features` into sequential slices net.slice<n>.<i>.*, where <i> is the
    # original index in `features`; the linear layers are lin<k>.model.1.weight.
    out = {}
    for name, tensor in model.state_dict().items():
        m = re.fullmatch(r"net\.slice\d+\.(\d+)\.(.+)", name)
        if m:
            out[f"features.{m.group(1)}.{m.group(2)}"] = tensor.detach().float().cpu().contiguous()
        elif re.fullmatch(r"lin\d+\.model\.1\.weight", name):
            out[name] = tensor.detach().float().cpu().contiguous()
        # scaling_layer.shift/scale are constants built into SRLab; nothing else is needed.
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--net", default="squeeze", choices=["squeeze", "alex", "vgg"])
    ap.add_argument("--out", required=True, help="output .pt file")
    args = ap.parse_args()
    tensors = convert(args.net)
    torch.save(tensors, args.out)  # zip format (torch >= 1.6), readable by torch::pickle_load
    print(f"wrote {len(tensors)} tensors to {args.out}")


if __name__ == "__main__":
    main()
