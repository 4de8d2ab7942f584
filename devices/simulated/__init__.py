"""Simulated devices that speak the real wire protocols, for tests and the demo."""
