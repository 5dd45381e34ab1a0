"""Service desk: business calendars and SLA clocks (issue 14)."""
