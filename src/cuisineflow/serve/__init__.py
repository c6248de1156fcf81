"""The HTTP model server: FastAPI app factory, routes, the loaded model."""
