"""Method 5 (in progress, issue #7): LITE-SNN groundwork.

``events_synth`` / ``events_dataset``: *synthetic* N-MNIST-like event streams from MNIST images
(saccades, a DVS pixel model, noise), event frames, a cached data set builder. ``text``:
tokenizer, vocabulary and padding for sentences. ``sentiment``: the LIF text classifier of the
authors' code, RNN/LSTM/GRU baselines, parameter counts and energy per inference
(the experiment is :mod:`lava_thesis.experiments.lite_sentiment`). ``seq2seq_models``: the
convolutional encoder-decoder with attention, spiking (LIF) or ReLU, and an LSTM encoder-decoder,
with parameter counts and energy per sentence; ``seq2seq_decode``: greedy decoding and sacrebleu
BLEU (the experiment is :mod:`lava_thesis.experiments.lite_seq2seq`, Multi30k de->en).
"""
