"""GPS positions: the trail store, the current position, and their HTTP face (dispatch/ decides)."""
