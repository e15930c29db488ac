"""mechsim.hiring (under construction)."""
