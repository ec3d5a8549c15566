"""Protocol P (docs/protocols.md): aekit's speed, always beside a reference run.

    python scripts/bench.py --write BENCHMARKS.md        # everything (~20 min on 2 cores)
    python scripts/bench.py --quick                      # a smoke run, small sizes

Sections (each prints a Markdown table; --write replaces the text between the
``<!-- bench.py -->`` markers of the given file):

1. training throughput of ``Autoencoder(code_size=30, hidden=(1000, 500, 250),
   noise=None, batch_size=256, validation_fraction=0.0)`` vs a plain PyTorch loop of the same
   architecture that slices batches from one tensor; runs alternate, best of N;
2. PyOD's ``AutoEncoder`` vs ``aekit.AnomalyDetector`` on protocol A (same layer
   sizes, batch size and epochs): fit time and AUROC per digit (skipped when pyod
   is not installed: ``pip install pyod`` in the benchmark's environment only);
3. inference: ``reconstruct`` and ``score_samples`` vs the plain loop;
4. CLI start-up (``aekit --help``, ``aekit detect --help``: wall time, and whether
   torch got imported) and one ``aekit denoise`` end to end;
5. ``aekit detect`` on MNIST-pixel CSVs of 50k, 100k and 200k rows: rows/s and the
   peak RSS of the process.

Every ratio is measured in this one run, on the same data: the machine is shared,
so absolute seconds are noisy and only reported beside the ratios.
"""

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


# -- 1. training throughput ---------------------------------------------------
def plain_net(n_features, hidden, code, batch_norm=False):
    """What a user writes by hand: Linear(+BatchNorm)+ReLU stacks, Xavier init, a linear
    code."""
    import torch
    from torch import nn

    def stack(sizes):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers += [nn.BatchNorm1d(b), nn.ReLU()] if batch_norm else [nn.ReLU()]
        return nn.Sequential(*layers)

    net = nn.Sequential(stack([n_features, *hidden, code]), stack([code, *hidden[::-1], n_features]))
    for m in net.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return net.to(torch.float32)


def plain_fit(X, hidden, code, batch_size, epochs, device, batch_norm=False):
    """The reference loop: one tensor on the device, a permutation per epoch, slices."""
    import torch

    torch.manual_seed(0)
    net = plain_net(X.shape[1], hidden, code, batch_norm).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    data = torch.from_numpy(X).to(device)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="none")
    for _ in range(epochs):
        Xe = data[torch.randperm(len(data), device=device)]
        net.train()
        for s in range(0, len(Xe), batch_size):
            batch = Xe[s:s + batch_size]
            loss = loss_fn(net(batch), batch).sum(dim=1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    sync(device)
    return net


def sync(device):
    import torch

    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def bench_training(X, device, epochs, repeats):
    """The ratio of issue 21: 784-1000-500-250-30 with batch norm, batch 256, the input
    schema fitted inside ``fit``; the schema fit's own time beside it."""
    from aekit import Autoencoder
    from aekit.preprocessing import InputSchema

    hidden, code, bs = (1000, 500, 250), 30, 256
    n = len(X) * epochs

    def ours():
        Autoencoder(code_size=code, hidden=hidden, noise=None, batch_size=bs, batch_norm=True,
                    validation_fraction=0.0, epochs=epochs, dropout=0.0, device=device,
                    random_state=0).fit(X)
        sync(device)

    def plain():
        plain_fit(X, hidden, code, bs, epochs, device, batch_norm=True)

    def with_grid():  # what a detector's fit adds: one pass scoring the training rows
        Autoencoder(code_size=code, hidden=hidden, noise=None, batch_size=bs, batch_norm=True,
                    validation_fraction=0.0, epochs=epochs, dropout=0.0, device=device,
                    random_state=0).fit(X, score_quantiles=True)
        sync(device)

    times = {"aekit": [], "plain": [], "schema": [], "grid": []}
    for r in range(repeats):  # alternate, so that load drifts hit both alike
        for name, fn in (("aekit", ours), ("plain", plain), ("grid", with_grid),
                         ("schema", lambda: InputSchema.fit(X))):
            t, _ = timed(fn)
            times[name].append(t)
            print(f"  training {name:<6} run {r + 1}: {t:7.2f} s ({n / t:8.0f} samples/s)",
                  flush=True)
    best = {k: min(v) for k, v in times.items()}
    ratio = best["plain"] / best["aekit"]
    median_ratio = float(np.median(times["plain"]) / np.median(times["aekit"]))
    rows = [
        "| loop | best time (s) | samples/s |",
        "|---|---:|---:|",
        f"| plain PyTorch loop (slices of one tensor) | {best['plain']:.2f} | {n / best['plain']:,.0f} |",
        f"| `aekit.Autoencoder.fit` | {best['aekit']:.2f} | {n / best['aekit']:,.0f} |",
        f"| `aekit.Autoencoder.fit(X, score_quantiles=True)` (a detector's fit) | "
        f"{best['grid']:.2f} | {n / best['grid']:,.0f} |",
        "",
        f"**aekit / plain throughput: {ratio:.3f}x** on the best runs, {median_ratio:.3f}x on "
        f"the medians (target >= 0.9x; {len(X):,} MNIST training images x {epochs} epochs, "
        f"784-1000-500-250-30 with batch norm, batch 256, Adam; {repeats} alternating runs "
        "each; aekit's time includes its input checks, fitting the input schema and scaling; "
        "an autoencoder scores its training rows for a quantile grid only when asked, as a "
        "detector does, so that pass is not in it: the third row has it, "
        f"{best['plain'] / best['grid']:.3f}x). Fitting the input "
        f"schema alone: {best['schema']:.2f} s, **{100 * best['schema'] / best['aekit']:.1f}% "
        "of aekit's fit** (target < 5%).",
    ]
    return "\n".join(rows), ratio


# -- 2. PyOD --------------------------------------------------------------------
def bench_pyod(digits, epochs, device, data_dir):
    try:
        import pyod
        from pyod.models.auto_encoder import AutoEncoder as PyODAutoEncoder
    except ImportError:
        return ("PyOD is not installed in this environment: `pip install pyod` (benchmark "
                "only, not an aekit dependency) and rerun."), None
    from sklearn.metrics import roc_auc_score

    from aekit import AnomalyDetector, load_mnist

    Xtr, ytr = load_mnist("train", root=data_dir)
    Xte, yte = load_mnist("test", root=data_dir)
    Xtr, Xte = Xtr.astype(np.float32), Xte.astype(np.float32)
    rows = ["| digit | aekit AUROC % | PyOD AUROC % | aekit fit (s) | PyOD fit (s) |",
            "|---:|---:|---:|---:|---:|"]
    tot = {"aekit": [0.0, []], "pyod": [0.0, []]}
    for d in digits:
        X = Xtr[ytr == d]
        ours = AnomalyDetector(epochs=epochs, device=device, random_state=0)
        t_ours, _ = timed(lambda: ours.fit(X))
        a_ours = 100 * roc_auc_score(yte != d, -ours.score_samples(Xte))
        config = ours.networks_[0].config
        hidden_list = [*config.hidden, config.code_size]
        theirs = PyODAutoEncoder(hidden_neuron_list=hidden_list, epoch_num=epochs,
                                 batch_size=ours.training_summary_["batch_size"], device=device,
                                 random_state=0, verbose=0)
        t_theirs, _ = timed(lambda: theirs.fit(X))
        a_theirs = 100 * roc_auc_score(yte != d, theirs.decision_function(Xte))
        for k, t, a in (("aekit", t_ours, a_ours), ("pyod", t_theirs, a_theirs)):
            tot[k][0] += t
            tot[k][1].append(a)
        rows.append(f"| {d} | {a_ours:.2f} | {a_theirs:.2f} | {t_ours:.1f} | {t_theirs:.1f} |")
        print(f"  pyod digit {d}: aekit {a_ours:.2f} % in {t_ours:.1f} s, "
              f"PyOD {a_theirs:.2f} % in {t_theirs:.1f} s", flush=True)
    ma, mp = np.mean(tot["aekit"][1]), np.mean(tot["pyod"][1])
    rows.append(f"| **mean / total** | **{ma:.2f}** | **{mp:.2f}** | **{tot['aekit'][0]:.1f}** "
                f"| **{tot['pyod'][0]:.1f}** |")
    rows += ["", f"Both: layers 784-{'-'.join(map(str, hidden_list))} (mirrored decoder), "
             f"batch {ours.training_summary_['batch_size']}, {epochs} epochs; PyOD {pyod.__version__} "
             "otherwise at its defaults (dropout 0.2, batch norm, standardised inputs, "
             "MSE score), aekit at AnomalyDetector's defaults (relative score). "
             f"**aekit / PyOD fit time: {tot['aekit'][0] / tot['pyod'][0]:.2f}x; mean AUROC "
             f"{ma:.2f} vs {mp:.2f}.**"]
    return "\n".join(rows), (tot["aekit"][0] / tot["pyod"][0], ma, mp)


# -- 3. inference ---------------------------------------------------------------
def bench_inference(X, device, repeats):
    import torch

    from aekit import AnomalyDetector, Autoencoder

    ae = Autoencoder(code_size=30, hidden=(1000, 500, 250), noise=None, epochs=1, dropout=0.0,
                     validation_fraction=0.0, device=device, random_state=0).fit(X[:2048])
    det = AnomalyDetector(code_size=30, hidden=(1000, 500, 250), epochs=1, dropout=0.0,
                          validation_fraction=0.0, device=device, random_state=0).fit(X[:2048])
    plain = plain_net(X.shape[1], (1000, 500, 250), 30).to(device).eval()
    plain.load_state_dict({k.replace("encoder", "0").replace("decoder", "1"): v
                           for k, v in ae.net_.state_dict().items()})

    def plain_reconstruct():
        out = []
        with torch.inference_mode():
            for s in range(0, len(X), 4096):
                out.append(torch.sigmoid(plain(torch.from_numpy(X[s:s + 4096]).to(device))).cpu())
        return torch.cat(out).numpy()

    def plain_scores():
        out = []
        with torch.inference_mode():
            for s in range(0, len(X), 4096):
                t = torch.from_numpy(X[s:s + 4096]).to(device)
                out.append(((torch.sigmoid(plain(t)) - t) ** 2).mean(dim=1).cpu())
        return torch.cat(out).numpy()

    np.testing.assert_allclose(plain_reconstruct()[:100], ae.reconstruct(X[:100]), atol=1e-5)
    cases = [("reconstruct", lambda: ae.reconstruct(X), plain_reconstruct),
             ("score_samples", lambda: det.score_samples(X), plain_scores)]
    rows = ["| call | aekit (s) | plain (s) | aekit rows/s | aekit / plain throughput |",
            "|---|---:|---:|---:|---:|"]
    ratios = {}
    for name, ours, ref in cases:
        t = {"aekit": [], "plain": []}
        for _ in range(repeats):
            t["aekit"].append(timed(ours)[0])
            t["plain"].append(timed(ref)[0])
        a, p = min(t["aekit"]), min(t["plain"])
        ratios[name] = p / a
        rows.append(f"| `{name}` | {a:.3f} | {p:.3f} | {len(X) / a:,.0f} | {p / a:.3f}x |")
    rows += ["", f"{len(X):,} float32 MNIST rows, 784-1000-500-250-30; aekit and the plain "
             "loop both run 4,096-row batches under `torch.inference_mode()`; best of "
             f"{repeats}. `score_samples` includes the relative score's arithmetic."]
    return "\n".join(rows), ratios


# -- 4. CLI ---------------------------------------------------------------------
def aekit_cmd():
    """The installed console script, as a user runs it (else ``python -m aekit``)."""
    exe = shutil.which("aekit")
    return [exe] if exe else [sys.executable, "-m", "aekit"]


def bench_cli(repeats, tmp):
    probe = ("import sys, time; t = time.perf_counter(); from aekit.cli import main\n"
             "try:\n    main(%r)\nexcept SystemExit: pass\n"
             "print('TORCH' if 'torch' in sys.modules else 'NOTORCH', file=sys.stderr)")
    rows = ["| command | wall time (s), best of %d | torch imported |" % repeats,
            "|---|---:|---|"]
    worst = 0.0
    for args in (["--help"], ["detect", "--help"]):
        times, imported = [], None
        for _ in range(repeats):
            t, p = timed(lambda: subprocess.run(aekit_cmd() + args, capture_output=True))
            assert p.returncode == 0, p.stderr
            times.append(t)
        p = subprocess.run([sys.executable, "-c", probe % (args,)], capture_output=True, text=True)
        imported = "TORCH" in p.stderr.split()
        worst = max(worst, min(times))
        rows.append(f"| `aekit {' '.join(args)}` | {min(times):.3f} | {'yes' if imported else 'no'} |")
    for args, shown in (
        (["denoise", str(ROOT / "samples" / "noisy_7.png")], "denoise samples/noisy_7.png"),
        (["detect", str(ROOT / "samples" / "mnist_rows.csv"), "--label-column", "anomaly"],
         "detect samples/mnist_rows.csv --label-column anomaly"),
    ):
        out = Path(tmp) / ("clean.png" if args[0] == "denoise" else "scores.csv")
        args = args + ["-o", str(out)]
        times = []
        for _ in range(repeats):
            out.unlink(missing_ok=True)
            t, p = timed(lambda: subprocess.run(aekit_cmd() + args, capture_output=True))
            assert p.returncode == 0, p.stderr
            times.append(t)
        out.unlink(missing_ok=True)
        p = subprocess.run([sys.executable, "-c", probe % (args,)], capture_output=True, text=True)
        imported = "TORCH" in p.stderr.split()
        rows.append(f"| `aekit {shown} -o {out.name}` | {min(times):.3f} | "
                    f"{'yes' if imported else 'no'} |")
    rows += ["", f"`--help` target <= 0.5 s: slowest `--help` took {worst:.3f} s."]
    return "\n".join(rows), worst


# -- 5. detect scaling -----------------------------------------------------------
def write_pixel_csv(path, n_rows, data_dir):
    """n_rows MNIST test digits (repeated) as 0..255 integers with a header."""
    from aekit import load_mnist

    X, _ = load_mnist("test", root=data_dir)
    lines = [",".join(map(str, r)) for r in np.rint(X * 255).astype(np.uint8).tolist()]
    with open(path, "w") as f:
        f.write(",".join(f"px{i}" for i in range(X.shape[1])) + "\n")
        for i in range(n_rows):
            f.write(lines[i % len(lines)])
            f.write("\n")


def peak_rss_run(cmd):
    """Run cmd in a fresh wrapper process; return (wall s, peak RSS MiB of cmd)."""
    wrapper = ("import resource, subprocess, sys, time\n"
               "t = time.perf_counter()\n"
               "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
               "t = time.perf_counter() - t\n"
               "assert p.returncode == 0, p.stderr.decode()[-2000:]\n"
               "print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024


def bench_detect(sizes, tmp, data_dir, device):
    rows = ["| rows | CSV size (MB) | wall time (s) | rows/s | peak RSS (MiB) |",
            "|---:|---:|---:|---:|---:|"]
    rates, rss = [], []
    for n in sizes:
        csv = Path(tmp) / f"pixels_{n}.csv"
        write_pixel_csv(csv, n, data_dir)
        out = Path(tmp) / "scores.csv"
        t, m = peak_rss_run(aekit_cmd() + ["detect", str(csv), "-o", str(out),
                                           "--device", device])
        with open(out) as f:
            scored = sum(1 for _ in f) - 1
        assert scored == n, (scored, n)
        rates.append(n / t)
        rss.append(m)
        rows.append(f"| {n:,} | {csv.stat().st_size / 1e6:,.0f} | {t:.1f} | {n / t:,.0f} | {m:,.0f} |")
        print(f"  detect {n} rows: {t:.1f} s, {n / t:.0f} rows/s, peak RSS {m:.0f} MiB", flush=True)
        csv.unlink()
    rows += ["", "`aekit detect pixels.csv -o scores.csv` with the bundled mnist-detector "
             "(784 columns of 0..255 integers, MNIST test digits repeated), wall time of the "
             "whole command including start-up; peak RSS of the detect process "
             f"(`getrusage`). Slowest: {min(rates):,.0f} rows/s (target >= 20,000); peak RSS "
             f"{min(rss):,.0f}-{max(rss):,.0f} MiB (target: flat, <= 1,024)."]
    return "\n".join(rows), (min(rates), max(rss))


def replace_section(path, text):
    start, end = "<!-- bench.py:start -->", "<!-- bench.py:end -->"
    doc = Path(path).read_text()
    block = f"{start}\n{text}\n{end}"
    if start in doc:
        doc = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    tmp = Path(path).with_suffix(".tmp")
    tmp.write_text(doc)
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu", help="cpu, cuda, ... (default cpu)")
    p.add_argument("--quick", action="store_true", help="small sizes: checks the script runs")
    p.add_argument("--only", default="training,pyod,inference,cli,detect",
                   help="comma-separated sections to run")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--write", default=None, help="a Markdown file whose bench.py section to replace")
    a = p.parse_args()

    import torch

    from aekit import load_mnist

    only = set(a.only.split(","))
    q = a.quick
    X, _ = load_mnist("train", root=a.data_dir)
    X = np.ascontiguousarray(X[: 2048 if q else 20_000], dtype=np.float32)
    cpu = platform.processor() or platform.machine()
    device_name = (torch.cuda.get_device_name(torch.device(a.device))
                   if a.device.startswith("cuda") else f"CPU ({os.cpu_count()} cores, {cpu})")
    cmd = "python scripts/bench.py" + (f" --device {a.device}" if a.device != "cpu" else "") \
        + (f" --only {a.only}" if a.only != p.get_default("only") else "") \
        + (f" --write {a.write}" if a.write else "") + (" --quick" if q else "")
    parts = [f"Produced by `{cmd}` on {time.strftime('%Y-%m-%d')}: {device_name}, torch "
             f"{torch.__version__}, {torch.get_num_threads()} torch threads, Python "
             f"{platform.python_version()}."]
    with tempfile.TemporaryDirectory() as tmp:
        if "training" in only:
            print("training throughput", flush=True)
            text, _ = bench_training(X, a.device, epochs=1 if q else 2, repeats=2 if q else 5)
            parts += ["### Training throughput", text]
        if "pyod" in only:
            print("PyOD comparison (protocol A)", flush=True)
            text, _ = bench_pyod([0, 1] if q else list(range(10)), 1 if q else 10, a.device,
                                 a.data_dir)
            parts += ["### vs PyOD's AutoEncoder (protocol A)", text]
        if "inference" in only:
            print("inference", flush=True)
            text, _ = bench_inference(X, a.device, repeats=3 if q else 5)
            parts += ["### Inference", text]
        if "cli" in only:
            print("CLI start-up", flush=True)
            text, _ = bench_cli(2 if q else 5, tmp)
            parts += ["### CLI start-up", text]
        if "detect" in only:
            print("aekit detect scaling", flush=True)
            text, _ = bench_detect([2_000, 4_000] if q else [50_000, 100_000, 200_000], tmp,
                                   a.data_dir, a.device)
            parts += ["### `aekit detect` on large CSVs", text]
    report = "\n\n".join(parts)
    print("\n" + report)
    if a.write:
        replace_section(a.write, report)
        print(f"\nwrote the bench.py section of {a.write}")


if __name__ == "__main__":
    main()
