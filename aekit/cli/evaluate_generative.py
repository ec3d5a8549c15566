"""`aekit evaluate generative`: protocol G, a VAE's test NLL beside a factorised Bernoulli."""

import click

from .options import (
    IntRange, check_outputs, data_dir_option, device_option, model_option, write_json)


@click.command()
@model_option(default_help="mnist-vae")
@click.option("-k", "--samples", "k", type=IntRange(min=1), default=5000,
              show_default=True, help="Importance samples per test image (protocol G: 5000).")
@click.option("--limit", type=IntRange(min=1), default=None,
              help="Score only the first N test images: a quick estimate, not protocol G.")
@data_dir_option
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None,
              help="Also write the figures as JSON here.")
@device_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def command(model, k, limit, data_dir, json_out, device, quiet):
    """Protocol G: the test negative log-likelihood of a VAE of MNIST, in nats per image.

    The 10,000 MNIST test images, binarised once (seed 0), are scored by the
    model's importance-weighted bound with k samples each (Burda et al. 2016);
    beside it: its ELBO, a factorised Bernoulli fitted to the training pixels
    (no network), the active latent units, and the published references.
    A smaller -k or --limit gives a quicker estimate, labelled as such.
    Time grows with k x images (k = 5000 on all images: about half an hour on
    one CPU core for the bundled 784-512-256-32 model).

    \b
    Examples:
      aekit evaluate generative                    # protocol G on mnist-vae
      aekit evaluate generative -k 500 --limit 1000
      aekit evaluate generative -m vae.safetensors --json g.json
    """
    import numpy as np

    from ..datasets import load_mnist
    from ..evaluation.generative import check_protocol_model, evaluate_generative
    from ..loading import load

    check_outputs((("--json", json_out),))
    vae = load(model or "mnist-vae", device=device)
    if not hasattr(vae, "sample"):
        raise click.UsageError(f"{model} is not a variational autoencoder (aekit train "
                               "--objective vae makes one)")
    try:
        check_protocol_model(vae)  # before MNIST is read
    except ValueError as e:
        raise click.ClickException(f"{model}: {e}") from None
    X, _ = load_mnist("train", root=data_dir)
    X_test, _ = load_mnist("test", root=data_dir)
    X_test = X_test[:limit]
    bar = None
    if not quiet:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(X_test), unit="image", desc=f"IW bound, k={k}")
    done = [0]

    def progress(n):
        if bar is not None:
            bar.update(n - done[0])
        done[0] = n

    try:
        r = evaluate_generative(vae, np.asarray(X), X_test, k=k, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    label = "protocol G" if r.protocol else \
        f"quick estimate, not protocol G (k={r.k}, {r.n_test} test images)"
    click.echo(f"{label}: test NLL {r.nll:.2f} nats per image (IW bound, k={r.k}, "
               f"{r.n_test} binarised test images, seed 0)")
    click.echo(f"  NLL bound from the ELBO {-r.elbo:.2f} nats (ELBO {r.elbo:.2f}); factorised "
               f"Bernoulli {r.baseline:.2f}; active latent units {r.active} of {r.latent}; "
               f"{r.seconds:.0f} s")
    click.echo("  references (Burda et al. 2016, NLL): " + ", ".join(
        f"{name} {v}" for name, v in r.references.items()))
    if json_out:
        write_json(json_out, r.to_json())
