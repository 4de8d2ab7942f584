"""What the station and the hub share and is not protocol: typed-character rules, clocks, the
sign-in limit policy and strict JSON body parsing. Imports neither app; both apps import it."""
