"""One thin run() per DVC stage: load, call the library, write outputs and metrics."""
