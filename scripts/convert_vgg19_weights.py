#!/usr/bin/env python3
"""Write torchvision's ImageNet VGG19 `features` weights in the layout SRLab's perceptual_vgg loss loads.

SRLab (models/features/vgg19_features.h) reads a .pt file holding a plain dict name -> float32 tensor (torch.save,
zip format) with exactly the 32 tensors features.<i>.weight / features.<i>.bias of torchvision's
vgg19().features (i = 0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34). The classifier is
dropped. These are the weights BasicSR's VGGFeatureExtractor uses (vgg19-dcbb9e9d.pth).

NOTE: SRLab ships no VGG19 weights and its build machine has no PyPI/model-hub access; run this where
`pip install torch torchvision` works (the weights are downloaded by torchvision on first use), then copy the
file to <data>/weights/vgg/vgg19_features.pt, set SRLAB_VGG19_WEIGHTS, or pass it as the loss's `weights:`.

Usage:  python3 scripts/convert_vgg19_weights.py --out vgg19_features.pt
        python3 scripts/convert_vgg19_weights.py --from vgg19-dcbb9e9d.pth --out vgg19_features.pt
"""
import argparse

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="src", default="",
                    help="an existing torchvision VGG19 state dict (.pth); default: torchvision's IMAGENET1K_V1")
    ap.add_argument("--out", required=True, help="output .pt file")
    args = ap.parse_args()
    if args.src:
        state = torch.load(args.src, map_location="cpu")
    else:
        import torchvision  # noqa: PLC0415 (only needed for the download)
        state = torchvision.models.vgg19(weights=torchvision.models.VGG19_Weights.IMAGENET1K_V1).state_dict()
    tensors = {k: v.detach().float().cpu().contiguous() for k, v in state.items() if k.startswith("features.")}
    if len(tensors) != 32:
        raise SystemExit(f"expected 32 features.* tensors of VGG19, found {len(tensors)}: is this VGG19?")
    torch.save(tensors, args.out)  # zip format (torch >= 1.6), readable by torch::pickle_load
    print(f"wrote {len(tensors)} tensors to {args.out}")


if __name__ == "__main__":
    main()
