"""R1 endpoints grouped by area; `R1Client` mixes them all in."""
