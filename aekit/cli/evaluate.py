"""`aekit evaluate PROTOCOL`: the evaluation protocols (docs/protocols.md), each beside its
baselines."""

import click

from . import LazyGroup

# protocol -> (module holding `command`, one-line help)
PROTOCOLS = {
    "oneclass": ("aekit.cli.evaluate_oneclass", "Protocol A: one-class MNIST anomaly detection (AUROC)."),
    "denoise": ("aekit.cli.evaluate_denoise", "Protocol D: denoising PSNR vs median filter and PCA (D2, photos: --images)."),
    "generative": ("aekit.cli.evaluate_generative", "Protocol G: a VAE's test NLL (IW bound) vs a factorised Bernoulli."),
    "impute": ("aekit.cli.evaluate_impute", "Missing-pixel RMSE: model vs mean and PCA imputation."),
    "probe": ("aekit.cli.evaluate_probe", "Protocol F: linear-probe accuracy of the codes vs PCA."),
    "reconstruction": ("aekit.cli.evaluate_reconstruction", "Protocol R: SSE per test image vs PCA."),
    "tables": ("aekit.cli.evaluate_tables", "Protocol T: anomaly detection on real tables (AUROC)."),
}


@click.group(cls=LazyGroup, commands=PROTOCOLS, section="Protocols")
def command():
    """Measure aekit by the protocols of docs/protocols.md, each beside its baselines."""
