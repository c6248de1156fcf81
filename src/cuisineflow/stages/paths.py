"""Where the pipeline's stages read and write, relative to the project (dvc.yaml's paths).

Kept apart from the stages so that a stage reading another's output imports this, not the
other stage's code: a stage's code deps in dvc.yaml are what it imports.
"""

VALIDATED_DIR = "data/validated"
SPLIT_DIR = "data/split"
SPLITS = ("train", "valid", "test")
FEATURES_DIR = "data/features"
EVALUATED_MODEL_DIR = "models/evaluated"  # the fit that evaluate scores; refit serves another
REFERENCE_PROFILE = "models/reference_profile.json"
