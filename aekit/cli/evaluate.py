"""`aekit evaluate PROTOCOL`: the protocols of PROTOCOLS.md, autoencoder beside PCA."""

import importlib

import click

# protocol -> (module holding `command`, one-line help)
PROTOCOLS = {
    "oneclass": ("aekit.cli.evaluate_oneclass", "Protocol A: one-class MNIST anomaly detection (AUROC)."),
    "denoise": ("aekit.cli.evaluate_denoise", "Protocol D: denoising PSNR vs median filter and PCA."),
    "impute": ("aekit.cli.evaluate_impute", "Missing-pixel RMSE: model vs mean and PCA imputation."),
    "probe": ("aekit.cli.evaluate_probe", "Protocol F: linear-probe accuracy of the codes vs PCA."),
    "reconstruction": ("aekit.cli.evaluate_reconstruction", "Protocol R: SSE per test image vs PCA."),
}


class _Protocols(click.Group):
    def list_commands(self, ctx):
        return [n for n, (m, _) in PROTOCOLS.items() if importlib.util.find_spec(m)]

    def get_command(self, ctx, name):
        if name not in self.list_commands(ctx):
            return None
        return importlib.import_module(PROTOCOLS[name][0]).command

    def format_commands(self, ctx, formatter):
        rows = [(n, PROTOCOLS[n][1]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Protocols"):
                formatter.write_dl(rows)


@click.group(cls=_Protocols)
def command():
    """Measure aekit by the protocols in PROTOCOLS.md, each beside its PCA baseline."""


import importlib.util  # noqa: E402
