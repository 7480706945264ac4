"""``lava-thesis train`` for the methods whose set-up is more than a config: LITE-SNN tasks and
the multimodal (image + FSDD audio) pairs."""

from __future__ import annotations

from pathlib import Path

import typer

from lava_thesis.cli_common import Dataset, Task, fail


def train_lite(task: Task, data_dir: Path | None, out: Path, model_dir: Path | None, *,
               epochs: int | None, seed: int, lava_samples: int | None,
               train_samples: int | None, test_samples: int | None,
               budget_cpu_s: float | None = None) -> dict:
    """LITE-SNN: the paper's LIF text network vs RNN, LSTM and GRU (sentiment); accuracy vs
    sequence length, vanilla SNN vs SNN with attention vs LSTM, on sentences followed by filler
    tokens (length) or on MNIST read k pixels per step (length-smnist); or a DIET-style
    convolutional SNN vs a CNN+GRU on synthetic N-MNIST-like events (events); Multi30k
    de->en, a convolutional SNN encoder-decoder with attention vs the same CNN with ReLU vs an
    LSTM, BLEU at an equal CPU budget (seq2seq)."""
    from lava_thesis.data.errors import DataFormatError, DataNotFoundError

    data = None if data_dir is None else str(data_dir)
    if task is Task.seq2seq and epochs is not None:
        fail("--epochs does not apply to --task seq2seq: its models train for an equal CPU "
              "budget (--budget-cpu-s)")
    if task is not Task.seq2seq and budget_cpu_s is not None:
        fail(f"--budget-cpu-s applies to --task seq2seq only, not {task.value}")
    if task is Task.sentiment:
        from lava_thesis.experiments.lite_sentiment import LiteSentimentConfig as Config
        from lava_thesis.experiments.lite_sentiment import run
        cfg = Config(seed=seed, out_dir=str(out), data_dir=data)
    elif task is Task.seq2seq:
        from lava_thesis.experiments.lite_seq2seq import LiteSeq2SeqConfig as Config
        from lava_thesis.experiments.lite_seq2seq import run
        cfg = Config(seed=seed, out_dir=str(out), data_dir=data)
        _override(cfg, subset=train_samples, test_subset=test_samples,
                  budget_cpu_s=budget_cpu_s)
    elif task is Task.length:
        from lava_thesis.experiments.lite_length import LiteLengthConfig as Config
        from lava_thesis.experiments.lite_length import run
        cfg = Config(seed=seed, out_dir=str(out), data_dir=data)
    elif task is Task.length_smnist:
        from lava_thesis.experiments.lite_length_smnist import LiteLengthSmnistConfig as Config
        from lava_thesis.experiments.lite_length_smnist import run
        cfg = Config(seed=seed, out_dir=str(out), data_dir=data)
        _override(cfg, train_samples=train_samples, test_samples=test_samples)
    else:
        from lava_thesis.experiments.lite_events import LiteEventsConfig as Config
        from lava_thesis.experiments.lite_events import run
        cfg = Config(seed=seed, out_dir=str(out), data_dir=data)
        _override(cfg, lava_samples=lava_samples, n_train=train_samples, n_test=test_samples,
                  model_dir=None if model_dir is None else str(model_dir))
    _override(cfg, epochs=epochs)
    try:
        return run(cfg, log=typer.echo)
    except (DataNotFoundError, DataFormatError) as err:
        fail(str(err))


def _override(cfg, **values) -> None:
    """Set the config fields given on the command line (those that are not None)."""
    for name, value in values.items():
        if value is not None:
            setattr(cfg, name, value)


def paired_data(train_data, test_data, data_dir: Path | None):
    """Images paired with FSDD utterances (our stand-in for TI46) for method 2."""
    from lava_thesis.data.errors import DataFormatError, DataNotFoundError
    from lava_thesis.experiments.multimodal import MultimodalData
    from lava_thesis.multimodal.features import fsdd_images

    try:
        audio_train, audio_test = fsdd_images("train", data_dir), fsdd_images("test", data_dir)
    except (DataNotFoundError, DataFormatError) as err:
        fail(str(err))
    return MultimodalData(train_data, test_data, audio_train, audio_test,
                          lambda snr: fsdd_images("test", data_dir, snr_db=snr)[0])


def train_multimodal(train_data, test_data, dataset: Dataset, data_dir: Path | None,
                     out: Path, model_dir: Path | None, *, n_exc: int, epochs: int, seed: int,
                     train_samples: int | None, lava_samples: int | None) -> dict:
    """Method 2: the image + audio ensembles on ``dataset`` images paired with FSDD."""
    from lava_thesis.experiments import multimodal as mm

    cfg = mm.MultimodalConfig(n_exc=n_exc, epochs=epochs, train_pairs=train_samples,
                              seed=seed, lava_pairs=100 if lava_samples is None
                              else lava_samples)
    name = dataset.value.replace("-", "_")
    return mm.run(paired_data(train_data, test_data, data_dir), out,
                  dataset=f"{dataset.value} + FSDD (stand-in for TI46)", config=cfg,
                  experiment=f"multimodal_{name}_fsdd_n{n_exc}", model_dir=model_dir,
                  log=typer.echo)
