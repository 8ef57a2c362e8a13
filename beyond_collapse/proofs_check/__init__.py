"""Every checkable claim of the paper as an object with a check and a recorded status."""
