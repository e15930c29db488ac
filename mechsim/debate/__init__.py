"""mechsim.debate (under construction)."""
