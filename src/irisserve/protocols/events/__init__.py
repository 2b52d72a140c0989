"""Pub/Sub push and Eventarc CloudEvents: decode, decide, publish, acknowledge."""
