"""The dispatch board: open work orders and technicians as the console's map and list show them."""
