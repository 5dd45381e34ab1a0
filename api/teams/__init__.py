"""Teams of technicians, each with a supervisor."""
