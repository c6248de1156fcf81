"""Where the pipeline reads and writes, relative to the project (dvc.yaml's paths).

Kept apart from the code that writes them, so that a stage reading another's output imports
this, not that stage's code: a stage's code deps in dvc.yaml are what it imports.
"""

RAW_DIR = "data/raw"  # what `cuisineflow data import` fills and DVC tracks
VALIDATED_DIR = "data/validated"
SPLIT_DIR = "data/split"
SPLITS = ("train", "valid", "test")
FEATURES_DIR = "data/features"
EVALUATED_MODEL_DIR = "models/evaluated"  # the fit that evaluate scores; refit serves another
REFERENCE_PROFILE = "models/reference_profile.json"
PIPELINE_MODEL_DIR = "models/cuisine"  # the model `refit` writes and the pipeline serves
REGISTERED = "models/registered.json"  # which registry version the pipeline's model is
