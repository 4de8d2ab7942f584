"""Device-side processes: each drives one piece of station hardware and talks to the station
only over its HTTP API with the device's paired token (nothing here imports `station_node`)."""
