"""How often `aekit denoise` warns that an input is unlike the digits its model knows.

Runs the bundled mnist-denoiser's check (aekit.denoising.unfamiliarity, the same as the
command's) on MNIST test digits under protocol D's noises (and heavier ones), where a
warning is a false alarm, and on pictures that are not single digits: smooth random
"photos" of random sizes and blur, strips of 3 and 10 test digits side by side, and
the synthetic non-digits of aekit.evaluation.synthetic. Prints the share warned of each.

    python scripts/bench_unfamiliar.py [--data-dir DIR] [--n 1000]
"""

import argparse

import numpy as np


def pictures(Xt, n, seed=0):
    from scipy import ndimage

    from aekit.evaluation.denoise import corrupt
    from aekit.evaluation.synthetic import non_digits

    rng = np.random.RandomState(seed)
    digits = {"clean digits": Xt[:n]}
    for spec in ("gaussian:0.5", "masking:0.25", "saltpepper:0.1", "gaussian:0.7"):
        digits[f"digits + {spec}"] = corrupt(Xt[:n], spec, seed)
    others = {"smooth random photos": []}
    for _ in range(200):
        h, w = rng.randint(100, 400, size=2)
        img = ndimage.gaussian_filter(rng.rand(h, w), sigma=rng.uniform(1, 20))
        others["smooth random photos"].append((img - img.min()) / (img.max() - img.min()))
    for k in (3, 10):
        others[f"strips of {k} digits"] = [
            1 - np.hstack([Xt[j].reshape(28, 28) for j in rng.choice(len(Xt), k)])
            for _ in range(100)]
    odd, kinds = non_digits(Xt, 300, seed=seed)
    for kind in ("shuffled", "inverted", "noise"):
        others[f"non-digits: {kind}"] = list(odd[kinds == kind].reshape(-1, 28, 28))
    digits = {k: list(v.reshape(-1, 28, 28)) for k, v in digits.items()}
    return digits, others


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir")
    p.add_argument("--n", type=int, default=1000, help="test digits per noise")
    a = p.parse_args()

    from aekit import load_mnist, load_pretrained
    from aekit.denoising import UNFAMILIAR_PERCENTILE, repair

    model = load_pretrained("mnist-denoiser", device="cpu")
    Xt, _ = load_mnist("test", root=a.data_dir)
    digits, others = pictures(Xt, a.n)
    print(f"| pictures | warned (cleaned version reconstructed worse than "
          f"{UNFAMILIAR_PERCENTILE:g}% of the training images) |\n|---|---:|")
    for name, pics in {**digits, **others}.items():
        _, unfamiliar = repair(model, [np.asarray(x, np.float32) for x in pics])
        print(f"| {name} ({len(pics)}) | {100 * np.mean(unfamiliar > 1.0):.1f}% |", flush=True)


if __name__ == "__main__":
    main()
