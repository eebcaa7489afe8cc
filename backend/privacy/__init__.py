"""De-identification on the server: the authority for every note, comment and tag that leaves it."""
