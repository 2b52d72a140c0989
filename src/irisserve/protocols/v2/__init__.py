"""The Open Inference Protocol (KServe V2): its codec and its routes."""
