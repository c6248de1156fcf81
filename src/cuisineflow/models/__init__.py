"""Model construction, training, evaluation (pure) and export to the serving format."""
