"""Minibatch training for any model with cs231n's interface.

A model has ``params`` (a dict of arrays) and ``loss(X, y=None)``, which returns
scores when y is None and (loss, grads) otherwise.
"""

import sys

import numpy as np
from tqdm import tqdm

from ._threads import single_blas_thread
from .optim import UPDATE_RULES


class Solver:
    """Train a model with SGD, SGD with momentum or Adam, and keep its history.

    Example::

        solver = Solver(model, data, update_rule="adam",
                        optim_config={"learning_rate": 1e-3}, num_epochs=5)
        solver.train()
        plt.plot(solver.loss_history)

    After train():
    - loss_history: the loss of every iteration;
    - train_acc_history, val_acc_history: the accuracies at the end of every epoch
      (train accuracy on a sample of ``num_train_samples`` training inputs);
    - best_val_acc, best_params: the best epoch's; model.params is set to them.
    """

    def __init__(self, model, data, update_rule="sgd", optim_config=None, lr_decay=1.0,
                 batch_size=100, num_epochs=10, num_train_samples=1000, num_val_samples=None,
                 print_every=None, verbose=False, progress=True, seed=0):
        """
        Inputs:
        - model: object with ``params`` and ``loss(X, y=None)``.
        - data: dict with X_train, y_train, X_val, y_val.
        - update_rule: "sgd", "sgd_momentum", "adam", or a function with the
          ``next_w, config = rule(w, dw, config)`` contract of conv_lib.optim.
        - optim_config: hyperparameters for the rule, e.g. {"learning_rate": 1e-3}.
        - lr_decay: the learning rate is multiplied by this after each epoch.
        - batch_size, num_epochs: minibatch size and passes over the training set.
        - num_train_samples, num_val_samples: how many inputs the per-epoch
          accuracies are measured on (None: all).
        - print_every: print the loss every this many iterations (None: never).
        - verbose: print the accuracies after every epoch.
        - progress: show a progress bar (on stdout, so graded cells stay clean).
        - seed: seed for minibatch sampling, for repeatable runs.
        """
        missing = [k for k in ("X_train", "y_train", "X_val", "y_val") if k not in data]
        if missing:
            raise ValueError(f"data is missing {missing}; it needs X_train, y_train, X_val, y_val")
        if callable(update_rule):
            self.update_rule = update_rule
        elif update_rule in UPDATE_RULES:
            self.update_rule = UPDATE_RULES[update_rule]
        else:
            raise ValueError(
                f"update_rule must be one of {sorted(UPDATE_RULES)} or a function, got {update_rule!r}"
            )
        self.model = model
        self.X_train, self.y_train = data["X_train"], data["y_train"]
        self.X_val, self.y_val = data["X_val"], data["y_val"]
        self.optim_config = dict(optim_config or {})
        self.lr_decay = lr_decay
        self.batch_size = batch_size
        self.num_epochs = num_epochs
        self.num_train_samples = num_train_samples
        self.num_val_samples = num_val_samples
        self.print_every = print_every
        self.verbose = verbose
        self.progress = progress
        self.rng = np.random.default_rng(seed)
        self._reset()

    def _reset(self):
        self.epoch = 0
        self.best_val_acc = 0.0
        self.best_params = {}
        self.loss_history = []
        self.train_acc_history = []
        self.val_acc_history = []
        self.optim_configs = {k: dict(self.optim_config) for k in self.model.params}

    def _step(self):
        batch = self.rng.choice(len(self.X_train), self.batch_size)
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        self.loss_history.append(float(loss))
        for name, w in self.model.params.items():
            next_w, self.optim_configs[name] = self.update_rule(
                w, grads[name], self.optim_configs[name]
            )
            self.model.params[name] = next_w

    @single_blas_thread
    def check_accuracy(self, X, y, num_samples=None, batch_size=100):
        """Fraction of X the model classifies as y (on a random sample of
        ``num_samples`` inputs when given), computed in batches to bound memory."""
        if num_samples is not None and len(X) > num_samples:
            keep = self.rng.choice(len(X), num_samples, replace=False)
            X, y = X[keep], y[keep]
        predictions = [
            np.argmax(self.model.loss(X[i:i + batch_size]), axis=1)
            for i in range(0, len(X), batch_size)
        ]
        return float(np.mean(np.concatenate(predictions) == y)) if len(X) else 0.0

    def _end_epoch(self, bar):
        self.epoch += 1
        for config in self.optim_configs.values():
            config["learning_rate"] = config.get("learning_rate", 1e-2) * self.lr_decay
        train_acc = self.check_accuracy(self.X_train, self.y_train, self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val, self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if bar is not None:
            bar.set_postfix(loss=f"{self.loss_history[-1]:.3f}", val_acc=f"{val_acc:.3f}")
        if self.verbose:
            tqdm.write(f"(epoch {self.epoch} / {self.num_epochs}) train acc: {train_acc:.3f}; "
                       f"val acc: {val_acc:.3f}", file=sys.stdout)
        if val_acc > self.best_val_acc or not self.best_params:
            self.best_val_acc = val_acc
            self.best_params = {k: v.copy() for k, v in self.model.params.items()}

    @single_blas_thread  # minibatch products are small: see conv_lib._threads
    def train(self):
        """Run the optimisation, then keep the parameters of the best epoch."""
        per_epoch = max(len(self.X_train) // self.batch_size, 1)
        total = per_epoch * self.num_epochs
        bar = tqdm(total=total, file=sys.stdout, unit="it", desc="training",
                   disable=not self.progress, dynamic_ncols=True, mininterval=0.5)
        try:
            for t in range(total):
                self._step()
                bar.update(1)
                if self.print_every and t % self.print_every == 0:
                    tqdm.write(f"(iteration {t + 1} / {total}) loss: {self.loss_history[-1]:.6f}",
                              file=sys.stdout)
                if (t + 1) % per_epoch == 0:
                    self._end_epoch(bar)
        finally:
            bar.close()
        self.model.params = self.best_params
        return self
