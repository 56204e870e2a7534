"""The measuring core shared by the bench and the probe."""
