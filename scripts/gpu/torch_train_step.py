#!/usr/bin/env python3
"""Training-step throughput of four SR generators in plain PyTorch: the reference for `srlab bench-train` (issue 27).

Each timed step is the usual PyTorch loop, the same work as SRLab's generator update (train/generator_update.h):
    zero_grad; forward + L1 loss (mean |SR - HR|) under autocast (bf16/fp16); backward (of the scaled loss for
    fp16, torch GradScaler); Adam (lr 1e-4, betas 0.9/0.999) step; loss.item() (SRLab reads the loss every step
    to check it is finite, which also synchronises the device; SRLab does it between forward and backward).
on a fixed random batch of LR patches (N,3,p,p) and HR targets (N,3,ps,ps) created on the device once (no
loader, no host-to-device copies, as bench-train). With channels_last the model is NHWC and the LR batch is made
NHWC inside every step, as SRLab's update does. --warmup steps run untimed; CUDA is synchronised before the
clock is read. No SRLab code is used: the architectures are written here from their papers and reference code.

Architectures (--arch; their parameter counts equal SRLab's for the yaml of scripts/gpu/train_matrix.txt,
checked by tests/cli/bench_torch_params_test.sh):
  espcn    ESPCN (Shi et al., CVPR 2016) as configs/quickstart.yaml: conv 5x5 3->64, ReLU, conv 3x3 64->32, ReLU,
           conv 3x3 32->3s^2, pixel shuffle, plus the bicubic upsample of the input (SRLab's residual: bicubic).
  srvgg    SRVGGNetCompact (Real-ESRGAN, Wang et al., ICCVW 2021): conv 3->64, PReLU, 16 x (conv 64->64, PReLU),
           conv 64->3s^2, pixel shuffle, plus the nearest upsample of the input.
  rrdbnet  RRDBNet (ESRGAN, Wang et al., ECCVW 2018): 23 RRDBs of 3 dense blocks (nf 64, gc 32, residual
           scaling 0.2, LeakyReLU 0.2), trunk skip, two nearest x2 upsampling convs, conv_hr, conv_last.
  span     SPAN (Wan et al., CVPRW 2024) with 48 feature channels: Conv3XC blocks (1x1 -> 3x3 -> 1x1 branch plus a
           1x1 skip; the folded eval_conv is a frozen parameter, counted as in the reference), six SPABs with
           parameter-free attention, conv_cat over (f0, conv_2(b6), b1, b6's silu(c1_r)), pixel-shuffle upsampler.

precision: fp32 = float32 without TF32 (torch.backends.cuda.matmul.allow_tf32 and cudnn.allow_tf32 off);
tf32 = both on; bf16 / fp16 = torch.autocast (fp16 with GradScaler; CUDA only), TF32 at PyTorch's defaults
(matmul off, cuDNN on), as SRLab's train.amp. cudnn.benchmark is on (SRLab's train.cudnn_benchmark default).
Works with torch 1.13 and 2.x.

Usage:  python3 scripts/gpu/torch_train_step.py --arch espcn --batch 16 --patch 64 --steps 50 --device cuda --json
"""
import argparse
import contextlib
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------------------------------------- architectures
class Espcn(nn.Module):
    """ESPCN with ReLU and a bicubic residual (configs/quickstart.yaml): (N,3,h,w) -> (N,3,sh,sw)."""

    def __init__(self, scale, num_feat=64):
        super().__init__()
        self.scale = scale
        self.conv1 = nn.Conv2d(3, num_feat, 5, padding=2)
        self.conv2 = nn.Conv2d(num_feat, num_feat // 2, 3, padding=1)
        self.conv3 = nn.Conv2d(num_feat // 2, 3 * scale * scale, 3, padding=1)

    def forward(self, x):
        y = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        y = F.pixel_shuffle(self.conv3(y), self.scale)
        size = (x.shape[2] * self.scale, x.shape[3] * self.scale)
        return y + F.interpolate(x, size=size, mode="bicubic", align_corners=False)


class SrvggCompact(nn.Module):
    """SRVGGNetCompact: all convs at LR size, pixel shuffle, plus the nearest upsample of the input."""

    def __init__(self, scale, num_feat=64, num_conv=16):
        super().__init__()
        self.scale = scale
        layers = [nn.Conv2d(3, num_feat, 3, padding=1), nn.PReLU(num_feat)]
        for _ in range(num_conv):
            layers += [nn.Conv2d(num_feat, num_feat, 3, padding=1), nn.PReLU(num_feat)]
        layers.append(nn.Conv2d(num_feat, 3 * scale * scale, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        y = F.pixel_shuffle(self.body(x), self.scale)
        return y + F.interpolate(x, scale_factor=self.scale, mode="nearest")


class DenseBlock(nn.Module):
    """Five densely connected 3x3 convs; out = x + 0.2 * conv5(cat(x, x1..x4))."""

    def __init__(self, nf, gc):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(nf + i * gc, gc if i < 4 else nf, 3, padding=1) for i in range(5))
        for conv in self.convs:  # ESRGAN's initialisation: Kaiming normal scaled by 0.1, zero bias
            nn.init.kaiming_normal_(conv.weight)
            conv.weight.data.mul_(0.1)
            nn.init.zeros_(conv.bias)

    def forward(self, x):
        feats = [x]
        for i, conv in enumerate(self.convs):
            y = conv(torch.cat(feats, 1))
            if i < 4:
                feats.append(F.leaky_relu(y, 0.2))
        return x + 0.2 * y


class Rrdb(nn.Module):
    def __init__(self, nf, gc):
        super().__init__()
        self.blocks = nn.Sequential(DenseBlock(nf, gc), DenseBlock(nf, gc), DenseBlock(nf, gc))

    def forward(self, x):
        return x + 0.2 * self.blocks(x)


class RrdbNet(nn.Module):
    """ESRGAN generator; x2/x1 pixel-unshuffle the input first (Real-ESRGAN), so the trunk upsamples x4."""

    def __init__(self, scale, nf=64, num_block=23, gc=32):
        super().__init__()
        if scale not in (1, 2, 4):
            raise ValueError("rrdbnet supports scales 1, 2 and 4")
        self.unshuffle = {4: 1, 2: 2, 1: 4}[scale]
        self.conv_first = nn.Conv2d(3 * self.unshuffle ** 2, nf, 3, padding=1)
        self.body = nn.Sequential(*[Rrdb(nf, gc) for _ in range(num_block)])
        self.conv_body = nn.Conv2d(nf, nf, 3, padding=1)
        self.conv_up1 = nn.Conv2d(nf, nf, 3, padding=1)
        self.conv_up2 = nn.Conv2d(nf, nf, 3, padding=1)
        self.conv_hr = nn.Conv2d(nf, nf, 3, padding=1)
        self.conv_last = nn.Conv2d(nf, 3, 3, padding=1)

    def forward(self, x):
        if self.unshuffle > 1:
            x = F.pixel_unshuffle(x, self.unshuffle)
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        for conv in (self.conv_up1, self.conv_up2):
            feat = F.leaky_relu(conv(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
        return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))


class Conv3XC(nn.Module):
    """Re-parameterisable 3x3 conv: training computes 1x1 (c_in -> 2c_in) -> 3x3 valid (-> 2c_out) -> 1x1
    (-> c_out) on the zero-padded input, plus a 1x1 skip; eval_conv (the fold) is a frozen parameter."""

    def __init__(self, c_in, c_out, gain=2):
        super().__init__()
        self.sk = nn.Conv2d(c_in, c_out, 1)
        self.conv = nn.Sequential(nn.Conv2d(c_in, c_in * gain, 1), nn.Conv2d(c_in * gain, c_out * gain, 3),
                                  nn.Conv2d(c_out * gain, c_out, 1))
        self.eval_conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.eval_conv.weight.requires_grad_(False)
        self.eval_conv.bias.requires_grad_(False)

    def forward(self, x):
        return self.conv(F.pad(x, (1, 1, 1, 1))) + self.sk(x)


class Spab(nn.Module):
    """Parameter-free attention block; returns (out, silu(c1_r(x)))."""

    def __init__(self, c):
        super().__init__()
        self.c1_r, self.c2_r, self.c3_r = Conv3XC(c, c), Conv3XC(c, c), Conv3XC(c, c)

    def forward(self, x):
        a1 = F.silu(self.c1_r(x))
        out3 = self.c3_r(F.silu(self.c2_r(a1)))
        return (out3 + x) * (torch.sigmoid(out3) - 0.5), a1


class Span(nn.Module):
    RGB_MEAN = (0.4488, 0.4371, 0.4040)

    def __init__(self, scale, feature_channels=48):
        super().__init__()
        f = feature_channels
        self.register_buffer("mean", torch.tensor(self.RGB_MEAN).view(1, 3, 1, 1), persistent=False)
        self.conv_1 = Conv3XC(3, f)
        self.blocks = nn.ModuleList(Spab(f) for _ in range(6))
        self.conv_cat = nn.Conv2d(4 * f, f, 1)
        self.conv_2 = Conv3XC(f, f)
        self.upsampler = nn.Sequential(nn.Conv2d(f, 3 * scale * scale, 3, padding=1), nn.PixelShuffle(scale))

    def forward(self, x):
        f0 = self.conv_1((x - self.mean) * 255.0)
        b = f0
        for i, block in enumerate(self.blocks):
            b, a1 = block(b)
            if i == 0:
                b1 = b
        return self.upsampler(self.conv_cat(torch.cat([f0, self.conv_2(b), b1, a1], 1)))


ARCHS = {"espcn": Espcn, "srvgg": SrvggCompact, "rrdbnet": RrdbNet, "span": Span}


# ------------------------------------------------------------------------------------------------------ bench
def fail(message):
    print(f"torch_train_step.py: error: {message}", file=sys.stderr)
    sys.exit(1)


def make_grad_scaler():
    """torch.amp.GradScaler('cuda') where it exists (torch >= 2.3), else torch.cuda.amp.GradScaler."""
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda")
    return torch.cuda.amp.GradScaler()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", required=True, choices=sorted(ARCHS))
    p.add_argument("--scale", type=int, default=4)
    p.add_argument("--batch", type=int, default=16, help="samples per step")
    p.add_argument("--patch", type=int, default=64, help="LR patch side (HR side = patch * scale)")
    p.add_argument("--steps", type=int, default=20, help="timed steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before them")
    p.add_argument("--device", default="auto", help="cpu, cuda, cuda:N or auto")
    p.add_argument("--precision", default="fp32", choices=["fp32", "tf32", "bf16", "fp16"])
    cl = p.add_mutually_exclusive_group()
    cl.add_argument("--channels-last", dest="channels_last", action="store_true", default=None,
                    help="NHWC model and LR batches (default: on iff CUDA with bf16/fp16, as SRLab)")
    cl.add_argument("--no-channels-last", dest="channels_last", action="store_false")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all cores)")
    p.add_argument("--foreach", choices=["default", "on", "off"], default="default",
                   help="Adam's multi-tensor implementation: PyTorch's default (on for CUDA tensors in torch 2.x), "
                        "on, or off (one parameter at a time, as LibTorch's Adam)")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    a = p.parse_args()
    for name in ("scale", "batch", "patch", "steps"):
        if getattr(a, name) < 1:
            fail(f"--{name} must be >= 1")
    if a.warmup < 0 or a.threads < 0:
        fail("--warmup and --threads must be >= 0")

    if a.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            device = torch.device(a.device)
        except RuntimeError:
            fail(f"bad device '{a.device}': use cpu, cuda, cuda:N or auto")
        if device.type == "cuda" and not torch.cuda.is_available():
            fail(f"device '{a.device}' requested but CUDA is not available in this PyTorch build/machine")
        if device.type not in ("cpu", "cuda"):
            fail(f"bad device '{a.device}': use cpu, cuda, cuda:N or auto")
    cuda = device.type == "cuda"
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(a.precision)
    if a.precision == "fp16" and not cuda:
        fail(f"--precision fp16 needs a CUDA device (autocast on {device.type} supports bf16 only)")
    channels_last = a.channels_last if a.channels_last is not None else (cuda and amp_dtype is not None)
    threads = a.threads if a.threads > 0 else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    if cuda:
        torch.backends.cudnn.benchmark = True
        tf32 = a.precision == "tf32"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32 or amp_dtype is not None  # fp32: off; amp: PyTorch's default (on)

    torch.manual_seed(0)
    model = ARCHS[a.arch](a.scale).to(device).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    params = sum(t.numel() for t in model.parameters())
    foreach = {"default": None, "on": True, "off": False}[a.foreach]
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.999), foreach=foreach)
    scaler = make_grad_scaler() if a.precision == "fp16" else None
    hr = torch.rand(a.batch, 3, a.patch * a.scale, a.patch * a.scale, device=device)
    lr = torch.rand(a.batch, 3, a.patch, a.patch, device=device)

    def step():
        opt.zero_grad()
        x = lr.contiguous(memory_format=torch.channels_last) if channels_last else lr
        autocast = torch.autocast(device_type=device.type, dtype=amp_dtype) if amp_dtype else contextlib.nullcontext()
        with autocast:
            loss = F.l1_loss(model(x), hr)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
        value = loss.item()
        if not math.isfinite(value):
            fail("the loss became non-finite")
        return value

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    for _ in range(a.warmup):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        value = step()
    sync()
    seconds = time.perf_counter() - t0

    out = {"framework": "pytorch", "torch": torch.__version__, "arch": a.arch, "params": params,
           "device": str(device), "precision": a.precision, "channels_last": bool(channels_last), "degradation": "none",
           "batch": a.batch, "patch": a.patch, "scale": a.scale, "warmup": a.warmup, "steps": a.steps,
           "threads": threads, "foreach": a.foreach, "seconds": seconds, "samples_per_s": a.batch * a.steps / seconds,
           "ms_per_step": 1000.0 * seconds / a.steps, "loss": value}
    if a.json:
        print(json.dumps(out))
    else:
        print(f"{a.arch} x{a.scale} ({params} parameters) on {device}, {a.precision}"
              f"{', channels_last' if channels_last else ''}, batch {a.batch} of {a.patch}x{a.patch} LR: {a.steps} steps in "
              f"{seconds:.3f} s = {out['samples_per_s']:.2f} samples/s ({out['ms_per_step']:.2f} ms/step), "
              f"final L1 {value:.5f}")


if __name__ == "__main__":
    main()
