"""The wire formats: native JSON, KServe V1 / Vertex AI, Open Inference Protocol V2, events."""
