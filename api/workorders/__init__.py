"""Work orders: the job a technician does at a site, and its life as a state machine."""
