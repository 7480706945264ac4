"""Method 2 (in progress, issue #4): the audio front end and image/audio pairing for the
multimodal STDP network."""
