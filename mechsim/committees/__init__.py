"""mechsim.committees (under construction)."""
