"""Make the PyTorch ResnetGenerator fixture for `synth convert`, with torch (never a synth dependency).

The network is the CycleGAN authors' ResnetGenerator (junyanz/pytorch-CycleGAN-and-pix2pix,
models/networks.py, norm "instance", no dropout), written out again here: one nn.Sequential
named `model`, so the state dict has the authors' keys (`model.1.weight`, ...,
`model.10.conv_block.5.bias`, ...); InstanceNorm2d without affine and without running stats;
biases on every conv; ConvTranspose2d(k=3, stride=2, padding=1, output_padding=1). Run it
in a throwaway venv with torch, safetensors and numpy:

    python -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch safetensors numpy
    /tmp/torchvenv/bin/python tools/reference_torch_resnet.py OUTDIR [--ngf 4] [--blocks 2] [--seed 0]

Writes OUTDIR/latest_net_G.pth (torch.save of the state dict, with running_mean/running_var
entries added as files from older PyTorch carry them), OUTDIR/state_dict.safetensors (the
same arrays under the same names, PyTorch layouts) and OUTDIR/expected.npz; see
tests/fixtures/torch_resnet_tiny/README.md.
"""
import argparse
import os

import numpy as np
import torch
from safetensors.numpy import save_file
from torch import nn


def resnet_block(dim):
    return nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim), nn.ReLU(True),
                         nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3), nn.InstanceNorm2d(dim))


class Residual(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_block = resnet_block(dim)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, ngf, blocks):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(True)]
        for mult in (1, 2):
            layers += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1),
                       nn.InstanceNorm2d(ngf * mult * 2), nn.ReLU(True)]
        layers += [Residual(ngf * 4) for _ in range(blocks)]
        for mult in (4, 2):
            layers += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1),
                       nn.InstanceNorm2d(ngf * mult // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


def randomise(net, generator):
    """O(1) activations: weights N(0, 1/sqrt(inputs per output)), biases N(0, 0.3)."""
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                taps = module.weight.shape[2] * module.weight.shape[3]
                inputs = module.weight.shape[0] if isinstance(module, nn.ConvTranspose2d) else module.weight.shape[1]
                if isinstance(module, nn.ConvTranspose2d):
                    taps /= 4  # stride 2: each output sees about a quarter of the taps
                module.weight.normal_(0, 1 / float(np.sqrt(taps * inputs)), generator=generator)
                module.bias.normal_(0, 0.3, generator=generator)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--ngf", type=int, default=4)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    generator = torch.Generator().manual_seed(args.seed)
    net = ResnetGenerator(args.ngf, args.blocks).eval()
    randomise(net, generator)
    state = {name: value.clone() for name, value in net.state_dict().items()}
    for name, module in net.named_modules():  # what InstanceNorm2d carried before PyTorch 0.4
        if isinstance(module, nn.InstanceNorm2d):
            state[f"{name}.running_mean"] = torch.randn(module.num_features, generator=generator)
            state[f"{name}.running_var"] = torch.rand(module.num_features, generator=generator) + 0.5
    os.makedirs(args.outdir, exist_ok=True)
    torch.save(state, os.path.join(args.outdir, "latest_net_G.pth"))
    save_file({name: value.numpy() for name, value in state.items()},
              os.path.join(args.outdir, "state_dict.safetensors"))

    rng = np.random.RandomState(args.seed + 1)
    results = {}
    for height, width in ((64, 64), (40, 56)):
        x = rng.uniform(-1, 1, (1, height, width, 3)).astype(np.float32)  # NHWC, as synth takes
        with torch.no_grad():
            y = net(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
        results[f"x_{height}x{width}"], results[f"y_{height}x{width}"] = x, y
        print(f"{height}x{width}: y std {y.std():.3f}, |y| > 0.99: {(np.abs(y) > 0.99).mean():.3f}")
    np.savez_compressed(os.path.join(args.outdir, "expected.npz"), **results)


if __name__ == "__main__":
    main()
