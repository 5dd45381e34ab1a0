"""The day plan over HTTP: gather a day's jobs and technicians, optimise, apply."""
