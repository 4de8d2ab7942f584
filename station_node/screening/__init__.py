"""Screening's pure core: text normalisation, the phrase vocabulary (data), and matching.

Nothing here touches the database, the clock or the network; the entry point that turns a
posting into hold reasons is station_node.services.screening.
"""
