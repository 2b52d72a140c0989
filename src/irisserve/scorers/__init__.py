"""Scorers: the one contract, the scikit-learn backend and the pickle-free fast path."""
