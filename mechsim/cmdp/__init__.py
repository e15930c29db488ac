"""mechsim.cmdp (under construction)."""
