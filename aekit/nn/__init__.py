"""The network and its training, apart from any estimator or file format.

- :mod:`aekit.nn.config`: :class:`ModelConfig`, the architecture as a dataclass (no torch).
- :mod:`aekit.nn.network`: :class:`AutoencoderNet`, the torch network built from it.
- :mod:`aekit.nn.numpy_network`: the same dense network's forward pass in numpy, for
  scoring without importing torch; tests hold the two to each other.
- :mod:`aekit.nn.noise`: the input corruptions of denoising training (and `aekit noise`).
- :mod:`aekit.nn.training`: :class:`Trainer`, the loop (mini-batches, early stopping,
  learning-rate schedules, checkpoints) on tensors already scaled for the network.
- :mod:`aekit.nn.fitting`: :func:`fit_network`, what an estimator calls to train one
  network on a numpy array (seeding, validation split, progress, trimming).
- :mod:`aekit.nn.engine`: :class:`TorchEngine`, a trained network applied to a large
  numpy array batch by batch (the torch scoring engine).
- :mod:`aekit.nn.vae`: the variational autoencoder's network, its bounds (ELBO, the
  importance-weighted bound) and its training objective.
- :mod:`aekit.nn.process_group`: the ``torch.distributed`` process group of a
  ``torchrun`` launch.

Nothing here imports the estimators, the model-file format or the command line; the
only aekit modules below it are :mod:`aekit.scores` and :mod:`aekit.errors`.
"""
