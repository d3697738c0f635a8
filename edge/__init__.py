"""Store-side producers: the camera agent (later) and the demo simulator that stands in for it."""
