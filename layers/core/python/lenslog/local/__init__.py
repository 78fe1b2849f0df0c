"""The embedded AWS (moto server on loopback), the local worker and the sample set."""
