"""Method 5: LITE-SNN, LIF networks for sequences.

``events_synth`` / ``events_dataset``: *synthetic* N-MNIST-like event streams from MNIST images
(saccades, a DVS pixel model, noise), event frames, a cached data set builder; ``events_models``:
the DIET-style conv SNN and the CNN+GRU baseline (experiment
:mod:`lava_thesis.experiments.lite_events`). ``text``: tokenizer, vocabulary and padding for
sentences. ``sentiment``: the LIF text classifier of the authors' code, RNN/LSTM/GRU baselines,
parameter counts and energy per inference (:mod:`lava_thesis.experiments.lite_sentiment`).
``attention``: attention pooling over time and a last-step readout for the same trunk;
``sequential``: MNIST read ``k`` pixels per step with a vanilla SNN, an SNN with attention and an
LSTM (the accuracy-vs-length studies :mod:`lava_thesis.experiments.lite_length` and
:mod:`lava_thesis.experiments.lite_length_smnist`). ``seq2seq_models``: the convolutional
encoder-decoder with attention, spiking (LIF) or ReLU, and an LSTM encoder-decoder, with parameter
counts and energy per sentence; ``seq2seq_decode``: greedy and beam-search decoding and
sacrebleu BLEU (:mod:`lava_thesis.experiments.lite_seq2seq`, Multi30k de->en).
"""
