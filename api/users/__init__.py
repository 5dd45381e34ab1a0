"""Users: the people who log in (admins, dispatchers, technicians, customer contacts)."""
