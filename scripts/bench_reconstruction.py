"""Protocol R (docs/protocols.md): SSE per test image at code size k, autoencoder vs PCA.

    python scripts/bench_reconstruction.py --code-size 30 --hidden 1000,500,250 --epochs 40
    python scripts/bench_reconstruction.py --batch-norm --lr-schedule onecycle --lr 3e-3
"""

import argparse
import json

from aekit import Autoencoder
from aekit.evaluation.reconstruction import reconstruction


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--code-size", type=int, default=30)
    p.add_argument("--hidden", default="1000,500,250")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-norm", action="store_true")
    p.add_argument("--lr-schedule", default="plateau", choices=["plateau", "onecycle"])
    p.add_argument("--patience", type=int, default=8)
    p.add_argument("--validation-fraction", type=float, default=0.1,
                   help="held out for early stopping / best-epoch choice; 0 trains on all 60,000")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--save", default=None, help="write the fitted model here")
    p.add_argument("--json", default=None, help="write the figures here as JSON")
    a = p.parse_args()
    hidden = tuple(int(h) for h in a.hidden.split(","))
    ae = Autoencoder(code_size=a.code_size, hidden=hidden, noise=None, epochs=a.epochs, batch_size=a.batch_size,
                     lr=a.lr, batch_norm=a.batch_norm, lr_schedule=a.lr_schedule, patience=a.patience,
                     validation_fraction=a.validation_fraction, random_state=a.seed,
                     verbose=1)
    result = reconstruction(ae, data_dir=a.data_dir)
    print(result.table(), flush=True)
    if a.save:
        ae.save(a.save)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({**result.__dict__, "args": vars(a)}, f, indent=1)


if __name__ == "__main__":
    main()
