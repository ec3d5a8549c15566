"""The network and its training, apart from any estimator or file format.

- :mod:`aekit.nn.config`: :class:`ModelConfig`, the architecture as a dataclass (no torch).
- :mod:`aekit.nn.network`: :class:`AutoencoderNet`, the torch network built from it.
- :mod:`aekit.nn.numpy_network`: the same dense network's forward pass in numpy, for
  scoring without importing torch; tests hold the two to each other.
- :mod:`aekit.nn.noise`: the input corruptions of denoising training (and `aekit noise`).
- :mod:`aekit.nn.training`: :class:`Trainer`, the loop (mini-batches, early stopping,
  learning-rate schedules, checkpoints) on tensors already scaled for the network.
- :mod:`aekit.nn.fitting`: :func:`fit_network`, what an estimator calls to train one
  network on a numpy array (seeding, validation split, progress), and
  :func:`run_in_batches`, to apply a trained network to a large array.

Nothing here imports the estimators, the model-file format or the command line.
"""
