"""Hypothesis strategies for property-testing mechanisms (see mechsim.testing.core)."""
