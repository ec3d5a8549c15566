"""`aekit evaluate probe`: protocol F, linear-probe accuracy of the codes vs PCA."""

import click

from .options import (
    IMAGE_SUFFIXES, IntList, IntRange, check_output_kind, check_outputs, data_dir_option,
    device_option, write_json, SEED)


@click.command()
@data_dir_option
@click.option("--sizes", type=IntList(1, 784), default="2,32", show_default=True,
              help="Code sizes k to compare.")
@click.option("--limit", type=IntRange(min=10),
              help="Fit on the first N training images only (a quick look; the protocol uses all).")
@click.option("--epochs", type=IntRange(min=1),
              help="Override the Autoencoder's default maximum epochs (the protocol uses the default).")
@click.option("--seed", type=SEED, default=0, show_default=True)
@device_option
@click.option("--plot", type=click.Path(dir_okay=False), default="probe_latent.png",
              show_default=True, help="PNG with the 2-D maps of the test codes, "
              "autoencoder beside PCA.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False),
              help="Also write the results as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars.")
def command(data_dir, sizes, limit, epochs, seed, device, plot, json_out, quiet):
    """Protocol F: how well a linear classifier reads the digit from the codes.

    For each k: fit Autoencoder(code_size=k) (default settings) and PCA(k) on
    the MNIST training images without labels, encode train and test, fit
    StandardScaler + LogisticRegression(max_iter=2000) on the training codes
    and report the test accuracy. Writes the 2-D maps of the test codes of
    both as one PNG.

    \b
    Examples:
      aekit evaluate probe                          # the full protocol (minutes)
      aekit evaluate probe --limit 5000 --epochs 5  # a quick look
    """
    check_outputs((("--plot", plot), ("--json", json_out)))
    check_output_kind(plot, IMAGE_SUFFIXES, "PNG pictures")
    if limit and max(sizes) > limit:  # PCA(k) needs at least k images
        raise click.BadParameter(f"--sizes {max(sizes)} needs at least {max(sizes)} training "
                                 f"images; --limit gives {limit}", param_hint="'--limit'")
    run(data_dir, sizes, limit, epochs, seed, device, plot, json_out, quiet)


REFERENCES = "references (docs/protocols.md F): PCA-32 90.1%, PCA-2 44.6%, raw pixels (784-d) 92.2%"


def run(data_dir, sizes, limit, epochs, seed, device, plot, json_out, quiet):
    from ..datasets import load_mnist
    from ..evaluation.probe import plot_latent_maps, run_probe

    X, y = load_mnist("train", root=data_dir)
    X_test, y_test = load_mnist("test", root=data_dir)
    if limit:
        X, y = X[:limit], y[:limit]
    params = {"device": device, "verbose": 0 if quiet else 1}
    if epochs:
        params["epochs"] = epochs
    sizes = sorted(set(sizes))
    click.echo(f"Protocol F on MNIST: encoders fitted on {len(X)} training images (labels "
               f"unused), probe tested on {len(X_test)} test images", err=True)
    if limit or epochs:
        click.echo("note: --limit/--epochs make this a quick check, not protocol F", err=True)

    def report(r):
        extra = f", {r.details['epochs']} epochs" if r.method == "autoencoder" else ""
        click.echo(f"  k={r.k:<3} {r.method:<11} test accuracy {100 * r.accuracy:5.1f}%  "
                   f"(encoder fitted in {r.fit_seconds:.0f} s{extra})", err=True)

    results = run_probe(X, y, X_test, y_test, sizes=sizes, random_state=seed, params=params,
                        on_result=report)
    by = {(r.method, r.k): r for r in results}
    click.echo(f"Linear probe (StandardScaler + LogisticRegression) test accuracy, "
               f"{len(X)} train / {len(X_test)} test images")
    click.echo(f"{'k':>4}  {'autoencoder':>11}  {'PCA':>6}  {'AE fit (s)':>10}")
    for k in sizes:
        ae, pca = by[("autoencoder", k)], by[("pca", k)]
        click.echo(f"{k:>4}  {100 * ae.accuracy:10.1f}%  {100 * pca.accuracy:5.1f}%  "
                   f"{ae.fit_seconds:10.0f}")
    click.echo(REFERENCES)

    panels = [(f"autoencoder, k={k}" + (" (PCA of the codes)" if k > 2 else ""),
               by[("autoencoder", k)].test_codes) for k in sizes]
    panels.append(("PCA, first two components", by[("pca", max(sizes))].test_codes))
    plot_latent_maps(panels, plot, labels=y_test,
                     title="MNIST test images in 2-D, coloured by digit")
    click.echo(f"wrote {plot}", err=True)
    if json_out:
        doc = {"protocol": "F", "n_train": int(len(X)), "n_test": int(len(X_test)),
               "seed": seed, "epochs_override": epochs,
               "results": [{"method": r.method, "k": r.k, "accuracy": round(r.accuracy, 4),
                            "fit_seconds": r.fit_seconds, **r.details} for r in results]}
        write_json(json_out, doc)
