"""The Open Inference Protocol (KServe V2): its request decoder, its answers and its routes."""
