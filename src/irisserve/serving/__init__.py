"""WSGI handling, routing, request context, logs, the error table, the process's state."""
