"""Sites: the places technicians go, each belonging to a customer."""
