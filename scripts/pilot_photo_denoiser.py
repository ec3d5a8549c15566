"""The pilot behind the photo-denoiser's shape: how fast each network learns at first.

200 Adam steps (lr 1e-3 unless given) on batches of 16 patches of 32x32 from
scikit-image's `brick` (a training-side image), Gaussian noise sigma 0.1 (the noisy
input's MSE is 0.01); it prints the batch's training MSE every 25 steps. One seed, one
image, a noisy measure: it decided between shapes that learn and shapes that do not,
within the CPU budget of the bundled model, not fine differences.

    python scripts/pilot_photo_denoiser.py FEATURES DEPTH UNSHUFFLE bn|nobn [LR]
    python scripts/pilot_photo_denoiser.py 32 12 2 bn      # FFDNet-like: half resolution
    python scripts/pilot_photo_denoiser.py 32 7 1 nobn     # the bundled shape
"""

import sys

import skimage.data
import torch

from aekit.nn.image_denoiser import ImageDenoiserConfig, ImageDenoiserNet


def main():
    torch.set_num_threads(1)
    features, depth, unshuffle = (int(a) for a in sys.argv[1:4])
    lr = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-3
    x0 = torch.tensor(skimage.data.brick() / 255.0, dtype=torch.float32)
    X = torch.stack([x0[i:i + 32, j:j + 32] for i in range(0, 480, 16)
                     for j in range(0, 480, 16)])[:, None]
    torch.manual_seed(0)
    cfg = ImageDenoiserConfig(features, depth, unshuffle=unshuffle, batch_norm=sys.argv[4] == "bn")
    net = ImageDenoiserNet(cfg)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for step in range(1, 201):
        x = X[torch.randint(0, len(X), (16,))]
        noisy = x + 0.1 * torch.randn_like(x)
        net.train()
        opt.zero_grad()
        loss = net.loss(net(noisy), x)
        loss.backward()
        opt.step()
        if step % 25 == 0:
            print(step, f"{float(loss):.5f} (noisy input: 0.01)", flush=True)


if __name__ == "__main__":
    main()
